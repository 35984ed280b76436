/* Waiting on many poll_heads at once (poll, select), deadlines, and the
 * temporary signal masks of ppoll/pselect6/epoll_pwait (fs/poll_select.h). */
#include "fs/poll_select.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define POLL_CHUNK_ENTRIES 60

struct poll_wait_chunk {
    struct poll_wait_chunk *next;
    unsigned used;
    struct poll_wait_entry entries[POLL_CHUNK_ENTRIES];
};

/* ---- deadlines ---- */

uint64_t poll_deadline_ns(uint64_t ns)
{
    uint64_t now = clock_monotonic_ns(), d;
    if (__builtin_add_overflow(now, ns, &d))
        return 0; /* beyond any uptime: the same as forever */
    return MAX(d, (uint64_t)1);
}

uint64_t poll_deadline_ms(int ms)
{
    if (ms < 0)
        return 0;
    return poll_deadline_ns((uint64_t)ms * NSEC_PER_MSEC);
}

int poll_deadline_timespec(const struct timespec __user *uts, uint64_t *deadline)
{
    *deadline = 0;
    if (!uts)
        return 0;
    struct timespec ts;
    if (copy_from_user(&ts, uts, sizeof(ts)))
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    if ((uint64_t)ts.tv_sec > UINT64_MAX / NSEC_PER_SEC - 1)
        return 0; /* centuries: forever */
    *deadline = poll_deadline_ns(timespec_to_ns(&ts));
    return 0;
}

uint64_t poll_time_left(uint64_t deadline)
{
    uint64_t now = clock_monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

/* ---- the waiter ---- */

static void waiter_notify(struct poll_watcher *w, unsigned events)
{
    struct poll_wait_entry *e = container_of(w, struct poll_wait_entry, w);
    if (events && !(events & e->key))
        return; /* e.g. a reader's poll is not woken by room for writers */
    struct poll_waiter *pw = e->pw;
    __atomic_store_n(&pw->triggered, true, __ATOMIC_SEQ_CST);
    waitq_wake_all(&pw->wake.wq);
}

static struct poll_wait_entry *entry_alloc(struct poll_waiter *pw)
{
    if (pw->used < POLL_WAIT_INLINE)
        return &pw->inline_entries[pw->used++];
    struct poll_wait_chunk *c = pw->chunks;
    if (!c || c->used == POLL_CHUNK_ENTRIES) {
        c = kmalloc(sizeof(*c));
        if (!c)
            return NULL;
        c->used = 0;
        c->next = pw->chunks;
        pw->chunks = c;
    }
    return &c->entries[c->used++];
}

static void waiter_queue(struct poll_table *pt, struct poll_head *head)
{
    struct poll_waiter *pw = container_of(pt, struct poll_waiter, pt);
    struct poll_wait_entry *e = entry_alloc(pw);
    if (!e) {
        pw->error = -ENOMEM;
        return;
    }
    e->pw = pw;
    e->file = vfs_file_ref(pw->file);
    e->key = pw->key | POLLERR | POLLHUP;
    e->w.notify = waiter_notify;
    poll_watcher_add(head, &e->w);
}

void poll_waiter_init(struct poll_waiter *pw)
{
    memset(pw, 0, sizeof(*pw));
    pw->pt.queue = waiter_queue;
    poll_head_init(&pw->wake);
}

unsigned poll_waiter_poll(struct poll_waiter *pw, struct file *f, unsigned key, bool register_heads)
{
    pw->file = f;
    pw->key = key;
    unsigned mask = vfs_poll(f, register_heads ? &pw->pt : NULL);
    pw->file = NULL;
    return mask;
}

static bool waiter_triggered(void *arg)
{
    struct poll_waiter *pw = arg;
    return __atomic_load_n(&pw->triggered, __ATOMIC_SEQ_CST);
}

int poll_waiter_sleep(struct poll_waiter *pw, uint64_t deadline)
{
    return poll_head_wait(&pw->wake, waiter_triggered, pw, deadline);
}

static void entry_drop(struct poll_wait_entry *e)
{
    poll_watcher_remove(&e->w);
    vfs_file_put(e->file);
}

void poll_waiter_fini(struct poll_waiter *pw)
{
    for (unsigned i = 0; i < pw->used; i++)
        entry_drop(&pw->inline_entries[i]);
    while (pw->chunks) {
        struct poll_wait_chunk *c = pw->chunks;
        pw->chunks = c->next;
        for (unsigned i = 0; i < c->used; i++)
            entry_drop(&c->entries[i]);
        kfree(c);
    }
    pw->used = 0;
}

/* ---- temporary signal masks ---- */

bool poll_signal_pending(void)
{
    return __atomic_load_n(&thread_current()->interrupted, __ATOMIC_SEQ_CST);
}

int poll_sigmask_begin(struct poll_sigmask *sm, const uint64_t __user *umask, size_t size)
{
    sm->active = false;
    if (!umask)
        return 0;
    if (size != sizeof(uint64_t))
        return -EINVAL;
    uint64_t m;
    if (copy_from_user(&m, umask, sizeof(m)))
        return -EFAULT;
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    t->sig_saved_mask = t->sig_blocked;
    t->sig_restore_mask = true; /* as sigsuspend: a handler's frame gets the old mask */
    t->sig_blocked = m & ~SIG_UNBLOCKABLE;
    signal_recalc_locked(t);
    spin_unlock(&sh->lock, f);
    sm->active = true;
    return 0;
}

void poll_sigmask_end(struct poll_sigmask *sm, long ret)
{
    if (!sm->active)
        return;
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    bool delivering = (ret == -EINTR || ret == -ERESTARTNOHAND) && signal_work_pending(t);
    if (!delivering) {
        t->sig_blocked = t->sig_saved_mask;
        t->sig_restore_mask = false;
        signal_recalc_locked(t);
    }
    spin_unlock(&sh->lock, f);
    sm->active = false;
}
