/* One-shot timers on per-CPU queues, driven by the LAPIC timer. Callbacks run
 * in interrupt context with interrupts off: they must not sleep. */
#pragma once

#include "arch/spinlock.h"
#include "lib/rbtree.h"
#include "lib/types.h"

struct timer {
    struct rb_node node;
    uint64_t expires_ns;           /* monotonic */
    void (*fn)(struct timer *t);
    int cpu;                       /* queue it is armed on, -1 idle, < -1 callback running */
};

void timer_init(struct timer *t, void (*fn)(struct timer *t));
/* (Re)arm on the calling CPU to fire at monotonic time expires_ns. */
void timer_arm(struct timer *t, uint64_t expires_ns);
/* Disarm; returns true if it was armed and had not fired. Safe from any CPU;
 * if the callback is running elsewhere, waits for it to finish (so never call
 * it from the timer's own callback). */
bool timer_cancel(struct timer *t);

void timer_init_cpu(void); /* per-CPU queue and LAPIC timer set-up */
