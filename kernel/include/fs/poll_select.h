/* What poll, ppoll, select, pselect6 and epoll_pwait share: waiting on many
 * poll_heads at once, timeouts as monotonic deadlines, and the temporary
 * signal mask of the p* variants. */
#pragma once

#include "arch/uaccess.h"
#include "fs/poll.h"
#include "fs/vfs.h"

/* ---- deadlines: 0 waits forever, anything else is monotonic ns ---- */

/* ns from now (0 does not wait, but is a deadline all the same). */
uint64_t poll_deadline_ns(uint64_t ns);
/* poll/epoll_wait milliseconds: negative waits forever, 0 does not wait. */
uint64_t poll_deadline_ms(int ms);
/* A timespec from the application (NULL waits forever): 0, -EFAULT, -EINVAL. */
int poll_deadline_timespec(const struct timespec __user *uts, uint64_t *deadline);
/* Nanoseconds left until deadline (0 when past). */
uint64_t poll_time_left(uint64_t deadline);

/* ---- waiting on several heads ---- */

struct poll_wait_entry {
    struct poll_watcher w;
    struct poll_waiter *pw;
    struct file *file;          /* a reference: the head lives in the file's object */
    unsigned key;               /* the events that matter for this file */
};

#define POLL_WAIT_INLINE 8

struct poll_waiter {
    struct poll_table pt;
    struct poll_head wake;      /* where the waiting thread sleeps */
    volatile bool triggered;    /* a watched head reported something */
    struct file *file;          /* the file being polled now, and what it wants */
    unsigned key;
    int error;                  /* -ENOMEM: an entry could not be made */
    unsigned used;
    struct poll_wait_entry inline_entries[POLL_WAIT_INLINE];
    struct poll_wait_chunk *chunks;
};

void poll_waiter_init(struct poll_waiter *pw);
/* Poll f as the waiter's current file: its mask (registration happens when
 * register_heads is true, for the first pass only). */
unsigned poll_waiter_poll(struct poll_waiter *pw, struct file *f, unsigned key, bool register_heads);
/* Arm for the next pass: notifications from now on end the sleep. */
static inline void poll_waiter_rearm(struct poll_waiter *pw)
{
    __atomic_store_n(&pw->triggered, false, __ATOMIC_SEQ_CST);
}
/* Sleep until a watched head reports (0), the deadline passes (-ETIMEDOUT)
 * or a signal arrives (-EINTR). */
int poll_waiter_sleep(struct poll_waiter *pw, uint64_t deadline);
/* Unregister everything and drop the file references. */
void poll_waiter_fini(struct poll_waiter *pw);

/* ---- the temporary signal mask of ppoll, pselect6, epoll_pwait ---- */

struct poll_sigmask {
    bool active;
};

/* Install the mask at umask (NULL: none) as sigsuspend does: 0, -EINVAL
 * (size is not 8), -EFAULT. */
int poll_sigmask_begin(struct poll_sigmask *sm, const uint64_t __user *umask, size_t size);
/* The call returns ret: when it was interrupted and a signal is about to be
 * delivered, the handler's frame records the old mask (restored by
 * sigreturn); otherwise the old mask comes back now. */
void poll_sigmask_end(struct poll_sigmask *sm, long ret);
/* Whether the calling thread has a signal to take (blocking calls stop). */
bool poll_signal_pending(void);
