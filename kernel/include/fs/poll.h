/* Readiness notification, shared by every file kind that can block (pipes,
 * sockets, eventfds, the console): a poll_head per object, which poll/select
 * wait on through its wait queue and epoll watches through callbacks. */
#pragma once

#include "arch/spinlock.h"
#include "core/waitq.h"
#include "lib/list.h"

struct poll_head {
    struct waitq wq;           /* threads blocked in read/write/poll */
    spinlock_t lock;           /* watchers */
    struct list_node watchers;
};

/* A callback registration (epoll). notify runs in the notifier's context,
 * possibly an interrupt handler, with the head's lock held: it must not
 * sleep and must not add or remove watchers on the same head. */
struct poll_watcher {
    struct list_node link;
    struct poll_head *head;
    void (*notify)(struct poll_watcher *w, unsigned events);
};

/* What poll ops register with: queue is called once per head the file waits on. */
struct poll_table {
    void (*queue)(struct poll_table *pt, struct poll_head *head);
};

static inline void poll_wait(struct poll_table *pt, struct poll_head *head)
{
    if (pt && pt->queue)
        pt->queue(pt, head);
}

void poll_head_init(struct poll_head *h);
/* The object's state changed (events: the bits that may now be ready):
 * wake sleepers and tell watchers. Safe from interrupt handlers. */
void poll_notify(struct poll_head *h, unsigned events);
void poll_watcher_add(struct poll_head *h, struct poll_watcher *w);
void poll_watcher_remove(struct poll_watcher *w);
/* Sleep until cond(arg) is true (0), the monotonic deadline (0 = none)
 * passes (-ETIMEDOUT) or a signal arrives (-EINTR). The condition is tested
 * after queueing, so a notify between test and sleep is not lost. Callers
 * turn -EINTR into what their system call returns (-ERESTARTSYS for reads). */
int poll_head_wait(struct poll_head *h, bool (*cond)(void *arg), void *arg, uint64_t deadline_ns);
