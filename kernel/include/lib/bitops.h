/* Bit helpers built on compiler builtins (no popcnt/BMI: the kernel targets baseline x86-64). */
#pragma once

#include "lib/types.h"

static inline unsigned bit_ffs64(uint64_t x) /* index of lowest set bit; x != 0 */
{
    return (unsigned)__builtin_ctzll(x);
}

static inline unsigned bit_fls64(uint64_t x) /* index of highest set bit; x != 0 */
{
    return 63u - (unsigned)__builtin_clzll(x);
}

static inline bool is_power_of_2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* Smallest order such that (1 << order) >= n; n >= 1. */
static inline unsigned order_for_count(uint64_t n)
{
    return n <= 1 ? 0 : bit_fls64(n - 1) + 1;
}
