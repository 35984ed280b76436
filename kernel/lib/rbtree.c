/* Red-black tree rebalancing (insert fix-up and erase), after the classic
 * textbook algorithm with parent pointers; colour lives in the parent's low bit. */
#include "lib/rbtree.h"

#define RB_RED 0
#define RB_BLACK 1

static inline bool rb_is_black(const struct rb_node *n)
{
    return !n || (n->parent_color & 1);
}

static inline bool rb_is_red(const struct rb_node *n)
{
    return !rb_is_black(n);
}

static inline void rb_set_black(struct rb_node *n)
{
    n->parent_color |= RB_BLACK;
}

static inline void rb_set_red(struct rb_node *n)
{
    n->parent_color &= ~(uintptr_t)1;
}

static inline void rb_set_parent(struct rb_node *n, struct rb_node *p)
{
    n->parent_color = (n->parent_color & 1) | (uintptr_t)p;
}

static inline void rb_copy_color(struct rb_node *dst, const struct rb_node *src)
{
    dst->parent_color = (dst->parent_color & ~(uintptr_t)1) | (src->parent_color & 1);
}

/* Make `repl` take `old`'s place under old's parent. */
static void rb_replace_child(struct rb_root *root, struct rb_node *old, struct rb_node *repl)
{
    struct rb_node *p = rb_parent(old);
    if (!p)
        root->node = repl;
    else if (p->left == old)
        p->left = repl;
    else
        p->right = repl;
}

static void rb_rotate_left(struct rb_root *root, struct rb_node *x)
{
    struct rb_node *y = x->right;
    x->right = y->left;
    if (y->left)
        rb_set_parent(y->left, x);
    rb_set_parent(y, rb_parent(x));
    rb_replace_child(root, x, y);
    y->left = x;
    rb_set_parent(x, y);
}

static void rb_rotate_right(struct rb_root *root, struct rb_node *x)
{
    struct rb_node *y = x->left;
    x->left = y->right;
    if (y->right)
        rb_set_parent(y->right, x);
    rb_set_parent(y, rb_parent(x));
    rb_replace_child(root, x, y);
    y->right = x;
    rb_set_parent(x, y);
}

void rb_insert_fixup(struct rb_root *root, struct rb_node *n)
{
    struct rb_node *p;
    while ((p = rb_parent(n)) && rb_is_red(p)) {
        struct rb_node *g = rb_parent(p); /* exists: a red node is never the root */
        if (p == g->left) {
            struct rb_node *u = g->right;
            if (rb_is_red(u)) {
                rb_set_black(p);
                rb_set_black(u);
                rb_set_red(g);
                n = g;
                continue;
            }
            if (n == p->right) {
                rb_rotate_left(root, p);
                n = p;
                p = rb_parent(n);
            }
            rb_set_black(p);
            rb_set_red(g);
            rb_rotate_right(root, g);
        } else {
            struct rb_node *u = g->left;
            if (rb_is_red(u)) {
                rb_set_black(p);
                rb_set_black(u);
                rb_set_red(g);
                n = g;
                continue;
            }
            if (n == p->left) {
                rb_rotate_right(root, p);
                n = p;
                p = rb_parent(n);
            }
            rb_set_black(p);
            rb_set_red(g);
            rb_rotate_left(root, g);
        }
    }
    rb_set_black(root->node);
}

/* Restore black heights after removing a black node; x (possibly NULL) is the
 * child that took its place under parent. */
static void rb_erase_fixup(struct rb_root *root, struct rb_node *x, struct rb_node *parent)
{
    while (x != root->node && rb_is_black(x)) {
        if (x == parent->left) {
            struct rb_node *w = parent->right;
            if (rb_is_red(w)) {
                rb_set_black(w);
                rb_set_red(parent);
                rb_rotate_left(root, parent);
                w = parent->right;
            }
            if (rb_is_black(w->left) && rb_is_black(w->right)) {
                rb_set_red(w);
                x = parent;
                parent = rb_parent(x);
                continue;
            }
            if (rb_is_black(w->right)) {
                rb_set_black(w->left);
                rb_set_red(w);
                rb_rotate_right(root, w);
                w = parent->right;
            }
            rb_copy_color(w, parent);
            rb_set_black(parent);
            rb_set_black(w->right);
            rb_rotate_left(root, parent);
        } else {
            struct rb_node *w = parent->left;
            if (rb_is_red(w)) {
                rb_set_black(w);
                rb_set_red(parent);
                rb_rotate_right(root, parent);
                w = parent->left;
            }
            if (rb_is_black(w->left) && rb_is_black(w->right)) {
                rb_set_red(w);
                x = parent;
                parent = rb_parent(x);
                continue;
            }
            if (rb_is_black(w->left)) {
                rb_set_black(w->right);
                rb_set_red(w);
                rb_rotate_left(root, w);
                w = parent->left;
            }
            rb_copy_color(w, parent);
            rb_set_black(parent);
            rb_set_black(w->left);
            rb_rotate_right(root, parent);
        }
        x = root->node;
        break;
    }
    if (x)
        rb_set_black(x);
}

void rb_erase(struct rb_root *root, struct rb_node *z)
{
    struct rb_node *x, *parent;
    bool removed_black;

    if (!z->left || !z->right) {
        x = z->left ? z->left : z->right;
        parent = rb_parent(z);
        removed_black = rb_is_black(z);
        if (x)
            rb_set_parent(x, parent);
        rb_replace_child(root, z, x);
    } else {
        /* Two children: splice out the successor y and put it where z was. */
        struct rb_node *y = z->right;
        while (y->left)
            y = y->left;
        removed_black = rb_is_black(y);
        x = y->right;
        if (rb_parent(y) == z) {
            parent = y;
        } else {
            parent = rb_parent(y);
            parent->left = x;
            if (x)
                rb_set_parent(x, parent);
            y->right = z->right;
            rb_set_parent(z->right, y);
        }
        y->left = z->left;
        rb_set_parent(z->left, y);
        rb_replace_child(root, z, y);
        y->parent_color = z->parent_color; /* parent and colour of z */
    }
    if (removed_black)
        rb_erase_fixup(root, x, parent);
}

struct rb_node *rb_first(const struct rb_root *root)
{
    struct rb_node *n = root->node;
    if (n)
        while (n->left)
            n = n->left;
    return n;
}

struct rb_node *rb_last(const struct rb_root *root)
{
    struct rb_node *n = root->node;
    if (n)
        while (n->right)
            n = n->right;
    return n;
}

struct rb_node *rb_next(const struct rb_node *n)
{
    if (n->right) {
        n = n->right;
        while (n->left)
            n = n->left;
        return (struct rb_node *)n;
    }
    struct rb_node *p;
    while ((p = rb_parent(n)) && n == p->right)
        n = p;
    return p;
}

struct rb_node *rb_prev(const struct rb_node *n)
{
    if (n->left) {
        n = n->left;
        while (n->right)
            n = n->right;
        return (struct rb_node *)n;
    }
    struct rb_node *p;
    while ((p = rb_parent(n)) && n == p->left)
        n = p;
    return p;
}
