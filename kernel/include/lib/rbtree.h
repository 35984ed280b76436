/* Intrusive red-black tree: the caller walks down to insert, the tree rebalances. */
#pragma once

#include "lib/types.h"

struct rb_node {
    uintptr_t parent_color; /* parent pointer, low bit = colour (1 = black) */
    struct rb_node *left, *right;
};

struct rb_root {
    struct rb_node *node;
};

#define RB_ROOT_INIT { NULL }
#define rb_entry(ptr, type, member) container_of(ptr, type, member)

static inline struct rb_node *rb_parent(const struct rb_node *n)
{
    return (struct rb_node *)(n->parent_color & ~(uintptr_t)1);
}

/* Link n as a child of parent at *link (found by the caller's search), then
 * call rb_insert_fixup to rebalance. */
static inline void rb_link(struct rb_node *n, struct rb_node *parent, struct rb_node **link)
{
    n->parent_color = (uintptr_t)parent; /* red */
    n->left = n->right = NULL;
    *link = n;
}

void rb_insert_fixup(struct rb_root *root, struct rb_node *n);
void rb_erase(struct rb_root *root, struct rb_node *n);
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);
