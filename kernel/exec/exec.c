/* Starting the application (exec/exec.h): find the program, follow a "#!"
 * line, create the process, map the executable and its dynamic linker, the
 * vDSO and the stack, then start the main thread in ring 3. */
#include "exec/exec.h"
#include "arch/cpu.h"
#include "arch/fpu.h"
#include "arch/layout.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "exec/load.h"
#include "exec/stack.h"
#include "exec/vdso.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/namei.h"
#include "fs/random.h"
#include "fs/uapi.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

#define EXEC_PATH_MAX 4096
#define EXEC_MAX_SCRIPT_DEPTH 4
#define EXEC_MAX_WORDS 512
#define DYN_BASE 0x555555554000ull     /* where Linux puts a PIE without ASLR */
#define STACK_INITIAL (128ul * 1024)   /* mapped at start; it grows on faults */
#define STACK_STRINGS_MAX (256ul * 1024)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct exec_ctx {
    const char *argv[EXEC_MAX_WORDS + 1];
    unsigned argc;
    const char *envp[EXEC_MAX_WORDS + 1];
    unsigned envc;
    char path[EXEC_PATH_MAX];          /* the file being run */
    char interp_line[256];             /* a "#!" line, cut into words */
    char elf_interp[ELF_INTERP_MAX];
    char *err;
    size_t errlen;
};

static int fail(struct exec_ctx *c, int e, const char *fmt, ...) __printf(3, 4);
static int fail(struct exec_ctx *c, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return e;
}

static const char *env_get(const struct exec_ctx *c, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < c->envc; i++)
        if (!strncmp(c->envp[i], name, n) && c->envp[i][n] == '=')
            return c->envp[i] + n + 1;
    return NULL;
}

/* A name without a slash is looked up in $PATH, as execvp does. */
static int resolve_program(struct exec_ctx *c, const char *name)
{
    if (!*name)
        return fail(c, -ENOENT, "cannot run an empty program name");
    if (strchr(name, '/')) {
        if (strlcpy(c->path, name, sizeof(c->path)) >= sizeof(c->path))
            return fail(c, -ENAMETOOLONG, "program path too long");
        return 0;
    }
    const char *path = env_get(c, "PATH");
    for (const char *p = path ? path : DEFAULT_PATH; *p;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(c->path, sizeof(c->path), "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", name);
        struct kstat st;
        if (vfs_stat_kernel(c->path, 0, &st) == 0 && S_ISREG(st.mode))
            return 0;
        p += dlen + (colon ? 1 : 0);
    }
    return fail(c, -ENOENT, "cannot run %s: not found in PATH (%s)", name, path ? path : DEFAULT_PATH);
}

static int open_program(struct exec_ctx *c, const char *path, struct file **f, uint64_t *size)
{
    struct kstat st;
    int e = vfs_stat_kernel(path, 0, &st);
    if (e)
        return fail(c, e, "cannot run %s: %s", path, e == -ENOENT ? "no such file" : errno_name(e));
    if (S_ISDIR(st.mode))
        return fail(c, -EACCES, "cannot run %s: it is a directory", path);
    if (!S_ISREG(st.mode))
        return fail(c, -EACCES, "cannot run %s: not a regular file", path);
    if (!(st.mode & 0111))
        return fail(c, -EACCES, "cannot run %s: not executable (mode %o)", path, st.mode & 07777);
    e = vfs_open_kernel(path, O_RDONLY, f);
    if (e)
        return fail(c, e, "cannot open %s: %s", path, errno_name(e));
    *size = st.size;
    return 0;
}

/* "#!interp [arg]": the program becomes interp [arg] path args... */
static int apply_script(struct exec_ctx *c, struct file *f)
{
    char line[sizeof(c->interp_line)];
    ssize_t n = vfs_pread_kernel(f, line, sizeof(line) - 1, 0);
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return 1; /* not a script */
    line[n] = '\0';
    char *nl = strchr(line, '\n');
    if (!nl && n == (ssize_t)sizeof(line) - 1)
        return fail(c, -ENOEXEC, "cannot run %s: its #! line is too long", c->path);
    if (nl)
        *nl = '\0';
    memcpy(c->interp_line, line, sizeof(line));
    char *p = c->interp_line + 2;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return fail(c, -ENOEXEC, "cannot run %s: empty #! line", c->path);
    char *interp = p, *arg = NULL;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p) {
        *p++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) { /* Linux passes the rest of the line as one argument */
            arg = p;
            char *end = arg + strlen(arg);
            while (end > arg && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                *--end = '\0';
        }
    }
    unsigned extra = arg ? 2 : 1;
    if (c->argc + extra > EXEC_MAX_WORDS)
        return fail(c, -E2BIG, "too many arguments");
    memmove(&c->argv[extra + 1], &c->argv[1], (c->argc - 1) * sizeof(char *));
    char *script = kmalloc(strlen(c->path) + 1);
    if (!script)
        return -ENOMEM;
    strlcpy(script, c->path, strlen(c->path) + 1);
    c->argv[0] = interp;
    if (arg)
        c->argv[1] = arg;
    c->argv[extra] = script;
    c->argc += extra;
    c->argv[c->argc] = NULL;
    if (strlcpy(c->path, interp, sizeof(c->path)) >= sizeof(c->path))
        return fail(c, -ENAMETOOLONG, "interpreter path too long");
    return 0;
}

static uint64_t random_pages(bool aslr, unsigned bits)
{
    return aslr ? (random_u64() & ((1ull << bits) - 1)) * PAGE_SIZE : 0;
}

/* Open the program, following up to four levels of "#!" scripts. */
static int open_following_scripts(struct exec_ctx *c, struct file **f, uint64_t *size)
{
    for (int depth = 0;; depth++) {
        int e = open_program(c, c->path, f, size);
        if (e)
            return e;
        int r = apply_script(c, *f);
        if (r > 0)
            return 0;
        vfs_file_put(*f);
        if (r < 0)
            return r;
        if (depth == EXEC_MAX_SCRIPT_DEPTH)
            return fail(c, -ELOOP, "cannot run %s: too many levels of #! interpreters", c->argv[0]);
    }
}

/* The dynamic linker named by PT_INTERP, mapped in the mmap area. */
static int load_interp(struct exec_ctx *c, struct vm_space *vm, struct file *prog, const struct elf_image *img,
                       uint64_t *entry, uint64_t *base)
{
    ssize_t n = vfs_pread_kernel(prog, c->elf_interp, img->interp_size, img->interp_offset);
    if (n != (ssize_t)img->interp_size || c->elf_interp[img->interp_size - 1] != '\0' ||
        strlen(c->elf_interp) + 1 != img->interp_size)
        return fail(c, -ENOEXEC, "cannot run %s: malformed interpreter path", c->path);
    struct file *f;
    uint64_t size;
    int e = open_program(c, c->elf_interp, &f, &size);
    if (e) {
        /* say which program needed it: that is what the user can act on */
        char inner[160];
        strlcpy(inner, c->err, sizeof(inner));
        return fail(c, e, "%s needs its dynamic linker: %s", c->path, inner);
    }
    struct elf_image ii;
    const char *why;
    e = exec_read_image(f, size, &ii, &why);
    if (!e && ii.has_interp)
        why = "it names an interpreter itself", e = -ENOEXEC;
    if (!e)
        e = exec_map_image(vm, f, &ii, 0, base);
    vfs_file_put(f);
    if (e)
        return fail(c, e, "cannot load the dynamic linker %s: %s", c->elf_interp, e == -ENOEXEC ? why : errno_name(e));
    *entry = ii.entry + *base;
    return 0;
}

static void add_aux(struct exec_stack_args *sa, uint64_t key, uint64_t value)
{
    sa->auxv[2 * sa->nauxv] = key;
    sa->auxv[2 * sa->nauxv + 1] = value;
    sa->nauxv++;
}

static void fill_auxv(struct exec_stack_args *sa, const struct elf_image *img, uint64_t bias, uint64_t interp_base,
                      uint64_t vdso)
{
    if (vdso)
        add_aux(sa, AT_SYSINFO_EHDR, vdso);
    add_aux(sa, AT_MINSIGSTKSZ, fpu_info.size + 1024); /* the signal frame with its FPU state */
    add_aux(sa, AT_HWCAP, cpuid(1, 0).edx);
    add_aux(sa, AT_PAGESZ, PAGE_SIZE);
    add_aux(sa, AT_CLKTCK, 100);
    add_aux(sa, AT_PHDR, img->phdr_vaddr ? img->phdr_vaddr + bias : 0);
    add_aux(sa, AT_PHENT, sizeof(Elf64_Phdr));
    add_aux(sa, AT_PHNUM, img->phnum);
    add_aux(sa, AT_BASE, interp_base);
    add_aux(sa, AT_FLAGS, 0);
    add_aux(sa, AT_ENTRY, img->entry + bias);
    add_aux(sa, AT_UID, 0);
    add_aux(sa, AT_EUID, 0);
    add_aux(sa, AT_GID, 0);
    add_aux(sa, AT_EGID, 0);
    add_aux(sa, AT_SECURE, 0);
    add_aux(sa, AT_HWCAP2, 0);
}

/* The strings /proc/self/cmdline and environ show: NUL-separated copies. */
static char *join_strings(const char *const *v, unsigned n, size_t *len)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += strlen(v[i]) + 1;
    char *buf = kmalloc(total ? total : 1), *p = buf;
    if (!buf)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(p, v[i], l);
        p += l;
    }
    *len = total;
    return buf;
}

static int build_stack(struct exec_ctx *c, struct proc *p, struct exec_stack_args *sa, uint64_t top, uint64_t *sp)
{
    size_t strings = strlen(c->path) + 8;
    for (unsigned i = 0; i < c->argc; i++)
        strings += strlen(c->argv[i]) + 1;
    for (unsigned i = 0; i < c->envc; i++)
        strings += strlen(c->envp[i]) + 1;
    if (strings > STACK_STRINGS_MAX)
        return fail(c, -E2BIG, "cannot run %s: arguments and environment exceed %lu KiB", c->path,
                    STACK_STRINGS_MAX / 1024);
    size_t cap = strings + 8 * (c->argc + c->envc + 3 + 2 * (EXEC_MAX_AUXV + 4)) + 128;
    uint8_t *buf = kmalloc(cap);
    uint64_t *auxv = kmalloc(8 * 2 * (EXEC_MAX_AUXV + 4));
    if (!buf || !auxv) {
        kfree(buf);
        kfree(auxv);
        return -ENOMEM;
    }
    sa->argv = c->argv;
    sa->argc = c->argc;
    sa->envp = c->envp;
    sa->envc = c->envc;
    sa->execfn = c->path;
    sa->platform = "x86_64";
    random_get_bytes(sa->random, sizeof(sa->random));
    size_t used;
    int e = exec_build_stack(buf, cap, top, sa, sp, &used, auxv, &p->auxv_len);
    long m = e ? e : vm_map_stack(p->vm, top, MAX(STACK_INITIAL, ALIGN_UP(used + 16384, PAGE_SIZE)));
    if (m >= 0)
        e = copy_to_user((void __user *)(top - used), buf + cap - used, used);
    else
        e = (int)m;
    kfree(buf);
    if (e) {
        kfree(auxv);
        return fail(c, e, "cannot set up the stack of %s: %s", c->path, errno_name(e));
    }
    p->auxv = auxv;
    return 0;
}

static int setup_process(struct exec_ctx *c, struct proc *p, const struct exec_request *req)
{
    p->vm = vm_space_create();
    p->files = fd_table_create();
    p->fs = fs_context_create();
    p->sighand = sighand_create();
    if (!p->vm || !p->files || !p->fs || !p->sighand)
        return fail(c, -ENOMEM, "out of memory creating the process");
    int e = fd_install_console(p->files);
    if (e)
        return fail(c, e, "cannot open the console: %s", errno_name(e));
    if (req->cwd && *req->cwd) {
        struct path dir;
        e = vfs_lookup(p->fs, NULL, req->cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
        if (e)
            return fail(c, e, "--cwd=%s: %s", req->cwd, e == -ENOENT ? "no such directory" : errno_name(e));
        fs_context_set_cwd(p->fs, &dir);
        path_put(&dir);
    }
    vm_set_mmap_base(p->vm, VM_DEFAULT_MMAP_BASE - random_pages(req->aslr, 24));
    vm_set_stack_limit(p->vm, p->rlimits[PROC_RLIMIT_STACK].cur);
    return 0;
}

static int load_everything(struct exec_ctx *c, struct proc *p, const struct exec_request *req, uint64_t *entry,
                           uint64_t *sp)
{
    struct file *f;
    uint64_t size;
    int e = open_following_scripts(c, &f, &size);
    if (e)
        return e;
    struct elf_image img;
    const char *why = "";
    e = exec_read_image(f, size, &img, &why);
    if (e) {
        vfs_file_put(f);
        return fail(c, e, "cannot run %s: %s", c->path, e == -ENOEXEC ? why : errno_name(e));
    }
    uint64_t bias = 0, interp_base = 0;
    e = exec_map_image(p->vm, f, &img, DYN_BASE + random_pages(req->aslr, 28), &bias);
    if (e) {
        vfs_file_put(f);
        return fail(c, e, "cannot map %s: %s", c->path, errno_name(e));
    }
    *entry = img.entry + bias;
    if (img.has_interp)
        e = load_interp(c, p->vm, f, &img, entry, &interp_base);
    vfs_file_put(f);
    if (e)
        return e;
    vm_set_brk_base(p->vm, bias + img.hi + random_pages(req->aslr, 13));
    long vdso = vdso_map(p->vm);
    if (vdso < 0)
        return fail(c, (int)vdso, "cannot map the vDSO: %s", errno_name((int)vdso));
    struct exec_stack_args *sa = kzalloc(sizeof(*sa));
    if (!sa)
        return -ENOMEM;
    fill_auxv(sa, &img, bias, interp_base, (uint64_t)vdso);
    e = build_stack(c, p, sa, USER_TOP - random_pages(req->aslr, 22), sp);
    kfree(sa);
    return e;
}

static void record_for_proc(struct exec_ctx *c, struct proc *p)
{
    p->cmdline = join_strings(c->argv, c->argc, &p->cmdline_len);
    p->environ = join_strings(c->envp, c->envc, &p->environ_len);
    size_t n = strlen(c->path) + 1;
    p->exe_path = kmalloc(n);
    if (p->exe_path)
        memcpy(p->exe_path, c->path, n);
}

static void start_main_thread(struct exec_ctx *c, struct proc *p, uint64_t entry, uint64_t sp, int *err)
{
    struct trap_frame regs;
    arch_user_frame_init(&regs, entry, sp);
    struct thread *t = user_thread_create(p, &regs, NULL);
    if (!t) {
        *err = fail(c, -ENOMEM, "out of memory starting %s", c->path);
        return;
    }
    const char *base = strrchr(c->path, '/');
    strlcpy(t->name, base ? base + 1 : c->path, 16); /* TASK_COMM_LEN */
    proc_main = p;
    thread_start(t);
}

int exec_start(const struct exec_request *req, char *err, size_t errlen)
{
    struct exec_ctx *c = kzalloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->err = err;
    c->errlen = errlen;
    int e = 0;
    if (req->argc > EXEC_MAX_WORDS || req->envc + 3 > EXEC_MAX_WORDS)
        e = fail(c, -E2BIG, "too many arguments or environment variables");
    for (unsigned i = 0; !e && i < req->argc; i++)
        c->argv[c->argc++] = req->argv[i];
    for (unsigned i = 0; !e && i < req->envc; i++)
        c->envp[c->envc++] = req->envp[i];
    /* what Linux gives its first process, plus a PATH since no shell sets one */
    if (!e && !env_get(c, "HOME"))
        c->envp[c->envc++] = "HOME=/";
    if (!e && !env_get(c, "TERM"))
        c->envp[c->envc++] = "TERM=linux";
    if (!e && !env_get(c, "PATH"))
        c->envp[c->envc++] = "PATH=" DEFAULT_PATH;
    struct proc *p = e ? NULL : proc_create(1);
    if (!e && !p)
        e = -ENOMEM;
    struct thread *self = thread_current();
    if (!e) {
        self->proc = p; /* the loader's user copies fault pages into p's space */
        e = setup_process(c, p, req);
    }
    if (!e)
        e = resolve_program(c, c->argv[0]);
    uint64_t entry = 0, sp = 0;
    if (!e)
        e = load_everything(c, p, req, &entry, &sp);
    self->proc = NULL;
    if (!e) {
        record_for_proc(c, p);
        start_main_thread(c, p, entry, sp, &e);
    }
    kfree(c);
    return e; /* on failure the half-built process is abandoned: the VM is about to stop */
}
