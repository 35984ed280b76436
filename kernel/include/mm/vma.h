/* Virtual memory areas: the application's mappings as a red-black tree sorted
 * by address. Pure bookkeeping (no page tables), so host unit tests compile it;
 * callers hold the address space's lock. */
#pragma once

#include "lib/rbtree.h"
#include "lib/types.h"

struct file;
struct vm_anon;

/* vma.flags */
#define VMA_SHARED 0x0001     /* MAP_SHARED: stores reach the file / every mapping */
#define VMA_ANON 0x0002       /* no file behind it */
#define VMA_GROWSDOWN 0x0004  /* a stack that grows down on faults below it */
#define VMA_STACK 0x0008      /* MAP_STACK or the main stack: never large pages */
#define VMA_NORESERVE 0x0010
#define VMA_MAYWRITE 0x0020   /* PROT_WRITE allowed (not for a read-only shared file) */
#define VMA_LOCKED 0x0040     /* mlock'd (accepted: nothing is ever swapped) */
#define VMA_NOHUGEPAGE 0x0080 /* MADV_NOHUGEPAGE: 4 KiB pages only */
#define VMA_HUGEPAGE 0x0100   /* MADV_HUGEPAGE */
#define VMA_SPECIAL 0x0200    /* kernel-provided pages (vDSO, vvar): `special` */
#define VMA_DONTDUMP 0x0400
#define VMA_DONTFORK 0x0800   /* MADV_DONTFORK: a fork's child does not get it */
#define VMA_WIPEONFORK 0x1000 /* MADV_WIPEONFORK: a fork's child gets it empty (zeros) */

/* Flags a fork's child does not inherit (Linux: memory locks are not inherited). */
#define VMA_FORK_DROPPED VMA_LOCKED

/* Gap kept free below a grows-down stack (Linux's stack_guard_gap). */
#define VMA_STACK_GUARD_GAP (256ul * 4096)

struct vma {
    struct rb_node rb;
    uintptr_t start, end;    /* page aligned, start < end */
    uint32_t prot;           /* PROT_READ | PROT_WRITE | PROT_EXEC */
    uint32_t flags;          /* VMA_* */
    struct file *file;       /* holds a reference (vm_file_get), or NULL */
    struct vm_anon *anon;    /* shared anonymous memory: its pages (a reference), or NULL */
    uint64_t pgoff;          /* file page (index into `special`, page of `anon`) at start */
    const uint64_t *special; /* VMA_SPECIAL: physical address of each page; static */
    const char *name;        /* "[heap]", "[stack]", "[vdso]"... (static) or NULL */
    struct vma *next_free;   /* link while detached (vma_detach_range) */
};

struct vma_tree {
    struct rb_root root;
    unsigned count;          /* VMAs */
    uint64_t pages;          /* pages covered by all VMAs */
    /* Top-down search cache (as Linux 2.6's free_area_cache): every gap
     * wholly inside [cache, cache_high) is at most cache_hole bytes, so a
     * search for more may start at `cache`. cache is never inside a gap. */
    uintptr_t cache, cache_low, cache_high;
    uint64_t cache_hole;
    uintptr_t pending_start, pending_end; /* last cached search's answer... */
    uint64_t pending_hole;                /* ...applied when it is inserted */
};

/* File references, implemented by the kernel's VFS glue (and by host tests). */
void vm_file_get(struct file *f);
void vm_file_put(struct file *f);
/* Shared anonymous objects' references (mm/vm_anon.c, and host tests). */
void vm_anon_get(struct vm_anon *a);
void vm_anon_put(struct vm_anon *a);

/* Does pgoff mean something (a file, kernel pages, a shared anonymous object)? */
static inline bool vma_has_pgoff(const struct vma *v)
{
    return v->file || v->special || v->anon;
}

static inline uint64_t vma_pages(const struct vma *v)
{
    return (v->end - v->start) >> 12;
}

/* Lowest address a new mapping below v may end at / above v may start at. */
static inline uintptr_t vma_start_gap(const struct vma *v)
{
    if (!(v->flags & VMA_GROWSDOWN))
        return v->start;
    return v->start > VMA_STACK_GUARD_GAP ? v->start - VMA_STACK_GUARD_GAP : 0;
}

static inline uintptr_t vma_end_gap(const struct vma *v)
{
    return v->end;
}

void vma_tree_init(struct vma_tree *t);
/* A zeroed VMA (NULL when out of memory); vma_free drops its file reference. */
struct vma *vma_alloc(void);
void vma_free(struct vma *v);
/* A detached copy of v (for another tree: fork): same range and
 * attributes, its own file and object references. NULL when out of memory. */
struct vma *vma_dup(const struct vma *v);
/* v was made by copying another VMA: take the references it now holds too. */
void vma_take_refs(struct vma *v);
/* Does a fork's child get v, and with its pages? */
static inline bool vma_fork_copies(const struct vma *v)
{
    return !(v->flags & VMA_DONTFORK);
}
static inline bool vma_fork_copies_pages(const struct vma *v)
{
    return vma_fork_copies(v) && !(v->flags & VMA_WIPEONFORK);
}

/* The VMA containing addr, or NULL. */
struct vma *vma_find(const struct vma_tree *t, uintptr_t addr);
/* The first VMA ending above addr (Linux's find_vma), or NULL. */
struct vma *vma_find_from(const struct vma_tree *t, uintptr_t addr);
/* The last VMA starting below addr, or NULL. */
struct vma *vma_last_before(const struct vma_tree *t, uintptr_t addr);
struct vma *vma_first(const struct vma_tree *t);
struct vma *vma_last(const struct vma_tree *t);
struct vma *vma_next(const struct vma *v);
struct vma *vma_prev(const struct vma *v);

/* Insert v; -EEXIST (and nothing changes) when it overlaps another VMA. */
int vma_insert(struct vma_tree *t, struct vma *v);
/* Take v out of the tree (not freed). */
void vma_remove(struct vma_tree *t, struct vma *v);
/* Change a VMA's bounds in place (never past a neighbour); keeps t->pages right. */
void vma_set_bounds(struct vma_tree *t, struct vma *v, uintptr_t start, uintptr_t end);

/* Split v at addr (start < addr < end): v keeps [start, addr), the returned
 * new VMA has [addr, end). NULL when out of memory. */
struct vma *vma_split(struct vma_tree *t, struct vma *v, uintptr_t addr);
/* Make addr a VMA boundary if a VMA straddles it. 0 or -ENOMEM. */
int vma_split_at(struct vma_tree *t, uintptr_t addr);
/* Same attributes and contiguous (including the file offset)? */
bool vma_can_merge(const struct vma *a, const struct vma *b);
/* Merge v with its neighbours where possible; returns the VMA now holding v's range. */
struct vma *vma_merge(struct vma_tree *t, struct vma *v);
/* Merge every compatible pair of neighbours touching [start, end). */
void vma_merge_range(struct vma_tree *t, uintptr_t start, uintptr_t end);

/* Remove every VMA inside [start, end) after splitting the ones crossing the
 * edges; returns them chained through next_free (in address order). NULL with
 * *err = -ENOMEM if an edge could not be split (nothing removed then). */
struct vma *vma_detach_range(struct vma_tree *t, uintptr_t start, uintptr_t end, int *err);

/* Is [start, end) entirely covered by VMAs / touched by none? */
bool vma_range_mapped(const struct vma_tree *t, uintptr_t start, uintptr_t end);
bool vma_range_free(const struct vma_tree *t, uintptr_t start, uintptr_t end);
/* Free and outside every stack guard gap: a place a new mapping may go. */
bool vma_range_fits(const struct vma_tree *t, uintptr_t start, uintptr_t end);
/* The highest address a with [a, a+len) fitting inside [low, high), a a
 * multiple of align (a power of two >= 4096); 0 when there is none. */
uintptr_t vma_find_gap(const struct vma_tree *t, uint64_t len, uint64_t align, uintptr_t low,
                       uintptr_t high);
/* The same answer, usually without walking every VMA: for the repeated
 * searches of one [low, high) (the mmap area). */
uintptr_t vma_find_gap_cached(struct vma_tree *t, uint64_t len, uint64_t align, uintptr_t low,
                              uintptr_t high);
