/* Self-tests that fail or crash on purpose, so the host can check that
 * failures, panics, faults and stack overflows are reported as they should. */
#include "core/panic.h"
#include "core/selftest.h"

SELFTEST(fail, "always fails (checks that a failing status reaches the host)", false)
{
    return selftest_check(false, "this test fails on purpose");
}

SELFTEST(panic, "panics on purpose (checks the panic report and status)", false)
{
    panic("self-test panic on purpose");
}

SELFTEST(fault, "dereferences a bad pointer (checks the page-fault report)", false)
{
    volatile uint64_t *bad = (volatile uint64_t *)0xdead0000ull;
    return (int)*bad;
}

/* Recursion that only stops at an impossible depth, which the compiler
 * cannot prove, so it keeps the frames. */
static volatile int recurse_limit = 1 << 30;

static int recurse(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    if (depth >= recurse_limit)
        return 0;
    return recurse(depth + 1) + pad[0];
}

SELFTEST(stack_overflow, "overflows a kernel stack (checks the guard page catches it)", false)
{
    return recurse(0);
}
