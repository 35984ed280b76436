/* Wait queues. The caller's loop is:
 *     struct wait_entry e = {0};
 *     for (;;) {
 *         waitq_prepare(&wq, &e);   // queued and marked blocked
 *         if (condition) break;
 *         if (waitq_sleep(&e, deadline) == -ETIMEDOUT) break;
 *     }
 *     waitq_finish(&wq, &e);
 * Wakers make the condition true, then call waitq_wake_*. Because the
 * sleeper is queued before it tests the condition, no wakeup is lost. */
#pragma once

#include "arch/spinlock.h"
#include "lib/list.h"
#include "lib/types.h"

struct thread;

struct waitq {
    spinlock_t lock;
    struct list_node waiters;
};

struct wait_entry {
    struct list_node link;
    struct thread *thread;
};

void waitq_init(struct waitq *wq);
void waitq_prepare(struct waitq *wq, struct wait_entry *e);
/* Block until woken or the monotonic deadline (0 = none) passes; returns 0 or -ETIMEDOUT. */
int waitq_sleep(struct wait_entry *e, uint64_t deadline_ns);
/* The same for an application thread, which a signal may interrupt:
 * -EINTR when one is pending (thread.interrupted), before or after sleeping. */
int waitq_sleep_intr(struct wait_entry *e, uint64_t deadline_ns);
void waitq_finish(struct waitq *wq, struct wait_entry *e);
void waitq_wake_one(struct waitq *wq);
void waitq_wake_all(struct waitq *wq);
