/* Virtual memory areas: a red-black tree keyed by start address with
 * splitting, merging and gap search. No page tables and no locks here: the
 * address-space code (vm_*.c) holds its lock and keeps the MMU in step. */
#include "mm/vma.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define VMA_PAGE 4096ul

void vma_tree_init(struct vma_tree *t)
{
    *t = (struct vma_tree){ 0 };
}

/* A gap now reaches up to g_hi: keep the cache out of it. */
static void vma_cache_freed(struct vma_tree *t, uintptr_t g_hi)
{
    t->pending_start = t->pending_end = 0;
    if (t->cache_high && g_hi > t->cache)
        t->cache = MIN(g_hi, t->cache_high);
}

struct vma *vma_alloc(void)
{
    return kzalloc(sizeof(struct vma));
}

void vma_free(struct vma *v)
{
    if (v->file)
        vm_file_put(v->file);
    if (v->anon)
        vm_anon_put(v->anon);
    kfree(v);
}

void vma_take_refs(struct vma *v)
{
    if (v->file)
        vm_file_get(v->file);
    if (v->anon)
        vm_anon_get(v->anon);
}

struct vma *vma_dup(const struct vma *v)
{
    struct vma *c = vma_alloc();
    if (!c)
        return NULL;
    *c = *v;
    c->rb = (struct rb_node){ 0 };
    c->next_free = NULL;
    vma_take_refs(c);
    return c;
}

static struct vma *vma_of(const struct rb_node *n)
{
    return n ? rb_entry(n, struct vma, rb) : NULL;
}

struct vma *vma_find_from(const struct vma_tree *t, uintptr_t addr)
{
    struct vma *best = NULL;
    const struct rb_node *n = t->root.node;
    while (n) {
        struct vma *v = vma_of(n);
        if (v->end > addr) {
            best = v;
            if (v->start <= addr)
                break;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

struct vma *vma_find(const struct vma_tree *t, uintptr_t addr)
{
    struct vma *v = vma_find_from(t, addr);
    return v && v->start <= addr ? v : NULL;
}

struct vma *vma_last_before(const struct vma_tree *t, uintptr_t addr)
{
    struct vma *best = NULL;
    const struct rb_node *n = t->root.node;
    while (n) {
        struct vma *v = vma_of(n);
        if (v->start < addr) {
            best = v;
            n = n->right;
        } else {
            n = n->left;
        }
    }
    return best;
}

struct vma *vma_first(const struct vma_tree *t) { return vma_of(rb_first(&t->root)); }
struct vma *vma_last(const struct vma_tree *t) { return vma_of(rb_last(&t->root)); }
struct vma *vma_next(const struct vma *v) { return vma_of(rb_next(&v->rb)); }
struct vma *vma_prev(const struct vma *v) { return vma_of(rb_prev(&v->rb)); }

static void vma_link(struct vma_tree *t, struct vma *v)
{
    struct rb_node **link = &t->root.node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = v->start < vma_of(parent)->start ? &parent->left : &parent->right;
    }
    rb_link(&v->rb, parent, link);
    rb_insert_fixup(&t->root, &v->rb);
    t->count++;
    t->pages += vma_pages(v);
}

int vma_insert(struct vma_tree *t, struct vma *v)
{
    BUG_ON(v->start >= v->end || (v->start | v->end) & (VMA_PAGE - 1));
    if (!vma_range_free(t, v->start, v->end))
        return -EEXIST;
    vma_link(t, v);
    if (v->start == t->pending_start && v->end == t->pending_end && t->cache_high) {
        t->cache = v->start;
        t->cache_hole = t->pending_hole;
    }
    t->pending_start = t->pending_end = 0;
    return 0;
}

static void vma_unlink(struct vma_tree *t, struct vma *v)
{
    rb_erase(&t->root, &v->rb);
    t->count--;
    t->pages -= vma_pages(v);
}

void vma_remove(struct vma_tree *t, struct vma *v)
{
    struct vma *next = vma_next(v);
    vma_unlink(t, v);
    vma_cache_freed(t, next ? next->start : UINTPTR_MAX);
}

void vma_set_bounds(struct vma_tree *t, struct vma *v, uintptr_t start, uintptr_t end)
{
    BUG_ON(start >= end);
    if (start > v->start)
        vma_cache_freed(t, start);
    if (end < v->end) {
        struct vma *next = vma_next(v);
        vma_cache_freed(t, next ? next->start : UINTPTR_MAX);
    }
    t->pages -= vma_pages(v);
    if (vma_has_pgoff(v) && start != v->start)
        v->pgoff = v->pgoff + ((int64_t)(start - v->start) >> 12);
    v->start = start;
    v->end = end;
    t->pages += vma_pages(v);
}

struct vma *vma_split(struct vma_tree *t, struct vma *v, uintptr_t addr)
{
    BUG_ON(addr <= v->start || addr >= v->end || (addr & (VMA_PAGE - 1)));
    struct vma *hi = vma_alloc();
    if (!hi)
        return NULL;
    *hi = *v;
    hi->start = addr;
    if (vma_has_pgoff(v))
        hi->pgoff = v->pgoff + ((addr - v->start) >> 12);
    vma_take_refs(hi);
    t->pages -= (v->end - addr) >> 12;
    v->end = addr;
    vma_link(t, hi); /* counts hi's pages again */
    return hi;
}

int vma_split_at(struct vma_tree *t, uintptr_t addr)
{
    struct vma *v = vma_find(t, addr);
    if (!v || v->start == addr)
        return 0;
    return vma_split(t, v, addr) ? 0 : -ENOMEM;
}

bool vma_can_merge(const struct vma *a, const struct vma *b)
{
    if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || a->file != b->file ||
        a->special != b->special || a->anon != b->anon || a->name != b->name)
        return false;
    if (vma_has_pgoff(a))
        return a->pgoff + vma_pages(a) == b->pgoff;
    return true;
}

/* b follows a and merges into it. */
static void vma_absorb(struct vma_tree *t, struct vma *a, struct vma *b)
{
    uintptr_t end = b->end;
    vma_unlink(t, b); /* no gap appears: a takes b's place */
    vma_free(b);
    t->pages += (end - a->end) >> 12;
    a->end = end;
}

struct vma *vma_merge(struct vma_tree *t, struct vma *v)
{
    struct vma *next = vma_next(v);
    if (next && vma_can_merge(v, next))
        vma_absorb(t, v, next);
    struct vma *prev = vma_prev(v);
    if (prev && vma_can_merge(prev, v)) {
        vma_absorb(t, prev, v);
        v = prev;
    }
    return v;
}

void vma_merge_range(struct vma_tree *t, uintptr_t start, uintptr_t end)
{
    struct vma *v = vma_last_before(t, start);
    if (!v)
        v = vma_first(t);
    while (v && v->start <= end) {
        struct vma *next = vma_next(v);
        if (next && vma_can_merge(v, next)) {
            vma_absorb(t, v, next);
            continue; /* v grew: try its new neighbour */
        }
        v = next;
    }
}

struct vma *vma_detach_range(struct vma_tree *t, uintptr_t start, uintptr_t end, int *err)
{
    *err = 0;
    if (vma_split_at(t, start) != 0) {
        *err = -ENOMEM;
        return NULL;
    }
    if (vma_split_at(t, end) != 0) {
        vma_merge_range(t, start, start); /* undo the first split */
        *err = -ENOMEM;
        return NULL;
    }
    struct vma *head = NULL, **tail = &head;
    struct vma *v = vma_find_from(t, start);
    while (v && v->start < end) {
        struct vma *next = vma_next(v);
        vma_remove(t, v);
        v->next_free = NULL;
        *tail = v;
        tail = &v->next_free;
        v = next;
    }
    return head;
}

bool vma_range_mapped(const struct vma_tree *t, uintptr_t start, uintptr_t end)
{
    uintptr_t at = start;
    for (struct vma *v = vma_find_from(t, start); v && at < end; v = vma_next(v)) {
        if (v->start > at)
            return false;
        at = v->end;
    }
    return at >= end;
}

bool vma_range_free(const struct vma_tree *t, uintptr_t start, uintptr_t end)
{
    struct vma *v = vma_find_from(t, start);
    return !v || v->start >= end;
}

bool vma_range_fits(const struct vma_tree *t, uintptr_t start, uintptr_t end)
{
    struct vma *v = vma_find_from(t, start);
    if (v && (v->start < end || end > vma_start_gap(v)))
        return false;
    struct vma *prev = v ? vma_prev(v) : vma_last(t);
    return !prev || start >= vma_end_gap(prev);
}

/* Walk the gaps downwards from high: `v` bounds a gap from below, `above`
 * from above (its start minus a stack's guard gap). Reports the largest gap
 * passed over and the top of the gap the answer came from. */
static uintptr_t vma_gap_scan(const struct vma_tree *t, uint64_t len, uint64_t align, uintptr_t low,
                              uintptr_t high, uint64_t *skipped, uintptr_t *gap_top)
{
    *skipped = 0;
    if (!len || high <= low || high - low < len)
        return 0;
    struct vma *v = vma_last_before(t, high);
    struct vma *above = v ? vma_next(v) : vma_first(t);
    for (;;) {
        uintptr_t raw_hi = above ? MIN(high, above->start) : high;
        uintptr_t fit_hi = above ? MIN(high, vma_start_gap(above)) : high;
        uintptr_t lo = v ? MAX(vma_end_gap(v), low) : low;
        if (fit_hi > lo && fit_hi - lo >= len) {
            uintptr_t a = ALIGN_DOWN(fit_hi - len, align);
            if (a >= lo) {
                *gap_top = raw_hi;
                return a;
            }
        }
        if (raw_hi > lo)
            *skipped = MAX(*skipped, raw_hi - lo);
        if (!v || v->start <= low)
            return 0;
        above = v;
        v = vma_prev(v);
    }
}

uintptr_t vma_find_gap(const struct vma_tree *t, uint64_t len, uint64_t align, uintptr_t low,
                       uintptr_t high)
{
    uint64_t skipped;
    uintptr_t top;
    return vma_gap_scan(t, len, align, low, high, &skipped, &top);
}

uintptr_t vma_find_gap_cached(struct vma_tree *t, uint64_t len, uint64_t align, uintptr_t low,
                              uintptr_t high)
{
    if (t->cache_low != low || t->cache_high != high) {
        t->cache_low = low;
        t->cache_high = high;
        t->cache = high;
        t->cache_hole = 0;
    }
    bool from_cache = len > t->cache_hole; /* nothing above the cache is big enough */
    uint64_t skipped;
    uintptr_t gap_top;
    uintptr_t a = vma_gap_scan(t, len, align, low, from_cache ? t->cache : high, &skipped, &gap_top);
    if (!a)
        return 0;
    /* once [a, a+len) is taken, the gaps above a are the ones passed over,
     * the rest of a's gap, and (from the cache) those above the cache */
    uint64_t hole = MAX(skipped, gap_top - (a + len));
    if (from_cache)
        hole = MAX(hole, t->cache_hole);
    t->pending_start = a;
    t->pending_end = a + len;
    t->pending_hole = hole;
    return a;
}
