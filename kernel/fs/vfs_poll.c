/* Readiness notification (see fs/poll.h): wait queues for blocking callers,
 * callbacks for epoll. */
#include "fs/poll.h"
#include "lib/errno.h"

void poll_head_init(struct poll_head *h)
{
    waitq_init(&h->wq);
    spin_init(&h->lock);
    list_init(&h->watchers);
}

void poll_notify(struct poll_head *h, unsigned events)
{
    irqflags_t f = spin_lock(&h->lock);
    list_for_each(n, &h->watchers) {
        struct poll_watcher *w = list_entry(n, struct poll_watcher, link);
        w->notify(w, events);
    }
    spin_unlock(&h->lock, f);
    waitq_wake_all(&h->wq);
}

void poll_watcher_add(struct poll_head *h, struct poll_watcher *w)
{
    w->head = h;
    irqflags_t f = spin_lock(&h->lock);
    list_add_tail(&h->watchers, &w->link);
    spin_unlock(&h->lock, f);
}

void poll_watcher_remove(struct poll_watcher *w)
{
    struct poll_head *h = w->head;
    if (!h)
        return;
    irqflags_t f = spin_lock(&h->lock);
    list_remove(&w->link);
    spin_unlock(&h->lock, f);
    w->head = NULL;
}

int poll_head_wait(struct poll_head *h, bool (*cond)(void *arg), void *arg, uint64_t deadline_ns)
{
    struct wait_entry e = { 0 };
    int err = 0;
    for (;;) {
        waitq_prepare(&h->wq, &e);
        if (cond(arg))
            break;
        int r = waitq_sleep_intr(&e, deadline_ns); /* a signal ends the wait */
        if (r == -ETIMEDOUT || r == -EINTR) {
            err = cond(arg) ? 0 : r;
            break;
        }
    }
    waitq_finish(&h->wq, &e);
    return err;
}
