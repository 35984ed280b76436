/* /proc/self/maps, smaps and smaps_rollup in Linux's formats (see
 * proc_pid_maps(5)), and the per-VMA memory figures behind them. */
#include "lib/printf.h"
#include "lib/string.h"
#include "vm_internal.h"

/* Appends to a buffer, counting what would not fit (snprintf's convention). */
struct vm_out {
    char *buf;
    size_t size, len;
};

static void __printf(2, 3) vm_out(struct vm_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t at = MIN(o->len, o->size);
    int n = vsnprintf(o->buf + at, o->size - at, fmt, ap);
    va_end(ap);
    o->len += (size_t)(n > 0 ? n : 0);
}

static size_t vm_out_end(struct vm_out *o)
{
    if (o->size)
        o->buf[MIN(o->len, o->size - 1)] = 0;
    return o->len;
}

/* The name column: the file's path, a special name, or none. */
static const char *vm_vma_name(const struct vma *v, char *buf, size_t size)
{
    if (v->name)
        return v->name;
    if (v->file)
        return vm_file_name(v->file, buf, size) ? buf : NULL;
    if ((v->flags & VMA_SHARED) && (v->flags & VMA_ANON))
        return "/dev/zero (deleted)";
    return NULL;
}

#define VM_MAPS_NAME_COLUMN 73 /* Linux pads the fixed fields to 72 columns, then a space */

static void vm_maps_line(struct vm_out *o, const struct vma *v)
{
    uint32_t major = 0, minor = 0;
    uint64_t ino = 0, off = 0;
    if (v->file) {
        vm_file_ids(v->file, &major, &minor, &ino);
        off = v->pgoff << PAGE_SHIFT;
    } else if (v->anon) {
        off = v->pgoff << PAGE_SHIFT; /* Linux shows the shmem offset of each piece */
    }
    size_t begin = o->len;
    vm_out(o, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ", v->start, v->end,
           v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
           v->prot & PROT_EXEC ? 'x' : '-', v->flags & VMA_SHARED ? 's' : 'p', off, major, minor,
           ino);
    char path[256];
    const char *name = vm_vma_name(v, path, sizeof(path));
    if (name) {
        size_t used = o->len - begin;
        if (used < VM_MAPS_NAME_COLUMN)
            vm_out(o, "%*s", (int)(VM_MAPS_NAME_COLUMN - used), "");
        vm_out(o, "%s", name);
    }
    vm_out(o, "\n");
}

size_t vm_format_maps(struct vm_space *vm, char *buf, size_t size)
{
    struct vm_out o = { buf, size, 0 };
    mutex_lock(&vm->lock);
    for (struct vma *v = vma_first(&vm->vmas); v; v = vma_next(v))
        vm_maps_line(&o, v);
    mutex_unlock(&vm->lock);
    return vm_out_end(&o);
}

/* ---- smaps ---- */

struct vm_smaps_ctx {
    const struct vma *v;
    struct vm_smaps *s;
};

static bool vm_smaps_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_smaps_ctx *c = ctx;
    uint64_t span = level == PAGING_LEVEL_2M ? LARGE_PAGE_SIZE : PAGE_SIZE;
    uint64_t size = MIN(va + span, c->v->end) - MAX(va, c->v->start);
    uint64_t phys = pte & PTE_ADDR_MASK & ~(span - 1);
    struct page *p = pfn_to_page(phys >> PAGE_SHIFT);
    if (p == vm_zero_page)
        return true; /* not memory of this process, as on Linux */
    struct page *counted = vm_leaf_page(pte, level);
    uint32_t maps = counted ? MAX(READ_ONCE(counted->map_count), 1u) : 1;
    bool anon = counted && (READ_ONCE(counted->flags) & PAGE_FLAG_ANON);
    bool dirty = (pte & PTE_DIRTY) || (counted && (READ_ONCE(counted->flags) & PAGE_FLAG_DIRTY));
    struct vm_smaps *s = c->s;
    s->rss += size;
    s->pss += size / maps;
    if (dirty)
        s->pss_dirty += size / maps;
    if (anon)
        s->anonymous += size;
    if (anon && level == PAGING_LEVEL_2M)
        s->anon_huge += size;
    if (pte & PTE_ACCESSED)
        s->referenced += size;
    if (maps > 1)
        *(dirty ? &s->shared_dirty : &s->shared_clean) += size;
    else
        *(dirty ? &s->private_dirty : &s->private_clean) += size;
    if (c->v->flags & VMA_LOCKED)
        s->locked += size / maps;
    return true;
}

static void vm_smaps_of(struct vm_space *vm, const struct vma *v, struct vm_smaps *s)
{
    struct vm_smaps_ctx c = { v, s };
    s->size += v->end - v->start;
    paging_user_walk(&vm->pt, v->start, v->end, vm_smaps_leaf, &c);
}

bool vm_get_smaps(struct vm_space *vm, uintptr_t addr, struct vm_smaps *out)
{
    memset(out, 0, sizeof(*out));
    mutex_lock(&vm->lock);
    struct vma *v = vma_find(&vm->vmas, addr);
    if (v)
        vm_smaps_of(vm, v, out);
    mutex_unlock(&vm->lock);
    return v;
}

void vm_get_smaps_total(struct vm_space *vm, struct vm_smaps *out)
{
    memset(out, 0, sizeof(*out));
    mutex_lock(&vm->lock);
    for (struct vma *v = vma_first(&vm->vmas); v; v = vma_next(v))
        vm_smaps_of(vm, v, out);
    mutex_unlock(&vm->lock);
}

static void vm_kb(struct vm_out *o, const char *label, uint64_t bytes)
{
    vm_out(o, "%-16s%8lu kB\n", label, bytes >> 10);
}

static void vm_smaps_figures(struct vm_out *o, const struct vm_smaps *s, bool per_vma)
{
    if (per_vma) {
        vm_kb(o, "Size:", s->size);
        vm_kb(o, "KernelPageSize:", PAGE_SIZE);
        vm_kb(o, "MMUPageSize:", PAGE_SIZE);
    }
    vm_kb(o, "Rss:", s->rss);
    vm_kb(o, "Pss:", s->pss);
    vm_kb(o, "Pss_Dirty:", s->pss_dirty);
    if (!per_vma) {
        vm_kb(o, "Pss_Anon:", s->anonymous);
        vm_kb(o, "Pss_File:", s->pss > s->anonymous ? s->pss - s->anonymous : 0);
        vm_kb(o, "Pss_Shmem:", 0);
    }
    vm_kb(o, "Shared_Clean:", s->shared_clean);
    vm_kb(o, "Shared_Dirty:", s->shared_dirty);
    vm_kb(o, "Private_Clean:", s->private_clean);
    vm_kb(o, "Private_Dirty:", s->private_dirty);
    vm_kb(o, "Referenced:", s->referenced);
    vm_kb(o, "Anonymous:", s->anonymous);
    vm_kb(o, "KSM:", 0);
    vm_kb(o, "LazyFree:", 0);
    vm_kb(o, "AnonHugePages:", s->anon_huge);
    static const char *const zeros[] = { "ShmemPmdMapped:", "FilePmdMapped:", "Shared_Hugetlb:",
                                         "Private_Hugetlb:", "Swap:", "SwapPss:" };
    for (unsigned i = 0; i < ARRAY_SIZE(zeros); i++)
        vm_kb(o, zeros[i], 0);
    vm_kb(o, "Locked:", s->locked);
}

/* VmFlags: Linux's two-letter codes for the flags we have. */
static void vm_smaps_flags(struct vm_out *o, const struct vma *v)
{
    vm_out(o, "VmFlags: ");
    if (v->prot & PROT_READ) vm_out(o, "rd ");
    if (v->prot & PROT_WRITE) vm_out(o, "wr ");
    if (v->prot & PROT_EXEC) vm_out(o, "ex ");
    if (v->flags & VMA_SHARED) vm_out(o, "sh ");
    vm_out(o, "mr ");
    if (v->flags & VMA_MAYWRITE) vm_out(o, "mw ");
    vm_out(o, "me ");
    if (v->flags & VMA_SHARED) vm_out(o, "ms ");
    if (v->flags & VMA_GROWSDOWN) vm_out(o, "gd ");
    if (v->flags & VMA_LOCKED) vm_out(o, "lo ");
    if (v->flags & VMA_DONTFORK) vm_out(o, "dc ");
    if ((v->prot & PROT_WRITE) && !(v->flags & (VMA_SHARED | VMA_NORESERVE))) vm_out(o, "ac ");
    if (v->flags & VMA_NORESERVE) vm_out(o, "nr ");
    if (v->flags & VMA_WIPEONFORK) vm_out(o, "wf ");
    if (v->flags & VMA_DONTDUMP) vm_out(o, "dd ");
    if (v->flags & VMA_HUGEPAGE) vm_out(o, "hg ");
    if (v->flags & VMA_NOHUGEPAGE) vm_out(o, "nh ");
    vm_out(o, "\n");
}

size_t vm_format_smaps(struct vm_space *vm, char *buf, size_t size)
{
    struct vm_out o = { buf, size, 0 };
    mutex_lock(&vm->lock);
    for (struct vma *v = vma_first(&vm->vmas); v; v = vma_next(v)) {
        struct vm_smaps s = { 0 };
        vm_smaps_of(vm, v, &s);
        vm_maps_line(&o, v);
        vm_smaps_figures(&o, &s, true);
        bool thp = (v->flags & VMA_ANON) && v->end - v->start >= LARGE_PAGE_SIZE &&
                   !(v->flags & (VMA_SHARED | VMA_NOHUGEPAGE | VMA_STACK | VMA_GROWSDOWN));
        vm_out(&o, "THPeligible:    %8d\n", thp);
        vm_smaps_flags(&o, v);
    }
    mutex_unlock(&vm->lock);
    return vm_out_end(&o);
}

size_t vm_format_smaps_rollup(struct vm_space *vm, char *buf, size_t size)
{
    struct vm_out o = { buf, size, 0 };
    struct vm_smaps s = { 0 };
    mutex_lock(&vm->lock);
    struct vma *first = vma_first(&vm->vmas), *last = vma_last(&vm->vmas);
    for (struct vma *v = first; v; v = vma_next(v))
        vm_smaps_of(vm, v, &s);
    uintptr_t start = first ? first->start : 0, end = last ? last->end : 0;
    mutex_unlock(&vm->lock);
    size_t begin = o.len;
    vm_out(&o, "%08lx-%08lx ---p 00000000 00:00 0 ", start, end);
    vm_out(&o, "%*s[rollup]\n", (int)(VM_MAPS_NAME_COLUMN - MIN(o.len - begin, (size_t)VM_MAPS_NAME_COLUMN)), "");
    vm_smaps_figures(&o, &s, false);
    return vm_out_end(&o);
}
