/* Helpers shared by the address-space self-tests (vm_selftest*.c): free page
 * counts, and loads and stores through the MMU with a space loaded. */
#pragma once

#include "vm_internal.h"

/* Free pages, after this CPU's kmalloc magazines are given back. */
uint64_t vm_test_free_pages(void);
/* A 64-bit store / load at va through the MMU with vm loaded on this CPU
 * (as its thread would do it), the fault resolved the way a user access's
 * is; 0 or the fault's error. */
int vm_test_put(struct vm_space *vm, uintptr_t va, uint64_t val);
int vm_test_get(struct vm_space *vm, uintptr_t va, uint64_t *out);
/* The value at va through the MMU, or a marker that cannot be a test value. */
uint64_t vm_test_val(struct vm_space *vm, uintptr_t va);
/* The leaf mapping va in vm (level 0 when none). */
int vm_test_leaf(struct vm_space *vm, uintptr_t va, struct paging_leaf *l);

#define VM_TEST_BAD 0xbadbadbadbadbad1ull

int vm_selftest_fork_smp(void);
