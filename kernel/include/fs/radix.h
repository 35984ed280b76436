/* A sparse array of pointers indexed by 64-bit numbers (a radix tree with
 * 64-way nodes): file pages by page index. Pure code; no locking. */
#pragma once

#include "lib/types.h"

struct radix {
    void *root;
    unsigned height;  /* levels; it holds indices below 64^height */
};

#define RADIX_INIT { NULL, 0 }

void *radix_lookup(const struct radix *r, uint64_t idx);
/* Store item (non-NULL) at an empty index: 0, -EEXIST or -ENOMEM. */
int radix_insert(struct radix *r, uint64_t idx, void *item);
/* Remove and return the item at idx (NULL if none). */
void *radix_remove(struct radix *r, uint64_t idx);
/* The first item at an index >= start: true with *idx and *item set. */
bool radix_next(const struct radix *r, uint64_t start, uint64_t *idx, void **item);
/* Free the tree's nodes (not the items); it is empty afterwards. */
void radix_destroy(struct radix *r);
