/* timerfd_create, timerfd_settime, timerfd_gettime: a kernel timer per
 * file whose expirations accumulate until read. As on Linux, an interval
 * timer is not re-armed while its expirations are unread; the missed
 * periods are counted when the file is read (or asked for its time), so a
 * short interval nobody reads costs nothing. */
#include "fs/timerfd.h"
#include "core/clock.h"
#include "core/timer.h"
#include "fs/anon_fd.h"
#include "fs/poll.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9

struct timerfd {
    spinlock_t lock;            /* all below; taken by the timer callback */
    struct mutex set_lock;      /* settime and release: cancelling waits for the callback */
    struct timer timer;
    struct poll_head poll;
    bool realtime;              /* expires is wall-clock time (CLOCK_REALTIME*) */
    bool armed;
    bool expired;               /* fired; an interval timer waits to be forwarded */
    bool dying;
    uint64_t expires;           /* next expiry on its clock, ns */
    uint64_t interval;
    uint64_t ticks;             /* expirations not read yet */
};

static const struct file_ops timerfd_fops;

bool timerfd_is(const struct file *f)
{
    return f && f->ops == &timerfd_fops;
}

static uint64_t tfd_now(const struct timerfd *t)
{
    return t->realtime ? clock_realtime_ns() : clock_monotonic_ns();
}

/* Arm the kernel timer for t->expires (lock held; the timer is idle). */
static void tfd_schedule(struct timerfd *t)
{
    uint64_t now = tfd_now(t), mono = clock_monotonic_ns();
    uint64_t wait = t->expires > now ? t->expires - now : 0;
    timer_arm(&t->timer, mono + wait);
}

static void tfd_fire(struct timer *tm)
{
    struct timerfd *t = container_of(tm, struct timerfd, timer);
    irqflags_t fl = spin_lock(&t->lock);
    bool fired = false;
    if (t->armed && !t->dying && !t->expired) {
        if (tfd_now(t) < t->expires) {
            tfd_schedule(t); /* the wall clock was set back: not yet */
        } else {
            t->ticks++;
            t->expired = true;
            t->armed = t->interval != 0;
            fired = true;
        }
    }
    spin_unlock(&t->lock, fl);
    if (fired)
        poll_notify(&t->poll, POLLIN | POLLRDNORM);
}

/* An interval timer that fired: count the periods since and re-arm for the
 * next one (lock held). */
static void tfd_forward(struct timerfd *t)
{
    if (!t->expired || !t->armed || !t->interval)
        return;
    uint64_t now = tfd_now(t);
    uint64_t periods = now >= t->expires ? (now - t->expires) / t->interval + 1 : 1;
    t->expires += periods * t->interval;
    t->ticks += periods - 1; /* the callback counted the first */
    t->expired = false;
    tfd_schedule(t);
}

static void tfd_get_locked(struct timerfd *t, struct itimerspec *out)
{
    tfd_forward(t);
    uint64_t left = 0;
    if (t->armed) {
        uint64_t now = tfd_now(t);
        left = t->expires > now ? t->expires - now : 0;
    }
    out->it_value = ns_to_timespec(left);
    out->it_interval = ns_to_timespec(t->interval);
}

static bool tfd_has_ticks(void *arg)
{
    return READ_ONCE(((struct timerfd *)arg)->ticks) != 0;
}

static uint64_t tfd_take(struct timerfd *t)
{
    irqflags_t fl = spin_lock(&t->lock);
    tfd_forward(t);
    uint64_t n = t->ticks;
    t->ticks = 0;
    spin_unlock(&t->lock, fl);
    return n;
}

static ssize_t timerfd_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct timerfd *t = f->priv;
    if (u->resid < sizeof(uint64_t))
        return -EINVAL;
    uint64_t n;
    while (!(n = tfd_take(t))) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        int err = poll_head_wait(&t->poll, tfd_has_ticks, t, 0);
        if (err)
            return err == -EINTR ? -ERESTARTSYS : err;
    }
    if (uio_copy_out(u, &n, sizeof(n)) != sizeof(n))
        return -EFAULT;
    return sizeof(n);
}

static unsigned timerfd_poll(struct file *f, struct poll_table *pt)
{
    struct timerfd *t = f->priv;
    poll_wait(pt, &t->poll);
    return READ_ONCE(t->ticks) ? POLLIN | POLLRDNORM : 0;
}

/* Stop the timer for good or for a new setting: no callback runs after. */
static void tfd_disarm(struct timerfd *t, bool dying)
{
    irqflags_t fl = spin_lock(&t->lock);
    t->armed = false;
    t->dying = dying;
    spin_unlock(&t->lock, fl);
    timer_cancel(&t->timer); /* waits for a callback running elsewhere */
}

static void timerfd_release(struct file *f)
{
    struct timerfd *t = f->priv;
    tfd_disarm(t, true);
    kfree(t);
}

static const struct file_ops timerfd_fops = {
    .release = timerfd_release,
    .read = timerfd_read,
    .poll = timerfd_poll,
    .flags = FOPS_STREAM,
};

long sys_timerfd_create(int clockid, int flags)
{
    if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
        return -EINVAL;
    if (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC && clockid != CLOCK_BOOTTIME &&
        clockid != CLOCK_REALTIME_ALARM && clockid != CLOCK_BOOTTIME_ALARM)
        return -EINVAL;
    struct timerfd *t = kzalloc(sizeof(*t));
    if (!t)
        return -ENOMEM;
    spin_init(&t->lock);
    mutex_init(&t->set_lock);
    timer_init(&t->timer, tfd_fire);
    poll_head_init(&t->poll);
    t->realtime = clockid == CLOCK_REALTIME || clockid == CLOCK_REALTIME_ALARM;
    struct file *f;
    int err = anon_fd_inode_file(&timerfd_fops, O_RDWR | ((unsigned)flags & O_NONBLOCK), t, &f);
    if (err) {
        kfree(t);
        return err;
    }
    return anon_fd_install(f, (unsigned)flags);
}

static bool itimerspec_valid(const struct itimerspec *s)
{
    return timespec_valid(&s->it_value) && timespec_valid(&s->it_interval);
}

/* The timerfd behind fd with a reference: -EBADF, or -EINVAL for another kind. */
static long tfd_get_file(int fd, struct file **out)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    if (!timerfd_is(f)) {
        vfs_file_put(f);
        return -EINVAL;
    }
    *out = f;
    return 0;
}

static void tfd_set(struct timerfd *t, int flags, const struct itimerspec *nv, struct itimerspec *old)
{
    mutex_lock(&t->set_lock);
    irqflags_t fl = spin_lock(&t->lock);
    tfd_get_locked(t, old);
    spin_unlock(&t->lock, fl);
    tfd_disarm(t, false);
    fl = spin_lock(&t->lock);
    t->ticks = 0;
    t->expired = false;
    t->interval = timespec_to_ns(&nv->it_interval);
    uint64_t value = timespec_to_ns(&nv->it_value);
    if (value) {
        t->expires = (flags & TFD_TIMER_ABSTIME) ? value : tfd_now(t) + value;
        t->armed = true;
        tfd_schedule(t);
    }
    spin_unlock(&t->lock, fl);
    mutex_unlock(&t->set_lock);
}

long sys_timerfd_settime(int fd, int flags, const struct itimerspec __user *new_value,
                         struct itimerspec __user *old_value)
{
    struct itimerspec nv, old;
    if (copy_from_user(&nv, new_value, sizeof(nv)))
        return -EFAULT;
    /* TFD_TIMER_CANCEL_ON_SET is accepted; a wall-clock change does not cancel yet */
    if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) || !itimerspec_valid(&nv))
        return -EINVAL;
    struct file *f;
    long err = tfd_get_file(fd, &f);
    if (err)
        return err;
    tfd_set(f->priv, flags, &nv, &old);
    vfs_file_put(f);
    if (old_value && copy_to_user(old_value, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

long sys_timerfd_gettime(int fd, struct itimerspec __user *cur)
{
    struct file *f;
    long err = tfd_get_file(fd, &f);
    if (err)
        return err;
    struct timerfd *t = f->priv;
    struct itimerspec now;
    irqflags_t fl = spin_lock(&t->lock);
    tfd_get_locked(t, &now);
    spin_unlock(&t->lock, fl);
    vfs_file_put(f);
    return copy_to_user(cur, &now, sizeof(now)) ? -EFAULT : 0;
}
