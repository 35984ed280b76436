/* Spinlocks: short critical sections with interrupts off on the local CPU.
 * A ticket lock, so waiting CPUs are served in order. */
#pragma once

#include "arch/cpu.h"

typedef struct spinlock {
    volatile uint16_t next, owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_init(spinlock_t *l)
{
    l->next = l->owner = 0;
}

/* Take the lock without touching the interrupt flag (caller has IRQs off). */
static inline void spin_lock_raw(spinlock_t *l)
{
    uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_pause();
}

static inline bool spin_trylock_raw(spinlock_t *l)
{
    uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t expected = owner;
    return __atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock_raw(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(spinlock_t *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

static inline irqflags_t spin_lock(spinlock_t *l)
{
    irqflags_t f = irq_save();
    spin_lock_raw(l);
    return f;
}

static inline void spin_unlock(spinlock_t *l, irqflags_t f)
{
    spin_unlock_raw(l);
    irq_restore(f);
}
