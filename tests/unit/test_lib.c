/* Host tests of the freestanding library: printf formatting, number parsing,
 * the red-black tree (checked against its invariants after every operation). */
#include "unit.h"
#include <string.h>

#include "lib/errno.h"
#include "lib/parse.h"
#include "lib/rbtree.h"

int kernel_snprintf(char *buf, size_t size, const char *fmt, ...);

#define FMT(expect, ...)                                                      \
    do {                                                                      \
        char b_[128];                                                         \
        int n_ = kernel_snprintf(b_, sizeof(b_), __VA_ARGS__);                \
        CHECK_STR(b_, expect);                                                \
        CHECK_EQ(n_, (int)strlen(expect));                                    \
    } while (0)

UNIT_TEST(printf_integers)
{
    FMT("0", "%d", 0);
    FMT("-42", "%d", -42);
    FMT("-9223372036854775808", "%ld", (long)INT64_MIN);
    FMT("18446744073709551615", "%lu", UINT64_MAX);
    FMT("ff FF 0xff", "%x %X %#x", 255, 255, 255);
    FMT("0", "%#x", 0);
    FMT("  42|42  |00042", "%4d|%-4d|%05d", 42, 42, 42);
    FMT("+5 -5 ' 5'", "%+d %+d '% d'", 5, -5, 5);
    FMT("-0042", "%05d", -42);
    FMT("00042", "%.5d", 42);
    FMT("", "%.0d", 0);
    FMT("17", "%o", 15);
    FMT("255 65535 ffffffffffffffff", "%hhu %hu %llx", 0x1ff, 0x1ffff, ~0ull);
    FMT("   7", "%*d", 4, 7);
    FMT("12345678", "%zu", (size_t)12345678);
}

UNIT_TEST(printf_strings_pointers)
{
    FMT("hello", "%s", "hello");
    FMT("(null)", "%s", (char *)NULL);
    FMT("he", "%.2s", "hello");
    FMT("   hi|hi   ", "%5s|%-5s", "hi", "hi");
    FMT("x", "%c", 'x');
    FMT("100%", "100%%");
    FMT("0xffffffff80100000", "%p", (void *)0xffffffff80100000ul);
    FMT("%y", "%y");
}

UNIT_TEST(printf_truncation)
{
    char b[8];
    int n = kernel_snprintf(b, sizeof(b), "%s", "0123456789");
    CHECK_EQ(n, 10);
    CHECK_STR(b, "0123456");
    CHECK_EQ(kernel_snprintf(NULL, 0, "%d", 12345), 5);
}

UNIT_TEST(parse_numbers)
{
    uint64_t v = 0;
    CHECK_EQ(parse_u64("0", &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(parse_u64("18446744073709551615", &v), 0);
    CHECK(v == UINT64_MAX);
    CHECK_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
    CHECK_EQ(parse_u64("0x1F", &v), 0);
    CHECK_EQ(v, 31);
    CHECK_EQ(parse_u64("", &v), -EINVAL);
    CHECK_EQ(parse_u64("12a", &v), -EINVAL);
    CHECK_EQ(parse_u64("0x", &v), -EINVAL);
    CHECK_EQ(parse_u64("-1", &v), -EINVAL);
    CHECK_EQ(parse_size("64M", &v), 0);
    CHECK(v == 64ull << 20);
    CHECK_EQ(parse_size("2g", &v), 0);
    CHECK(v == 2ull << 30);
    CHECK_EQ(parse_size("4K", &v), 0);
    CHECK_EQ(v, 4096);
    CHECK_EQ(parse_size("1MB", &v), -EINVAL);
    CHECK_EQ(parse_size("17179869184T", &v), -ERANGE);
    CHECK_STR(errno_name(-ENOSYS), "ENOSYS");
    CHECK(errno_name(4000) == NULL);
}

struct item {
    struct rb_node node;
    int key;
};

static void item_insert(struct rb_root *root, struct item *it)
{
    struct rb_node **link = &root->node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = it->key < rb_entry(parent, struct item, node)->key ? &parent->left : &parent->right;
    }
    rb_link(&it->node, parent, link);
    rb_insert_fixup(root, &it->node);
}

/* Returns the black height, or -1 when an invariant is broken. */
static int rb_check(const struct rb_node *n, const struct rb_node *parent)
{
    if (!n)
        return 1;
    if (rb_parent(n) != parent)
        return -1;
    bool red = !(n->parent_color & 1);
    if (red && ((n->left && !(n->left->parent_color & 1)) || (n->right && !(n->right->parent_color & 1))))
        return -1;
    int l = rb_check(n->left, n), r = rb_check(n->right, n);
    if (l < 0 || r < 0 || l != r)
        return -1;
    return l + (red ? 0 : 1);
}

UNIT_TEST(rbtree_random_insert_erase)
{
    enum { N = 2000 };
    static struct item items[N];
    struct rb_root root = RB_ROOT_INIT;
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        items[i].key = (int)(seed >> 8) % 5000;
        item_insert(&root, &items[i]);
        if (i % 97 == 0)
            CHECK(rb_check(root.node, NULL) > 0);
    }
    CHECK(rb_check(root.node, NULL) > 0);
    CHECK(root.node->parent_color & 1);
    /* in-order walk is sorted and complete */
    int count = 0, last = -1;
    for (struct rb_node *n = rb_first(&root); n; n = rb_next(n), count++) {
        int k = rb_entry(n, struct item, node)->key;
        CHECK(k >= last);
        last = k;
    }
    CHECK_EQ(count, N);
    count = 0;
    for (struct rb_node *n = rb_last(&root); n; n = rb_prev(n))
        count++;
    CHECK_EQ(count, N);
    /* erase every other item in a scrambled order, checking as we go */
    for (int i = 0; i < N; i += 2) {
        int j = (i * 7919) % N;
        j &= ~1;
        if (items[j].key < 0)
            continue;
        rb_erase(&root, &items[j].node);
        items[j].key = -1;
        if (i % 101 == 0)
            CHECK(rb_check(root.node, NULL) > 0);
    }
    CHECK(rb_check(root.node, NULL) > 0);
    for (int i = 0; i < N; i++)
        if (items[i].key >= 0) {
            rb_erase(&root, &items[i].node);
            items[i].key = -1;
        }
    CHECK(root.node == NULL);
    CHECK(rb_first(&root) == NULL);
}
