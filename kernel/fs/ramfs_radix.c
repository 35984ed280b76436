/* Radix tree of pointers (fs/radix.h): 64 slots per node, grown in height as
 * larger indices arrive, empty nodes freed on removal. */
#include "fs/radix.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"

#define RADIX_SHIFT 6
#define RADIX_SLOTS 64
#define RADIX_MAX_HEIGHT 11 /* 66 bits: every uint64_t index */

struct radix_node {
    void *slots[RADIX_SLOTS];
};

static unsigned slot_of(uint64_t idx, unsigned level)
{
    return (unsigned)(idx >> (level * RADIX_SHIFT)) & (RADIX_SLOTS - 1);
}

static bool fits(unsigned height, uint64_t idx)
{
    return height >= RADIX_MAX_HEIGHT || (height * RADIX_SHIFT < 64 && idx >> (height * RADIX_SHIFT) == 0);
}

void *radix_lookup(const struct radix *r, uint64_t idx)
{
    if (!r->root || !fits(r->height, idx))
        return NULL;
    void *p = r->root;
    for (unsigned level = r->height; level-- > 0;) {
        p = ((struct radix_node *)p)->slots[slot_of(idx, level)];
        if (!p)
            return NULL;
    }
    return p;
}

int radix_insert(struct radix *r, uint64_t idx, void *item)
{
    while (!fits(r->height, idx) || r->height == 0) {
        if (!r->root) { /* empty: just make it tall enough */
            r->height++;
            continue;
        }
        struct radix_node *n = kzalloc(sizeof(*n));
        if (!n)
            return -ENOMEM;
        n->slots[0] = r->root;
        r->root = n;
        r->height++;
    }
    void **slot = &r->root;
    for (unsigned level = r->height; level-- > 0;) {
        if (!*slot) {
            *slot = kzalloc(sizeof(struct radix_node));
            if (!*slot)
                return -ENOMEM; /* empty nodes left behind are harmless and reused */
        }
        slot = &((struct radix_node *)*slot)->slots[slot_of(idx, level)];
    }
    if (*slot)
        return -EEXIST;
    *slot = item;
    return 0;
}

static bool node_empty(const struct radix_node *n)
{
    for (unsigned i = 0; i < RADIX_SLOTS; i++)
        if (n->slots[i])
            return false;
    return true;
}

void *radix_remove(struct radix *r, uint64_t idx)
{
    if (!r->root || !fits(r->height, idx) || r->height == 0)
        return NULL;
    void **path[RADIX_MAX_HEIGHT + 1];
    void **slot = &r->root;
    unsigned depth = 0;
    for (unsigned level = r->height; level-- > 0;) {
        if (!*slot)
            return NULL;
        path[depth++] = slot;
        slot = &((struct radix_node *)*slot)->slots[slot_of(idx, level)];
    }
    void *item = *slot;
    *slot = NULL;
    while (depth > 0 && node_empty(*path[depth - 1])) { /* free emptied nodes upwards */
        depth--;
        kfree(*path[depth]);
        *path[depth] = NULL;
    }
    if (!r->root)
        r->height = 0;
    return item;
}

static bool next_in(void *p, unsigned level, uint64_t base, uint64_t start, uint64_t *idx, void **item)
{
    struct radix_node *n = p;
    uint64_t span = (uint64_t)1 << (level * RADIX_SHIFT); /* indices per slot */
    for (unsigned s = 0; s < RADIX_SLOTS; s++) {
        uint64_t lo = base + s * span, hi = lo + (span - 1);
        if (!n->slots[s] || hi < start)
            continue;
        if (level == 0) {
            *idx = lo;
            *item = n->slots[s];
            return true;
        }
        if (next_in(n->slots[s], level - 1, lo, start, idx, item))
            return true;
    }
    return false;
}

bool radix_next(const struct radix *r, uint64_t start, uint64_t *idx, void **item)
{
    if (!r->root || r->height == 0 || !fits(r->height, start))
        return false;
    return next_in(r->root, r->height - 1, 0, start, idx, item);
}

static void destroy_node(void *p, unsigned level)
{
    struct radix_node *n = p;
    if (level > 0)
        for (unsigned s = 0; s < RADIX_SLOTS; s++)
            if (n->slots[s])
                destroy_node(n->slots[s], level - 1);
    kfree(n);
}

void radix_destroy(struct radix *r)
{
    if (r->root && r->height > 0)
        destroy_node(r->root, r->height - 1);
    r->root = NULL;
    r->height = 0;
}
