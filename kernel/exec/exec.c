/* Starting programs: the application's first one (exec_start, at boot) and
 * execve, which replaces the calling process's program. Both prepare (find,
 * open and check the file) before changing anything, then load into a fresh
 * address space; a failed execve leaves the caller as it was. */
#include "exec/exec.h"
#include "exec_internal.h"
#include "arch/fpu.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/namei.h"
#include "fs/uapi.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

#define EXEC_STRINGS_MAX (2u * 1024 * 1024) /* argv + envp bytes execve accepts */

void proc_timers_release(struct proc *p, bool keep_itimers); /* core/sys_timer.c */

static struct exec_ctx *ctx_new(char *err, size_t errlen, bool aslr)
{
    struct exec_ctx *c = kzalloc(sizeof(*c));
    if (c) {
        c->err = err;
        c->errlen = errlen;
        c->aslr = aslr;
    }
    return c;
}

static void ctx_free(struct exec_ctx *c)
{
    exec_ctx_release(c);
    kfree(c);
}

/* Load c's prepared program into a new space for p and make it p's; the
 * old space (if any) is returned in *old for the caller to drop. On failure
 * p keeps its old space, active again. */
static int load_new_space(struct exec_ctx *c, struct proc *p, uint64_t *entry, uint64_t *sp, struct vm_space **old)
{
    struct vm_space *vm = vm_space_create();
    if (!vm)
        return exec_fail(c, -ENOMEM, "out of memory for the address space of %s", c->path);
    *old = proc_vm_set(p, vm);
    vm_activate(vm); /* the loader's user copies fault pages into it */
    int e = exec_load(c, p, vm, entry, sp);
    if (e) {
        proc_vm_set(p, *old);
        vm_activate(*old);
        vm_space_put(vm);
        *old = NULL;
    }
    return e;
}

/* ---- the first program ---- */

static int setup_first_process(struct exec_ctx *c, struct proc *p, const struct exec_request *req)
{
    p->files = fd_table_create();
    p->fs = fs_context_create();
    p->sighand = sighand_create();
    if (!p->files || !p->fs || !p->sighand)
        return exec_fail(c, -ENOMEM, "out of memory creating the process");
    int e = fd_install_console(p->files);
    if (e)
        return exec_fail(c, e, "cannot open the console: %s", errno_name(e));
    if (req->cwd && *req->cwd) {
        struct path dir;
        e = vfs_lookup(p->fs, NULL, req->cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
        if (e)
            return exec_fail(c, e, "--cwd=%s: %s", req->cwd, e == -ENOENT ? "no such directory" : errno_name(e));
        fs_context_set_cwd(p->fs, &dir);
        path_put(&dir);
    }
    c->fs = p->fs;
    return 0;
}

static int fill_first_words(struct exec_ctx *c, const struct exec_request *req)
{
    if (req->argc > EXEC_MAX_WORDS || req->envc + 3 > EXEC_MAX_WORDS)
        return exec_fail(c, -E2BIG, "too many arguments or environment variables");
    for (unsigned i = 0; i < req->argc; i++)
        c->argv[c->argc++] = req->argv[i];
    for (unsigned i = 0; i < req->envc; i++)
        c->envp[c->envc++] = req->envp[i];
    /* what Linux gives its first process, plus a PATH since no shell sets one */
    if (!exec_env_get(c, "HOME"))
        c->envp[c->envc++] = "HOME=/";
    if (!exec_env_get(c, "TERM"))
        c->envp[c->envc++] = "TERM=linux";
    if (!exec_env_get(c, "PATH"))
        c->envp[c->envc++] = "PATH=" EXEC_DEFAULT_PATH;
    return 0;
}

static void set_thread_name(struct thread *t, const char *path)
{
    const char *base = strrchr(path, '/');
    strlcpy(t->name, base ? base + 1 : path, 16); /* TASK_COMM_LEN */
}

int exec_start(const struct exec_request *req, char *err, size_t errlen)
{
    struct exec_ctx *c = ctx_new(err, errlen, req->aslr);
    if (!c)
        return -ENOMEM;
    struct proc *p = proc_create(); /* the first: pid 1 */
    int e = p ? fill_first_words(c, req) : -ENOMEM;
    if (!e)
        e = setup_first_process(c, p, req);
    if (!e)
        e = exec_prepare(c, c->argv[0], true);
    struct thread *self = thread_current();
    uint64_t entry = 0, sp = 0;
    struct vm_space *none;
    if (!e) {
        self->proc = p; /* the loader's user copies fault pages into p's space */
        e = load_new_space(c, p, &entry, &sp, &none);
        self->proc = NULL;
    }
    if (!e) {
        exec_record(c, p);
        struct trap_frame regs;
        arch_user_frame_init(&regs, entry, sp);
        struct thread *t = user_thread_create(p, &regs, NULL);
        if (!t) {
            e = exec_fail(c, -ENOMEM, "out of memory starting %s", c->path);
        } else {
            set_thread_name(t, c->path);
            proc_main = p;
            vm_activate(NULL); /* this kernel thread is done with the application's space */
            thread_start(t);
        }
    }
    ctx_free(c);
    return e; /* on failure the half-built process is abandoned: the VM is about to stop */
}

/* ---- execve ---- */

#define EXEC_WORD_MAX (128u * 1024) /* Linux's MAX_ARG_STRLEN */

/* argv or envp from the caller: NULL-terminated arrays of strings, each
 * copied through `scratch` into an allocation of its own size. */
static int copy_words(const char __user *const __user *uv, const char **out, unsigned *n, size_t *total,
                      char *scratch)
{
    *n = 0;
    if (!uv)
        return 0; /* Linux takes a NULL argv or envp as empty */
    for (;;) {
        uint64_t ptr;
        if (get_user_u64(&ptr, &uv[*n]))
            return -EFAULT;
        if (!ptr)
            return 0;
        if (*n == EXEC_MAX_WORDS)
            return -E2BIG;
        long len = strncpy_from_user(scratch, (const char __user *)ptr, EXEC_WORD_MAX);
        if (len < 0)
            return len == -ENAMETOOLONG ? -E2BIG : (int)len;
        *total += (size_t)len + 1;
        if (*total > EXEC_STRINGS_MAX)
            return -E2BIG;
        char *s = kmalloc((size_t)len + 1);
        if (!s)
            return -ENOMEM;
        memcpy(s, scratch, (size_t)len + 1);
        out[(*n)++] = s;
    }
}

static void free_words(const char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        kfree(v[i]);
}

/* The new program's process: files closed on exec, handlers reset, timers
 * gone, the old address space dropped, a vfork parent released. */
static void commit_exec(struct exec_ctx *c, struct proc *p, struct vm_space *old)
{
    struct thread *t = thread_current();
    vm_space_put(old);
    fd_close_on_exec(p->files);
    sighand_reset_for_exec(p->sighand);
    t->altstack_sp = t->altstack_size = 0;
    t->altstack_flags = SS_DISABLE_FLAG;
    t->clear_child_tid = 0;
    t->robust_list = 0;
    proc_timers_release(p, true);
    exec_record(c, p);
    set_thread_name(t, c->path);
    arch_set_user_fs_base(&t->uarch, 0);
    arch_set_user_gs_base(&t->uarch, 0);
    fpu_restore(fpu_init_state());
    proc_vfork_release(p);
}

static long do_execve(struct exec_ctx *c, const char *name, uint64_t *entry, uint64_t *sp)
{
    struct proc *p = proc_current();
    c->fs = p->fs;
    int e = exec_prepare(c, name, false);
    if (e)
        return e;
    if (p->nthreads > 1 && (e = user_zap_other_threads()))
        return e;
    struct vm_space *old;
    e = load_new_space(c, p, entry, sp, &old);
    if (e)
        return e;
    commit_exec(c, p, old);
    return 0;
}

/* execve's arguments, copied in: the words point into kmalloc'd strings. */
struct exec_args {
    const char **words; /* argv, then envp at EXEC_MAX_WORDS + 1 */
    unsigned argc, envc;
};

static long copy_exec_args(struct exec_args *a, const char __user *const __user *argv,
                           const char __user *const __user *envp)
{
    a->words = kmalloc(2 * (EXEC_MAX_WORDS + 1) * sizeof(char *));
    char *scratch = kmalloc(EXEC_WORD_MAX);
    long e = a->words && scratch ? 0 : -ENOMEM;
    size_t total = 0;
    if (!e)
        e = copy_words(argv, a->words, &a->argc, &total, scratch);
    if (!e)
        e = copy_words(envp, a->words + EXEC_MAX_WORDS + 1, &a->envc, &total, scratch);
    kfree(scratch);
    return e;
}

static void free_exec_args(struct exec_args *a)
{
    if (a->words) {
        free_words(a->words, a->argc);
        free_words(a->words + EXEC_MAX_WORDS + 1, a->envc);
    }
    kfree(a->words);
}

/* execve of `name` (a kernel string) with the caller's argv and envp. */
static long execve_named(const char *name, const char __user *const __user *argv,
                         const char __user *const __user *envp)
{
    char err[256] = "";
    struct exec_args a = { 0 };
    struct exec_ctx *c = ctx_new(err, sizeof(err), true);
    long e = c ? copy_exec_args(&a, argv, envp) : -ENOMEM;
    if (!e) {
        memcpy(c->argv, a.words, a.argc * sizeof(char *));
        memcpy(c->envp, a.words + EXEC_MAX_WORDS + 1, a.envc * sizeof(char *));
        c->argc = a.argc;
        c->envc = a.envc;
        if (!c->argc) /* Linux gives a program started without arguments an empty argv[0] */
            c->argv[c->argc++] = "";
        c->argv[c->argc] = NULL;
        uint64_t entry, sp;
        e = do_execve(c, name, &entry, &sp);
        if (!e) {
            struct trap_frame *f = user_frame();
            arch_user_frame_init(f, entry, sp);
            f->vector = SIGRETURN_FRAME_VECTOR; /* returns into the new program, not a restartable call */
        } else if (err[0]) {
            pr_info("execve: %s\n", err);
        }
    }
    free_exec_args(&a);
    if (c)
        ctx_free(c);
    return e;
}

long sys_execve(const char __user *path, const char __user *const __user *argv,
                const char __user *const __user *envp)
{
    char *name = kmalloc(EXEC_PATH_MAX);
    if (!name)
        return -ENOMEM;
    long e = strncpy_from_user(name, path, EXEC_PATH_MAX);
    if (e >= 0)
        e = execve_named(name, argv, envp);
    kfree(name);
    return e;
}

#define AT_EMPTY_PATH_FLAG 0x1000
#define AT_SYMLINK_NOFOLLOW_FLAG 0x100
#define AT_FDCWD_VALUE (-100)

/* execveat: a name relative to a directory descriptor, or (AT_EMPTY_PATH:
 * fexecve) the open file itself, run through its absolute name. */
long sys_execveat(int dirfd, const char __user *path, const char __user *const __user *argv,
                  const char __user *const __user *envp, int flags)
{
    if (flags & ~(AT_EMPTY_PATH_FLAG | AT_SYMLINK_NOFOLLOW_FLAG))
        return -EINVAL;
    char *name = kmalloc(EXEC_PATH_MAX);
    char *full = kmalloc(EXEC_PATH_MAX);
    long e = name && full ? strncpy_from_user(name, path, EXEC_PATH_MAX) : -ENOMEM;
    if (e >= 0 && (name[0] == '/' || dirfd == AT_FDCWD_VALUE)) {
        e = execve_named(name, argv, envp);
    } else if (e >= 0) {
        if (!name[0] && !(flags & AT_EMPTY_PATH_FLAG)) {
            e = -ENOENT;
        } else {
            struct file *f = fd_get(proc_current()->files, dirfd);
            e = f ? vfs_file_path(f, full, EXEC_PATH_MAX) : -EBADF;
            if (f)
                vfs_file_put(f);
            if (e >= 0 && name[0] && strlcat(full, "/", EXEC_PATH_MAX) < EXEC_PATH_MAX &&
                strlcat(full, name, EXEC_PATH_MAX) >= EXEC_PATH_MAX)
                e = -ENAMETOOLONG;
            if (e >= 0)
                e = execve_named(full, argv, envp);
        }
    }
    kfree(name);
    kfree(full);
    return e;
}
