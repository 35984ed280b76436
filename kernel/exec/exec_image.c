/* Loading a prepared program into an address space: the executable, the
 * dynamic linker it names, the vDSO, and the initial stack with argv, envp
 * and the auxiliary vector. */
#include "exec_internal.h"
#include "arch/cpu.h"
#include "arch/fpu.h"
#include "arch/layout.h"
#include "arch/uaccess.h"
#include "core/proc.h"
#include "exec/load.h"
#include "exec/vdso.h"
#include "fs/random.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

#define DYN_BASE 0x555555554000ull     /* where Linux puts a PIE without ASLR */
#define STACK_INITIAL (128ul * 1024)   /* mapped at start; it grows on faults */
#define STACK_STRINGS_MAX (2ul * 1024 * 1024) /* Linux: a quarter of the 8 MiB stack limit */

static uint64_t random_pages(bool aslr, unsigned bits)
{
    return aslr ? (random_u64() & ((1ull << bits) - 1)) * PAGE_SIZE : 0;
}

/* The dynamic linker named by PT_INTERP, mapped in the mmap area. */
static int load_interp(struct exec_ctx *c, struct vm_space *vm, uint64_t *entry, uint64_t *base)
{
    const struct elf_image *img = &c->img;
    ssize_t n = vfs_pread_kernel(c->file, c->elf_interp, img->interp_size, img->interp_offset);
    if (n != (ssize_t)img->interp_size || c->elf_interp[img->interp_size - 1] != '\0' ||
        strlen(c->elf_interp) + 1 != img->interp_size)
        return exec_fail(c, -ENOEXEC, "cannot run %s: malformed interpreter path", c->path);
    struct file *f;
    uint64_t size;
    int e = exec_open(c, c->elf_interp, &f, &size);
    if (e) {
        /* say which program needed it: that is what the user can act on */
        char inner[160];
        strlcpy(inner, c->err, sizeof(inner));
        return exec_fail(c, e, "%s needs its dynamic linker: %s", c->path, inner);
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
        return exec_fail(c, e, "cannot load the dynamic linker %s: %s", c->elf_interp,
                         e == -ENOEXEC ? why : errno_name(e));
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
                      uint64_t vdso, const struct proc *p)
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
    add_aux(sa, AT_UID, p->uid);
    add_aux(sa, AT_EUID, p->euid);
    add_aux(sa, AT_GID, p->gid);
    add_aux(sa, AT_EGID, p->egid);
    add_aux(sa, AT_SECURE, 0);
    add_aux(sa, AT_HWCAP2, 0);
}

static int build_stack(struct exec_ctx *c, struct proc *p, struct vm_space *vm, struct exec_stack_args *sa,
                       uint64_t top, uint64_t *sp)
{
    size_t strings = strlen(c->path) + 8;
    for (unsigned i = 0; i < c->argc; i++)
        strings += strlen(c->argv[i]) + 1;
    for (unsigned i = 0; i < c->envc; i++)
        strings += strlen(c->envp[i]) + 1;
    if (strings > STACK_STRINGS_MAX)
        return exec_fail(c, -E2BIG, "cannot run %s: arguments and environment exceed %lu KiB", c->path,
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
    size_t used, auxv_len;
    int e = exec_build_stack(buf, cap, top, sa, sp, &used, auxv, &auxv_len);
    long m = e ? e : vm_map_stack(vm, top, MAX(STACK_INITIAL, ALIGN_UP(used + 16384, PAGE_SIZE)));
    if (m >= 0)
        e = copy_to_user((void __user *)(top - used), buf + cap - used, used);
    else
        e = (int)m;
    kfree(buf);
    if (e) {
        kfree(auxv);
        return exec_fail(c, e, "cannot set up the stack of %s: %s", c->path, errno_name(e));
    }
    kfree(p->auxv);
    p->auxv = auxv;
    p->auxv_len = auxv_len;
    return 0;
}

int exec_load(struct exec_ctx *c, struct proc *p, struct vm_space *vm, uint64_t *entry, uint64_t *sp)
{
    vm_set_mmap_base(vm, VM_DEFAULT_MMAP_BASE - random_pages(c->aslr, 24));
    vm_set_stack_limit(vm, p->rlimits[PROC_RLIMIT_STACK].cur);
    uint64_t bias = 0, interp_base = 0;
    int e = exec_map_image(vm, c->file, &c->img, DYN_BASE + random_pages(c->aslr, 28), &bias);
    if (e)
        return exec_fail(c, e, "cannot map %s: %s", c->path, errno_name(e));
    *entry = c->img.entry + bias;
    if (c->img.has_interp && (e = load_interp(c, vm, entry, &interp_base)))
        return e;
    vm_set_brk_base(vm, bias + c->img.hi + random_pages(c->aslr, 13));
    long vdso = vdso_map(vm);
    if (vdso < 0)
        return exec_fail(c, (int)vdso, "cannot map the vDSO: %s", errno_name((int)vdso));
    struct exec_stack_args *sa = kzalloc(sizeof(*sa));
    if (!sa)
        return -ENOMEM;
    fill_auxv(sa, &c->img, bias, interp_base, (uint64_t)vdso, p);
    e = build_stack(c, p, vm, sa, USER_TOP - random_pages(c->aslr, 22), sp);
    kfree(sa);
    return e;
}

/* NUL-separated copies, as /proc/self/cmdline and environ show them. */
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

void exec_record(struct exec_ctx *c, struct proc *p)
{
    kfree(p->cmdline);
    kfree(p->environ);
    kfree(p->exe_path);
    p->cmdline = join_strings(c->argv, c->argc, &p->cmdline_len);
    p->environ = join_strings(c->envp, c->envc, &p->environ_len);
    /* /proc/self/exe is the file's absolute path, whatever name found it */
    char *abs = kmalloc(EXEC_PATH_MAX);
    if (abs && vfs_file_path(c->file, abs, EXEC_PATH_MAX) < 0)
        strlcpy(abs, c->path, EXEC_PATH_MAX);
    p->exe_path = abs;
}
