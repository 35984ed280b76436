/* epoll: an interest list of (file, fd) items, each watching its file's
 * poll_heads; notifications put items on a ready list that epoll_wait
 * harvests, re-checking each item's real readiness. Level-triggered items
 * go back on the list after being reported, edge-triggered ones wait for
 * the next notification, one-shot ones are disabled until EPOLL_CTL_MOD.
 *
 * Locking: ep_global (structure of every interest list, the per-file link
 * lists) > ep->mtx (one instance's items; held while harvesting) > ep->lock
 * (a spinlock: the ready list, taken by notifications that may come from
 * interrupt handlers with a poll_head's lock held). */
#include "fs/epoll.h"
#include "fs/anon_fd.h"
#include "fs/poll.h"
#include "fs/poll_select.h"
#include "lib/rbtree.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define EP_MAX_NESTS 4                 /* epoll inside epoll, as deep as Linux allows */
#define EP_MAX_HEADS 2                 /* poll_heads one file may wait on */
#define EP_MAX_EVENTS (0x7fffffff / (int)sizeof(struct epoll_event))
#define EP_EVENT_BITS 0xffffu          /* readiness bits, as opposed to EPOLLET and friends */
#define EP_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

struct epitem;

struct ep_watch {
    struct poll_watcher w;
    struct epitem *item;
};

struct epitem {
    struct rb_node node;               /* ep->items, by (file, fd) */
    struct list_node ready_link;       /* on a ready list while `ready` */
    struct list_node file_link;        /* file->epoll_links */
    struct epoll *ep;
    struct file *file;                 /* no reference: epoll_file_release says when it goes */
    int fd;
    bool ready;
    uint32_t events;                   /* asked for, with ERR|HUP; no event bits once a ONESHOT fired */
    uint64_t data;
    unsigned nwatch;
    struct ep_watch watch[EP_MAX_HEADS];
};

struct epoll {
    struct mutex mtx;
    spinlock_t lock;
    struct list_node ready;
    struct rb_root items;
    struct poll_head poll;             /* epoll_wait sleeps here; outer epolls and poll() watch it */
    struct file *file;                 /* its own file (no reference), for nesting checks */
};

static struct mutex ep_global = MUTEX_INIT(ep_global);
static const struct file_ops epoll_fops;

bool epoll_is(const struct file *f)
{
    return f && f->ops == &epoll_fops;
}

/* ---- the interest list ---- */

static int item_cmp(struct file *f, int fd, const struct epitem *it)
{
    if (f != it->file)
        return (uintptr_t)f < (uintptr_t)it->file ? -1 : 1;
    return fd < it->fd ? -1 : fd > it->fd;
}

static struct epitem *item_find(struct epoll *ep, struct file *f, int fd)
{
    struct rb_node *n = ep->items.node;
    while (n) {
        struct epitem *it = rb_entry(n, struct epitem, node);
        int c = item_cmp(f, fd, it);
        if (!c)
            return it;
        n = c < 0 ? n->left : n->right;
    }
    return NULL;
}

static void item_insert(struct epoll *ep, struct epitem *it)
{
    struct rb_node **link = &ep->items.node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = item_cmp(it->file, it->fd, rb_entry(parent, struct epitem, node)) < 0 ? &parent->left
                                                                                       : &parent->right;
    }
    rb_link(&it->node, parent, link);
    rb_insert_fixup(&ep->items, &it->node);
}

/* Put it on the ready list (ep->lock held): whether it was not there yet. */
static bool ready_add_locked(struct epoll *ep, struct epitem *it)
{
    if (it->ready)
        return false;
    it->ready = true;
    list_add_tail(&ep->ready, &it->ready_link);
    return true;
}

static void ep_wake(struct epoll *ep)
{
    poll_notify(&ep->poll, POLLIN | POLLRDNORM);
}

/* A watched head reported: runs with that head's lock held, perhaps in an
 * interrupt handler. */
static void item_notify(struct poll_watcher *w, unsigned events)
{
    struct epitem *it = container_of(w, struct ep_watch, w)->item;
    struct epoll *ep = it->ep;
    irqflags_t fl = spin_lock(&ep->lock);
    uint32_t want = it->events & EP_EVENT_BITS;
    bool wake = want && (!events || (events & want));
    if (wake)
        ready_add_locked(ep, it);
    spin_unlock(&ep->lock, fl);
    if (wake)
        ep_wake(ep);
}

struct ep_queue {
    struct poll_table pt;
    struct epitem *item;
};

static void item_queue(struct poll_table *pt, struct poll_head *head)
{
    struct epitem *it = container_of(pt, struct ep_queue, pt)->item;
    if (it->nwatch == EP_MAX_HEADS)
        return; /* no file here waits on more; a future one would be polled on wake-ups of the others */
    struct ep_watch *wt = &it->watch[it->nwatch++];
    wt->item = it;
    wt->w.notify = item_notify;
    poll_watcher_add(head, &wt->w);
}

/* Queue it if its file is ready for what it asks now; wake waiters. */
static void item_check(struct epoll *ep, struct epitem *it, unsigned mask)
{
    irqflags_t fl = spin_lock(&ep->lock);
    bool wake = (mask & it->events & EP_EVENT_BITS) && ready_add_locked(ep, it);
    spin_unlock(&ep->lock, fl);
    if (wake)
        ep_wake(ep);
}

/* Both locks held. The file's link list goes last: once it is empty,
 * epoll_file_release may let the file (and its poll_heads) be freed. */
static void item_remove(struct epoll *ep, struct epitem *it)
{
    for (unsigned i = 0; i < it->nwatch; i++)
        poll_watcher_remove(&it->watch[i].w);
    irqflags_t fl = spin_lock(&ep->lock);
    if (it->ready)
        list_remove(&it->ready_link);
    it->ready = false;
    spin_unlock(&ep->lock, fl);
    rb_erase(&ep->items, &it->node);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    list_remove(&it->file_link);
    kfree(it);
}

static int item_add(struct epoll *ep, struct file *f, int fd, const struct epoll_event *ev)
{
    if (item_find(ep, f, fd))
        return -EEXIST;
    struct epitem *it = kzalloc(sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->ep = ep;
    it->file = f;
    it->fd = fd;
    it->events = ev->events | EPOLLERR | EPOLLHUP;
    it->data = ev->data;
    item_insert(ep, it);
    if (!f->epoll_links.next)
        list_init(&f->epoll_links); /* a file starts zeroed */
    list_add_tail(&f->epoll_links, &it->file_link);
    struct ep_queue q = { { item_queue }, it };
    unsigned mask = vfs_poll(f, &q.pt);
    item_check(ep, it, mask);
    return 0;
}

static int item_modify(struct epoll *ep, struct epitem *it, const struct epoll_event *ev)
{
    if (it->events & EPOLLEXCLUSIVE)
        return -EINVAL;
    irqflags_t fl = spin_lock(&ep->lock);
    it->events = ev->events | EPOLLERR | EPOLLHUP;
    it->data = ev->data;
    spin_unlock(&ep->lock, fl);
    item_check(ep, it, vfs_poll(it->file, NULL)); /* re-armed: report what is ready now */
    return 0;
}

/* ---- nesting: no loops, at most EP_MAX_NESTS levels ---- */

/* Levels of epoll below `from` (0: it watches none), or -ELOOP when `ep`
 * is among them. */
static int nest_down(struct epoll *from, struct epoll *ep, int depth)
{
    if (from == ep)
        return -ELOOP;
    if (depth > EP_MAX_NESTS)
        return -ELOOP;
    int most = 0;
    for (struct rb_node *n = rb_first(&from->items); n; n = rb_next(n)) {
        struct epitem *it = rb_entry(n, struct epitem, node);
        if (!epoll_is(it->file))
            continue;
        int d = nest_down(it->file->priv, ep, depth + 1);
        if (d < 0)
            return d;
        most = MAX(most, d + 1);
    }
    return most;
}

/* Levels of epoll above ep (instances that watch it, transitively). */
static int nest_up(struct epoll *ep, int depth)
{
    struct file *f = ep->file;
    if (depth > EP_MAX_NESTS || !f->epoll_links.next)
        return 0;
    int most = 0;
    list_for_each(n, &f->epoll_links) {
        struct epitem *it = list_entry(n, struct epitem, file_link);
        most = MAX(most, 1 + nest_up(it->ep, depth + 1));
    }
    return most;
}

static int nest_check(struct epoll *ep, struct epoll *target)
{
    int down = nest_down(target, ep, 0);
    if (down < 0)
        return down;
    return nest_up(ep, 0) + 1 + down > EP_MAX_NESTS ? -ELOOP : 0;
}

/* ---- epoll_ctl ---- */

static int ctl_check(struct file *ef, struct file *tf, int op, const struct epoll_event *ev)
{
    if ((ef->fmode | tf->fmode) & FMODE_PATH)
        return -EBADF;
    if (!tf->ops || !tf->ops->poll)
        return -EPERM; /* regular files and directories are always ready: Linux refuses them */
    if (ef == tf || !epoll_is(ef))
        return -EINVAL;
    if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD)
            return -EINVAL;
        if (op == EPOLL_CTL_ADD && (epoll_is(tf) || (ev->events & ~EP_EXCLUSIVE_OK)))
            return -EINVAL;
    }
    return 0;
}

static int ctl_locked(struct epoll *ep, int op, struct file *tf, int fd, struct epoll_event *ev)
{
    struct epitem *it = item_find(ep, tf, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        return item_add(ep, tf, fd, ev);
    case EPOLL_CTL_MOD:
        return it ? item_modify(ep, it, ev) : -ENOENT;
    case EPOLL_CTL_DEL:
        if (!it)
            return -ENOENT;
        item_remove(ep, it);
        return 0;
    default:
        return -EINVAL;
    }
}

static int ctl(struct file *ef, int op, struct file *tf, int fd, struct epoll_event *ev)
{
    int err = ctl_check(ef, tf, op, ev);
    if (err)
        return err;
    struct epoll *ep = ef->priv;
    ev->events &= ~EPOLLWAKEUP; /* no suspend to keep the system out of */
    mutex_lock(&ep_global);
    if (op == EPOLL_CTL_ADD && epoll_is(tf))
        err = nest_check(ep, tf->priv);
    if (!err) {
        mutex_lock(&ep->mtx);
        err = ctl_locked(ep, op, tf, fd, ev);
        mutex_unlock(&ep->mtx);
    }
    mutex_unlock(&ep_global);
    return err;
}

long sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event __user *uev)
{
    struct epoll_event ev = { 0, 0 };
    if (op != EPOLL_CTL_DEL && copy_from_user(&ev, uev, sizeof(ev)))
        return -EFAULT;
    struct file *ef = cur_file(epfd);
    if (!ef)
        return -EBADF;
    struct file *tf = cur_file(fd);
    long err = tf ? ctl(ef, op, tf, fd, &ev) : -EBADF;
    vfs_file_put(tf);
    vfs_file_put(ef);
    return err;
}

/* ---- epoll_wait ---- */

#define EP_BATCH 64                    /* events gathered under the lock, then copied out */

/* Level-triggered items already reported by this epoll_wait: they go back
 * on the ready list at its end, so one call never reports an item twice.
 * Only touched under ep->lock (item_remove may unlink from it). */
struct harvest_ctx {
    struct epoll *ep;
    struct list_node requeue;
};

/* Look at one item taken off the ready list: 1 when it had events (in
 * *out), 0 when not (any more). */
static int harvest_one(struct harvest_ctx *h, struct epitem *it, struct epoll_event *out)
{
    struct epoll *ep = h->ep;
    irqflags_t fl = spin_lock(&ep->lock);
    list_remove(&it->ready_link);
    it->ready = false; /* from here on a notification queues it again */
    uint32_t want = it->events;
    spin_unlock(&ep->lock, fl);
    if (!(want & EP_EVENT_BITS))
        return 0; /* a one-shot that already fired */
    unsigned mask = vfs_poll(it->file, NULL) & want & EP_EVENT_BITS;
    if (!mask)
        return 0;
    *out = (struct epoll_event){ mask, it->data };
    fl = spin_lock(&ep->lock);
    if (want & EPOLLONESHOT) {
        it->events &= ~EP_EVENT_BITS;
    } else if (!(want & EPOLLET) && !it->ready) {
        it->ready = true; /* level-triggered: looked at again next time */
        list_add_tail(&h->requeue, &it->ready_link);
    }
    spin_unlock(&ep->lock, fl);
    return 1;
}

/* Move every item of `from` to the front (or back) of `to`; ep->lock held. */
static void list_move_all(struct list_node *from, struct list_node *to, bool front)
{
    while (!list_empty(from)) {
        struct list_node *l = front ? from->prev : from->next;
        list_remove(l);
        if (front)
            list_add_head(to, l);
        else
            list_add_tail(to, l);
    }
}

/* Up to max events into buf, under ep->mtx (which keeps items and their
 * files alive while they are polled). */
static int harvest_batch(struct harvest_ctx *h, struct epoll_event *buf, int max)
{
    struct epoll *ep = h->ep;
    struct list_node batch;
    list_init(&batch);
    mutex_lock(&ep->mtx);
    irqflags_t fl = spin_lock(&ep->lock);
    list_move_all(&ep->ready, &batch, false); /* re-queued items go to the fresh list */
    spin_unlock(&ep->lock, fl);
    int n = 0;
    while (n < max && !list_empty(&batch))
        n += harvest_one(h, list_entry(batch.next, struct epitem, ready_link), &buf[n]);
    fl = spin_lock(&ep->lock);
    list_move_all(&batch, &ep->ready, true); /* not looked at: first in line next time */
    spin_unlock(&ep->lock, fl);
    mutex_unlock(&ep->mtx);
    return n;
}

static int harvest(struct epoll *ep, struct epoll_event __user *events, int max)
{
    struct harvest_ctx h = { .ep = ep };
    list_init(&h.requeue);
    struct epoll_event buf[EP_BATCH];
    int total = 0, err = 0;
    for (;;) {
        int want = MIN(max - total, EP_BATCH);
        int n = harvest_batch(&h, buf, want);
        /* copied without the lock: a fault here may need locks that a
         * thread closing a watched file holds while it waits for ep->mtx */
        if (n && copy_to_user(&events[total], buf, (size_t)n * sizeof(buf[0]))) {
            err = -EFAULT;
            break;
        }
        total += n;
        if (n < want || total == max)
            break;
    }
    irqflags_t fl = spin_lock(&ep->lock);
    list_move_all(&h.requeue, &ep->ready, false);
    spin_unlock(&ep->lock, fl);
    if (!list_empty(&ep->ready))
        ep_wake(ep); /* other waiters and outer watchers: still ready */
    return total ? total : err;
}

static bool ep_has_ready(void *arg)
{
    struct epoll *ep = arg;
    return !list_empty(&ep->ready);
}

static long ep_wait(int epfd, struct epoll_event __user *events, int max, uint64_t deadline)
{
    if (max <= 0 || max > EP_MAX_EVENTS)
        return -EINVAL;
    if (!user_range_ok(events, (size_t)max * sizeof(struct epoll_event)))
        return -EFAULT;
    struct file *f = cur_file(epfd);
    if (!f)
        return -EBADF;
    long ret;
    if (!epoll_is(f)) {
        vfs_file_put(f);
        return -EINVAL;
    }
    struct epoll *ep = f->priv;
    for (;;) {
        ret = harvest(ep, events, max);
        if (ret)
            break;
        /* Linux: a zero timeout returns 0 even with a signal pending */
        if (deadline && poll_time_left(deadline) == 0)
            break;
        if (poll_signal_pending()) {
            ret = -EINTR; /* never restarted, whatever SA_RESTART says */
            break;
        }
        poll_head_wait(&ep->poll, ep_has_ready, ep, deadline);
    }
    vfs_file_put(f);
    return ret;
}

long sys_epoll_wait(int epfd, struct epoll_event __user *events, int maxevents, int timeout)
{
    return ep_wait(epfd, events, maxevents, poll_deadline_ms(timeout));
}

long sys_epoll_pwait(int epfd, struct epoll_event __user *events, int maxevents, int timeout,
                     const uint64_t __user *sigmask, size_t sigsetsize)
{
    struct poll_sigmask sm;
    long ret = poll_sigmask_begin(&sm, sigmask, sigsetsize);
    if (ret)
        return ret;
    ret = ep_wait(epfd, events, maxevents, poll_deadline_ms(timeout));
    poll_sigmask_end(&sm, ret);
    return ret;
}

long sys_epoll_pwait2(int epfd, struct epoll_event __user *events, int maxevents,
                      const struct timespec __user *timeout, const uint64_t __user *sigmask, size_t sigsetsize)
{
    uint64_t deadline;
    long ret = poll_deadline_timespec(timeout, &deadline);
    if (ret)
        return ret;
    struct poll_sigmask sm;
    if ((ret = poll_sigmask_begin(&sm, sigmask, sigsetsize)) != 0)
        return ret;
    ret = ep_wait(epfd, events, maxevents, deadline);
    poll_sigmask_end(&sm, ret);
    return ret;
}

/* ---- the epoll file ---- */

static unsigned epoll_fpoll(struct file *f, struct poll_table *pt)
{
    struct epoll *ep = f->priv;
    poll_wait(pt, &ep->poll);
    /* an approximation of Linux, which re-polls the items: a level-triggered
     * item whose file went quiet is dropped at the next epoll_wait */
    return ep_has_ready(ep) ? POLLIN | POLLRDNORM : 0;
}

static void epoll_release(struct file *f)
{
    struct epoll *ep = f->priv;
    mutex_lock(&ep_global);
    mutex_lock(&ep->mtx);
    while (ep->items.node)
        item_remove(ep, rb_entry(ep->items.node, struct epitem, node));
    mutex_unlock(&ep->mtx);
    mutex_unlock(&ep_global);
    kfree(ep);
}

void epoll_file_release(struct file *f)
{
    struct list_node *first = __atomic_load_n(&f->epoll_links.next, __ATOMIC_ACQUIRE);
    if (!first || first == &f->epoll_links)
        return; /* never registered, or every registration already gone */
    mutex_lock(&ep_global);
    while (!list_empty(&f->epoll_links)) {
        struct epitem *it = list_entry(f->epoll_links.next, struct epitem, file_link);
        struct epoll *ep = it->ep;
        mutex_lock(&ep->mtx); /* waits for a harvest that may be polling f */
        item_remove(ep, it);
        mutex_unlock(&ep->mtx);
    }
    mutex_unlock(&ep_global);
}

static const struct file_ops epoll_fops = {
    .release = epoll_release,
    .poll = epoll_fpoll,
    .flags = FOPS_STREAM,
};

long sys_epoll_create1(int flags)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct epoll *ep = kzalloc(sizeof(*ep));
    if (!ep)
        return -ENOMEM;
    mutex_init(&ep->mtx);
    spin_init(&ep->lock);
    list_init(&ep->ready);
    poll_head_init(&ep->poll);
    struct file *f;
    int err = anon_fd_inode_file(&epoll_fops, O_RDWR, ep, &f);
    if (err) {
        kfree(ep);
        return err;
    }
    ep->file = f;
    return anon_fd_install(f, (unsigned)flags);
}

long sys_epoll_create(int size)
{
    return size <= 0 ? -EINVAL : sys_epoll_create1(0);
}
