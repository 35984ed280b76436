/* Host stand-in for the kernel's spinlock: a pthread mutex-free spin on C11
 * atomics, and no interrupt flag to touch. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t irqflags_t;
typedef struct spinlock {
    volatile int locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void spin_init(spinlock_t *l) { l->locked = 0; }
static inline void spin_lock_raw(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        ;
}
static inline bool spin_trylock_raw(spinlock_t *l)
{
    return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}
static inline void spin_unlock_raw(spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }
static inline bool spin_is_locked(spinlock_t *l) { return l->locked; }
static inline irqflags_t spin_lock(spinlock_t *l) { spin_lock_raw(l); return 0; }
static inline void spin_unlock(spinlock_t *l, irqflags_t f) { (void)f; spin_unlock_raw(l); }
static inline irqflags_t irq_save(void) { return 0; }
static inline void irq_restore(irqflags_t f) { (void)f; }
