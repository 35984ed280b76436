/* Futexes: application threads waiting on a 32-bit word in their memory.
 * Keyed by the word's address: there is one address space, so private and
 * shared futexes are the same thing here. */
#pragma once

#include "lib/types.h"

#define FUTEX_BITSET_ANY 0xffffffffu

/* Wake up to `n` waiters on the word at `uaddr` (in the current process;
 * shared: as a futex op without FUTEX_PRIVATE_FLAG) whose bitset matches;
 * returns how many were woken, or an error. */
int futex_wake(uint64_t uaddr, bool shared, int n, uint32_t bitset);
