/* Host tests of the VMA tree (kernel/mm/vma.c): insert and lookup, split,
 * merge, range detach (munmap / MAP_FIXED replacement), mprotect-style
 * splitting and re-merging, guard gaps, top-down gap search, a random model
 * check against a page bitmap, and what fork needs: copies of VMAs with their
 * references, shared anonymous objects kept through splits and merges, and a
 * copied tree that answers every gap search as the original. */
#include "unit.h"
#include <string.h>

#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "mm/mman.h"
#include "mm/vma.h"

#define PG 4096ul

/* Host stand-ins for kmalloc and the VFS glue: count live objects and file references. */
static int live_vmas, file_refs;
struct file { int dummy; };
static struct file file_a, file_b;

void *kmalloc(size_t size) { live_vmas++; return malloc(size); }
void *kzalloc(size_t size) { live_vmas++; return calloc(1, size); }
void kfree(const void *p) { if (p) live_vmas--; free((void *)p); }
void vm_file_get(struct file *f) { (void)f; file_refs++; }
void vm_file_put(struct file *f) { (void)f; file_refs--; }
/* Shared anonymous objects: a counter per object. */
struct vm_anon { int refs; };
static struct vm_anon anon_a, anon_b;
void vm_anon_get(struct vm_anon *a) { a->refs++; }
void vm_anon_put(struct vm_anon *a) { a->refs--; }

static struct vma *mk(struct vma_tree *t, uintptr_t start, uintptr_t end, uint32_t prot)
{
    struct vma *v = vma_alloc();
    v->start = start;
    v->end = end;
    v->prot = prot;
    v->flags = VMA_ANON;
    CHECK_EQ(vma_insert(t, v), 0);
    return v;
}

static void free_all(struct vma_tree *t)
{
    int err;
    struct vma *v = vma_detach_range(t, 0, ~0ul & ~(PG - 1), &err);
    while (v) {
        struct vma *n = v->next_free;
        vma_free(v);
        v = n;
    }
    CHECK_EQ(t->count, 0);
    CHECK_EQ(t->pages, 0);
}

/* "start-end:prot start-end:prot ..." in page units, for compact checks. */
static const char *layout(const struct vma_tree *t)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = 0;
    for (struct vma *v = vma_first(t); v; v = vma_next(v))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%lx-%lx:%u", n ? " " : "",
                              v->start / PG, v->end / PG, v->prot);
    return buf;
}

UNIT_TEST(vma_insert_find_and_overlap)
{
    struct vma_tree t;
    vma_tree_init(&t);
    mk(&t, 10 * PG, 20 * PG, PROT_READ);
    mk(&t, 30 * PG, 40 * PG, PROT_READ);
    mk(&t, 20 * PG, 25 * PG, PROT_WRITE);
    CHECK_EQ(t.count, 3);
    CHECK_EQ(t.pages, 25);
    CHECK(vma_find(&t, 9 * PG) == NULL);
    CHECK_EQ(vma_find(&t, 10 * PG)->start, 10 * PG);
    CHECK_EQ(vma_find(&t, 20 * PG - 1)->start, 10 * PG);
    CHECK_EQ(vma_find(&t, 20 * PG)->start, 20 * PG);
    CHECK(vma_find(&t, 27 * PG) == NULL);
    CHECK_EQ(vma_find_from(&t, 27 * PG)->start, 30 * PG);
    CHECK(vma_find_from(&t, 40 * PG) == NULL);
    CHECK_EQ(vma_last_before(&t, 30 * PG)->start, 20 * PG);
    CHECK_EQ(vma_last_before(&t, 31 * PG)->start, 30 * PG);
    CHECK(vma_last_before(&t, 10 * PG) == NULL);

    struct vma *o = vma_alloc();
    o->start = 24 * PG;
    o->end = 31 * PG;
    CHECK_EQ(vma_insert(&t, o), -EEXIST);
    CHECK_EQ(t.count, 3);
    vma_free(o);
    CHECK(vma_range_mapped(&t, 10 * PG, 25 * PG));
    CHECK(!vma_range_mapped(&t, 10 * PG, 26 * PG));
    CHECK(vma_range_free(&t, 25 * PG, 30 * PG));
    CHECK(!vma_range_free(&t, 25 * PG, 31 * PG));
    free_all(&t);
    CHECK_EQ(live_vmas, 0);
}

UNIT_TEST(vma_split_keeps_file_offsets_and_refs)
{
    struct vma_tree t;
    vma_tree_init(&t);
    struct vma *v = vma_alloc();
    v->start = 100 * PG;
    v->end = 110 * PG;
    v->prot = PROT_READ;
    v->file = &file_a;
    v->pgoff = 7;
    file_refs = 1;
    CHECK_EQ(vma_insert(&t, v), 0);
    struct vma *hi = vma_split(&t, v, 104 * PG);
    CHECK(hi != NULL);
    CHECK_EQ(v->end, 104 * PG);
    CHECK_EQ(hi->start, 104 * PG);
    CHECK_EQ(hi->pgoff, 11);
    CHECK_EQ(file_refs, 2);
    CHECK_EQ(t.count, 2);
    CHECK_EQ(t.pages, 10);
    /* contiguous file offsets merge back */
    CHECK(vma_can_merge(v, hi));
    CHECK(vma_merge(&t, hi) == v);
    CHECK_EQ(t.count, 1);
    CHECK_EQ(v->end, 110 * PG);
    CHECK_EQ(file_refs, 1);
    free_all(&t);
    CHECK_EQ(file_refs, 0);
}

UNIT_TEST(vma_merge_rules)
{
    struct vma_tree t;
    vma_tree_init(&t);
    struct vma *a = mk(&t, 0x10 * PG, 0x20 * PG, PROT_READ);
    struct vma *b = mk(&t, 0x20 * PG, 0x30 * PG, PROT_READ | PROT_WRITE);
    CHECK(!vma_can_merge(a, b)); /* different protection */
    b->prot = PROT_READ;
    b->name = "[heap]";
    CHECK(!vma_can_merge(a, b)); /* different name */
    b->name = NULL;
    CHECK(vma_can_merge(a, b));
    struct vma *c = mk(&t, 0x31 * PG, 0x40 * PG, PROT_READ);
    CHECK(!vma_can_merge(b, c)); /* not adjacent */
    /* files: same file and contiguous offsets only */
    a->file = &file_a;
    b->file = &file_a;
    a->pgoff = 0;
    b->pgoff = 0x11;
    CHECK(!vma_can_merge(a, b));
    b->pgoff = 0x10;
    CHECK(vma_can_merge(a, b));
    b->file = &file_b;
    CHECK(!vma_can_merge(a, b));
    a->file = b->file = NULL;
    vma_merge_range(&t, 0, 0x100 * PG);
    CHECK_STR(layout(&t), "10-30:1 31-40:1");
    free_all(&t);
}

UNIT_TEST(vma_detach_range_splits_edges)
{
    struct vma_tree t;
    vma_tree_init(&t);
    mk(&t, 0x10 * PG, 0x20 * PG, 1);
    mk(&t, 0x20 * PG, 0x30 * PG, 3);
    mk(&t, 0x40 * PG, 0x50 * PG, 1);
    int err;
    /* munmap in the middle of the first, through the second, into a hole */
    struct vma *gone = vma_detach_range(&t, 0x18 * PG, 0x38 * PG, &err);
    CHECK_EQ(err, 0);
    CHECK_STR(layout(&t), "10-18:1 40-50:1");
    int n = 0;
    uintptr_t at = 0x18 * PG;
    for (struct vma *v = gone; v; v = gone) {
        CHECK_EQ(v->start, at);
        at = v->end;
        gone = v->next_free;
        vma_free(v);
        n++;
    }
    CHECK_EQ(n, 2);
    CHECK_EQ(at, 0x30 * PG);
    /* a hole in the middle of a VMA: two pieces remain */
    gone = vma_detach_range(&t, 0x44 * PG, 0x45 * PG, &err);
    CHECK(gone && !gone->next_free);
    vma_free(gone);
    CHECK_STR(layout(&t), "10-18:1 40-44:1 45-50:1");
    CHECK_EQ(t.pages, 8 + 4 + 11);
    /* unmapping nothing */
    CHECK(vma_detach_range(&t, 0x100 * PG, 0x200 * PG, &err) == NULL);
    CHECK_EQ(err, 0);
    free_all(&t);
    CHECK_EQ(live_vmas, 0);
}

UNIT_TEST(vma_map_fixed_replaces)
{
    /* MAP_FIXED over the middle of two mappings: detach then insert */
    struct vma_tree t;
    vma_tree_init(&t);
    mk(&t, 0x10 * PG, 0x20 * PG, 1);
    mk(&t, 0x20 * PG, 0x30 * PG, 1);
    int err;
    struct vma *gone = vma_detach_range(&t, 0x1c * PG, 0x24 * PG, &err);
    while (gone) {
        struct vma *n = gone->next_free;
        vma_free(gone);
        gone = n;
    }
    struct vma *v = mk(&t, 0x1c * PG, 0x24 * PG, 3);
    vma_merge(&t, v);
    CHECK_STR(layout(&t), "10-1c:1 1c-24:3 24-30:1");
    /* same protection: it all merges into one */
    gone = vma_detach_range(&t, 0x1c * PG, 0x24 * PG, &err);
    vma_free(gone);
    v = mk(&t, 0x1c * PG, 0x24 * PG, 1);
    vma_merge(&t, v);
    CHECK_STR(layout(&t), "10-30:1");
    CHECK_EQ(t.count, 1);
    CHECK_EQ(t.pages, 0x20);
    free_all(&t);
}

UNIT_TEST(vma_mprotect_split_and_merge)
{
    struct vma_tree t;
    vma_tree_init(&t);
    mk(&t, 0x100 * PG, 0x200 * PG, PROT_READ | PROT_WRITE);
    /* mprotect the middle read-only: three VMAs */
    CHECK_EQ(vma_split_at(&t, 0x140 * PG), 0);
    CHECK_EQ(vma_split_at(&t, 0x180 * PG), 0);
    vma_find(&t, 0x140 * PG)->prot = PROT_READ;
    vma_merge_range(&t, 0x140 * PG, 0x180 * PG);
    CHECK_STR(layout(&t), "100-140:3 140-180:1 180-200:3");
    /* the upper part too: merges with the middle */
    CHECK_EQ(vma_split_at(&t, 0x180 * PG), 0); /* already a boundary: no-op */
    CHECK_EQ(vma_split_at(&t, 0x200 * PG), 0);
    vma_find(&t, 0x180 * PG)->prot = PROT_READ;
    vma_merge_range(&t, 0x180 * PG, 0x200 * PG);
    CHECK_STR(layout(&t), "100-140:3 140-200:1");
    /* back to read-write everywhere: one VMA again */
    vma_find(&t, 0x140 * PG)->prot = PROT_READ | PROT_WRITE;
    vma_merge_range(&t, 0x140 * PG, 0x200 * PG);
    CHECK_STR(layout(&t), "100-200:3");
    CHECK_EQ(t.count, 1);
    free_all(&t);
}

UNIT_TEST(vma_gap_search_top_down)
{
    struct vma_tree t;
    vma_tree_init(&t);
    uintptr_t low = 0x10 * PG, high = 0x1000 * PG;
    /* empty: right below high */
    CHECK_EQ(vma_find_gap(&t, 4 * PG, PG, low, high), high - 4 * PG);
    /* successive allocations stack downwards */
    uintptr_t a = vma_find_gap(&t, 4 * PG, PG, low, high);
    mk(&t, a, a + 4 * PG, 1);
    uintptr_t b = vma_find_gap(&t, 8 * PG, PG, low, high);
    CHECK_EQ(b, a - 8 * PG);
    mk(&t, b, b + 8 * PG, 1);
    /* a hole above is reused when it fits */
    int err;
    struct vma *gone = vma_detach_range(&t, a, a + 4 * PG, &err);
    vma_free(gone);
    CHECK_EQ(vma_find_gap(&t, 2 * PG, PG, low, high), high - 2 * PG);
    CHECK_EQ(vma_find_gap(&t, 5 * PG, PG, low, high), b - 5 * PG);
    /* alignment */
    uintptr_t c = vma_find_gap(&t, 3 * PG, 0x100 * PG, low, high);
    CHECK_EQ(c % (0x100 * PG), 0);
    CHECK(c + 3 * PG <= b);
    /* nothing fits */
    CHECK_EQ(vma_find_gap(&t, high, PG, low, high), 0);
    /* exact fit at the bottom */
    free_all(&t);
    mk(&t, low + 2 * PG, high, 1);
    CHECK_EQ(vma_find_gap(&t, 2 * PG, PG, low, high), low);
    CHECK_EQ(vma_find_gap(&t, 3 * PG, PG, low, high), 0);
    free_all(&t);
}

UNIT_TEST(vma_guard_gap_below_stacks)
{
    struct vma_tree t;
    vma_tree_init(&t);
    uintptr_t top = 0x100000 * PG;
    struct vma *stack = mk(&t, top - 0x20 * PG, top, 3);
    stack->flags |= VMA_GROWSDOWN;
    uintptr_t a = vma_find_gap(&t, PG, PG, PG, top);
    CHECK_EQ(a, top - 0x20 * PG - VMA_STACK_GUARD_GAP - PG);
    CHECK(!vma_range_fits(&t, top - 0x21 * PG, top - 0x20 * PG));
    CHECK(vma_range_free(&t, top - 0x21 * PG, top - 0x20 * PG));
    CHECK(vma_range_fits(&t, a, a + PG));
    /* an ordinary VMA has no guard */
    stack->flags &= ~VMA_GROWSDOWN;
    CHECK(vma_range_fits(&t, top - 0x21 * PG, top - 0x20 * PG));
    free_all(&t);
}

UNIT_TEST(vma_set_bounds_grows_stack)
{
    struct vma_tree t;
    vma_tree_init(&t);
    struct vma *v = mk(&t, 0x50 * PG, 0x60 * PG, 3);
    vma_set_bounds(&t, v, 0x40 * PG, 0x60 * PG);
    CHECK_EQ(t.pages, 0x20);
    CHECK(vma_find(&t, 0x40 * PG) == v);
    vma_set_bounds(&t, v, 0x40 * PG, 0x70 * PG);
    CHECK_EQ(t.pages, 0x30);
    free_all(&t);
}

/* Random operations against a model: one byte of protection per page. */
#define MODEL_PAGES 512
static uint8_t model[MODEL_PAGES]; /* 0: unmapped, else prot + 1 */

static void model_check(const struct vma_tree *t)
{
    uint8_t seen[MODEL_PAGES] = { 0 };
    uint64_t pages = 0;
    unsigned count = 0;
    struct vma *prev = NULL;
    for (struct vma *v = vma_first(t); v; v = vma_next(v)) {
        CHECK(v->start < v->end);
        if (prev) {
            CHECK(prev->end <= v->start);
            CHECK(!vma_can_merge(prev, v)); /* always fully merged */
        }
        for (uintptr_t p = v->start / PG; p < v->end / PG; p++)
            seen[p] = (uint8_t)(v->prot + 1);
        pages += vma_pages(v);
        count++;
        prev = v;
    }
    CHECK(memcmp(seen, model, sizeof(seen)) == 0);
    CHECK_EQ(pages, t->pages);
    CHECK_EQ(count, t->count);
}

static void random_model(unsigned seed)
{
    struct vma_tree t;
    vma_tree_init(&t);
    memset(model, 0, sizeof(model));
    for (int round = 0; round < 4000; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned s = (seed >> 8) % MODEL_PAGES, n = 1 + (seed >> 20) % 40;
        unsigned e = MIN(s + n, (unsigned)MODEL_PAGES);
        uint32_t prot = (seed >> 4) % 3;
        int op = (seed >> 12) % 3, err;
        if (op == 0) { /* mmap MAP_FIXED */
            struct vma *gone = vma_detach_range(&t, s * PG, e * PG, &err);
            while (gone) {
                struct vma *x = gone->next_free;
                vma_free(gone);
                gone = x;
            }
            struct vma *v = mk(&t, s * PG, e * PG, prot);
            vma_merge(&t, v);
            memset(model + s, prot + 1, e - s);
        } else if (op == 1) { /* munmap */
            struct vma *gone = vma_detach_range(&t, s * PG, e * PG, &err);
            while (gone) {
                struct vma *x = gone->next_free;
                vma_free(gone);
                gone = x;
            }
            memset(model + s, 0, e - s);
        } else { /* mprotect of whatever is mapped there */
            vma_split_at(&t, s * PG);
            vma_split_at(&t, e * PG);
            for (struct vma *v = vma_find_from(&t, s * PG); v && v->start < e * PG; v = vma_next(v))
                v->prot = prot;
            vma_merge_range(&t, s * PG, e * PG);
            for (unsigned p = s; p < e; p++)
                if (model[p])
                    model[p] = (uint8_t)(prot + 1);
        }
        model_check(&t);
        /* the cached search gives the exact answer; sometimes it is then taken */
        uint64_t want = (1 + (seed >> 16) % 24) * PG, al = (seed & 0x100) ? 8 * PG : PG;
        uintptr_t exact = vma_find_gap(&t, want, al, PG, MODEL_PAGES * PG);
        uintptr_t cached = vma_find_gap_cached(&t, want, al, PG, MODEL_PAGES * PG);
        CHECK_EQ(cached, exact);
        if (cached && (seed & 0x200)) {
            struct vma *v = mk(&t, cached, cached + want, prot);
            vma_merge(&t, v);
            memset(model + cached / PG, prot + 1, want / PG);
            model_check(&t);
        }
        /* the gap search agrees with the model */
        uintptr_t g = vma_find_gap(&t, 3 * PG, PG, PG, MODEL_PAGES * PG);
        unsigned best = 0;
        for (unsigned p = MODEL_PAGES - 3; p >= 1; p--)
            if (!model[p] && !model[p + 1] && !model[p + 2]) {
                best = p;
                break;
            }
        CHECK_EQ(g, best * PG);
    }
    free_all(&t);
    CHECK_EQ(live_vmas, 0);
}

UNIT_TEST(vma_random_model)
{
    for (unsigned seed = 1; seed <= 8; seed++)
        random_model(seed * 7919u);
}

/* Stacks (guard gaps) mixed in: the cached search still matches the exact one. */
UNIT_TEST(vma_cached_search_with_stacks)
{
    struct vma_tree t;
    vma_tree_init(&t);
    unsigned seed = 99;
    uintptr_t low = 0x10 * PG, high = 0x4000 * PG;
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t len = (1 + (seed >> 8) % 300) * PG;
        uintptr_t a = vma_find_gap_cached(&t, len, PG, low, high);
        CHECK_EQ(a, vma_find_gap(&t, len, PG, low, high));
        if (a && (seed >> 20) % 4) {
            struct vma *v = mk(&t, a, a + len, (seed >> 4) % 2);
            if ((seed >> 24) % 5 == 0)
                v->flags |= VMA_GROWSDOWN;
            vma_merge(&t, v);
        } else if (t.count) { /* unmap a random piece */
            uintptr_t s0 = low + ((seed >> 6) % 0x3f00) * PG;
            int err;
            struct vma *gone = vma_detach_range(&t, s0, s0 + len, &err);
            while (gone) {
                struct vma *x = gone->next_free;
                vma_free(gone);
                gone = x;
            }
        }
    }
    free_all(&t);
}

/* ---- fork ---- */

UNIT_TEST(vma_dup_copies_attributes_and_references)
{
    struct vma_tree t, c;
    vma_tree_init(&t);
    vma_tree_init(&c);
    struct vma *f = mk(&t, 0x10 * PG, 0x20 * PG, PROT_READ | PROT_EXEC);
    f->file = &file_a;
    f->flags = VMA_MAYWRITE | VMA_LOCKED;
    f->pgoff = 3;
    f->name = "x";
    file_refs = 1;
    struct vma *d = vma_dup(f);
    CHECK(d && d != f);
    CHECK_EQ(file_refs, 2);
    CHECK_EQ(d->start, f->start);
    CHECK_EQ(d->end, f->end);
    CHECK_EQ(d->prot, f->prot);
    CHECK_EQ(d->flags, f->flags);
    CHECK_EQ(d->pgoff, 3);
    CHECK(d->file == &file_a && d->name == f->name && !d->next_free);
    CHECK_EQ(vma_insert(&c, d), 0); /* a detached node: fits another tree */
    CHECK_EQ(c.count, 1);
    CHECK_EQ(c.pages, 16);
    free_all(&c);
    CHECK_EQ(file_refs, 1);
    free_all(&t);
    CHECK_EQ(file_refs, 0);
    CHECK_EQ(live_vmas, 0);
}

UNIT_TEST(vma_fork_predicates)
{
    struct vma v = { .flags = VMA_ANON };
    CHECK(vma_fork_copies(&v) && vma_fork_copies_pages(&v));
    v.flags |= VMA_WIPEONFORK;
    CHECK(vma_fork_copies(&v) && !vma_fork_copies_pages(&v));
    v.flags = VMA_ANON | VMA_DONTFORK;
    CHECK(!vma_fork_copies(&v) && !vma_fork_copies_pages(&v));
    CHECK(VMA_FORK_DROPPED & VMA_LOCKED);
    CHECK(!(VMA_FORK_DROPPED & (VMA_SHARED | VMA_ANON | VMA_GROWSDOWN | VMA_STACK | VMA_WIPEONFORK)));
}

UNIT_TEST(vma_shared_anon_object_through_split_and_merge)
{
    struct vma_tree t;
    vma_tree_init(&t);
    anon_a.refs = 1;
    anon_b.refs = 1;
    struct vma *v = mk(&t, 0x100 * PG, 0x110 * PG, PROT_READ | PROT_WRITE);
    v->flags = VMA_ANON | VMA_SHARED;
    v->anon = &anon_a;
    CHECK(vma_has_pgoff(v));
    /* mprotect in the middle: three pieces, each referring to the object
     * at the right page offset */
    CHECK_EQ(vma_split_at(&t, 0x104 * PG), 0);
    CHECK_EQ(vma_split_at(&t, 0x108 * PG), 0);
    CHECK_EQ(anon_a.refs, 3);
    struct vma *mid = vma_find(&t, 0x105 * PG), *hi = vma_find(&t, 0x10f * PG);
    CHECK_EQ(mid->pgoff, 4);
    CHECK_EQ(hi->pgoff, 8);
    CHECK(mid->anon == &anon_a && hi->anon == &anon_a);
    mid->prot = PROT_READ;
    vma_merge_range(&t, 0x100 * PG, 0x110 * PG);
    CHECK_EQ(t.count, 3);
    mid->prot = PROT_READ | PROT_WRITE;
    vma_merge_range(&t, 0x100 * PG, 0x110 * PG);
    CHECK_EQ(t.count, 1);
    CHECK_EQ(anon_a.refs, 1);
    /* a neighbour of another object never merges with it */
    struct vma *w = mk(&t, 0x110 * PG, 0x120 * PG, PROT_READ | PROT_WRITE);
    w->flags = VMA_ANON | VMA_SHARED;
    w->anon = &anon_b;
    CHECK(!vma_can_merge(vma_find(&t, 0x100 * PG), w));
    /* moving the start of a piece moves its offset (stack-style growth) */
    vma_set_bounds(&t, w, 0x112 * PG, 0x120 * PG);
    CHECK_EQ(w->pgoff, 2);
    struct vma *d = vma_dup(w);
    CHECK_EQ(anon_b.refs, 2);
    vma_take_refs(d);
    CHECK_EQ(anon_b.refs, 3);
    vma_free(d);
    anon_b.refs--; /* the extra vma_take_refs */
    free_all(&t);
    CHECK_EQ(anon_a.refs, 0);
    CHECK_EQ(anon_b.refs, 0);
    CHECK_EQ(live_vmas, 0);
}

/* A child's tree is built by inserting copies in address order into an
 * empty tree: its gap cache starts empty, and every search must give the
 * parent's answer. */
UNIT_TEST(vma_copied_tree_searches_like_the_original)
{
    struct vma_tree t, c;
    vma_tree_init(&t);
    unsigned seed = 4242;
    uintptr_t low = 0x10 * PG, high = 0x8000 * PG;
    for (int i = 0; i < 600; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t len = (1 + (seed >> 8) % 64) * PG;
        uintptr_t a = vma_find_gap_cached(&t, len, PG, low, high);
        if (!a)
            break;
        struct vma *v = mk(&t, a, a + len, (seed >> 4) % 3);
        if ((seed >> 20) % 7 == 0)
            v->flags |= VMA_GROWSDOWN;
        if ((seed >> 12) % 5 == 0) { /* holes */
            int err;
            struct vma *gone = vma_detach_range(&t, a, a + PG, &err);
            while (gone) {
                struct vma *n = gone->next_free;
                vma_free(gone);
                gone = n;
            }
        }
    }
    vma_tree_init(&c);
    for (struct vma *v = vma_first(&t); v; v = vma_next(v))
        CHECK_EQ(vma_insert(&c, vma_dup(v)), 0);
    CHECK_EQ(c.count, t.count);
    CHECK_EQ(c.pages, t.pages);
    for (struct vma *x = vma_first(&t), *y = vma_first(&c); x || y; x = vma_next(x), y = vma_next(y)) {
        CHECK(x && y);
        if (!x || !y)
            break;
        CHECK_EQ(y->start, x->start);
        CHECK_EQ(y->end, x->end);
        CHECK_EQ(y->prot, x->prot);
        CHECK_EQ(y->flags, x->flags);
    }
    for (int i = 0; i < 400; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t len = (1 + (seed >> 8) % 128) * PG, al = (seed & 0x100) ? 16 * PG : PG;
        uintptr_t want = vma_find_gap(&t, len, al, low, high);
        CHECK_EQ(vma_find_gap_cached(&c, len, al, low, high), want);
        CHECK_EQ(vma_find_gap_cached(&t, len, al, low, high), want);
    }
    free_all(&c);
    free_all(&t);
    CHECK_EQ(live_vmas, 0);
}
