/* Host tests of the initial-stack builder: the layout the psABI and the C
 * libraries expect (argc, argv, envp, auxv, strings), alignment, overflow. */
#include "unit.h"

#include <string.h>

#include "exec/stack.h"
#include "lib/errno.h"

#define TOP 0x7fff00000000ull

static uint8_t buf[65536];

/* An application address inside the built region, read through buf. */
static const void *at(uint64_t addr)
{
    return buf + sizeof(buf) - (TOP - addr);
}

static uint64_t word(uint64_t addr)
{
    uint64_t w;
    memcpy(&w, at(addr), 8);
    return w;
}

UNIT_TEST(stack_layout_matches_the_psabi)
{
    const char *argv[] = { "/bin/prog", "one", "two words" };
    const char *envp[] = { "HOME=/", "PATH=/bin" };
    struct exec_stack_args a = { .argv = argv, .argc = 3, .envp = envp, .envc = 2, .execfn = "/bin/prog",
                                 .platform = "x86_64", .nauxv = 2 };
    for (int i = 0; i < 16; i++)
        a.random[i] = (uint8_t)(i + 1);
    a.auxv[0] = AT_PAGESZ, a.auxv[1] = 4096, a.auxv[2] = AT_ENTRY, a.auxv[3] = 0x401000;
    uint64_t sp, auxv[64];
    size_t used, auxv_len;
    CHECK_EQ(exec_build_stack(buf, sizeof(buf), TOP, &a, &sp, &used, auxv, &auxv_len), 0);
    CHECK_EQ(sp % 16, 0);
    CHECK_EQ(TOP - sp, used);
    CHECK_EQ(word(sp), 3);
    CHECK_STR((const char *)at(word(sp + 8)), "/bin/prog");
    CHECK_STR((const char *)at(word(sp + 16)), "one");
    CHECK_STR((const char *)at(word(sp + 24)), "two words");
    CHECK_EQ(word(sp + 32), 0);
    CHECK_STR((const char *)at(word(sp + 40)), "HOME=/");
    CHECK_STR((const char *)at(word(sp + 48)), "PATH=/bin");
    CHECK_EQ(word(sp + 56), 0);
    uint64_t p = sp + 64;
    int seen_random = 0, seen_execfn = 0, seen_platform = 0, seen_pagesz = 0;
    for (;; p += 16) {
        uint64_t k = word(p), v = word(p + 8);
        if (k == AT_NULL)
            break;
        if (k == AT_RANDOM) {
            seen_random = 1;
            CHECK_EQ(((const uint8_t *)at(v))[0], 1);
            CHECK_EQ(((const uint8_t *)at(v))[15], 16);
        }
        if (k == AT_EXECFN)
            seen_execfn = !strcmp((const char *)at(v), "/bin/prog");
        if (k == AT_PLATFORM)
            seen_platform = !strcmp((const char *)at(v), "x86_64");
        if (k == AT_PAGESZ)
            seen_pagesz = v == 4096;
    }
    CHECK(seen_random && seen_execfn && seen_platform && seen_pagesz);
    CHECK_EQ(auxv_len, p + 16 - (sp + 64));
    CHECK_EQ(auxv[0], AT_PAGESZ);
    CHECK_EQ(word(TOP - 8), 0); /* the end marker */
}

UNIT_TEST(stack_without_environment)
{
    const char *argv[] = { "/p" };
    struct exec_stack_args a = { .argv = argv, .argc = 1, .envc = 0, .execfn = "/p", .platform = "x86_64" };
    uint64_t sp;
    size_t used;
    CHECK_EQ(exec_build_stack(buf, sizeof(buf), TOP, &a, &sp, &used, NULL, NULL), 0);
    CHECK_EQ(word(sp), 1);
    CHECK_EQ(word(sp + 16), 0); /* argv terminator */
    CHECK_EQ(word(sp + 24), 0); /* empty envp */
}

UNIT_TEST(stack_too_big_is_e2big)
{
    static char big[70000];
    memset(big, 'x', sizeof(big) - 1);
    const char *argv[] = { "/p", big };
    struct exec_stack_args a = { .argv = argv, .argc = 2, .execfn = "/p", .platform = "x86_64" };
    uint64_t sp;
    size_t used;
    CHECK_EQ(exec_build_stack(buf, sizeof(buf), TOP, &a, &sp, &used, NULL, NULL), -E2BIG);
    const char *many[2000];
    for (int i = 0; i < 2000; i++)
        many[i] = "abcdefghijklmnopqrstuvwxyz";
    struct exec_stack_args b = { .argv = many, .argc = 2000, .execfn = "/p", .platform = "x86_64" };
    CHECK_EQ(exec_build_stack(buf, 4096, TOP, &b, &sp, &used, NULL, NULL), -E2BIG);
}
