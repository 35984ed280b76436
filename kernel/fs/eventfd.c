/* eventfd and eventfd2: a counter that writes add to and reads take (whole,
 * or one at a time with EFD_SEMAPHORE), blocking at zero and at the
 * overflow limit as eventfd(2) describes. */
#include "fs/eventfd.h"
#include "fs/anon_fd.h"
#include "fs/poll.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define EVENTFD_MAX 0xfffffffffffffffeull /* the largest value the counter holds */

struct eventfd {
    spinlock_t lock;              /* count; a spinlock so the kernel may signal from interrupts */
    uint64_t count;
    bool semaphore;
    struct poll_head poll;
};

static const struct file_ops eventfd_fops;

bool eventfd_is(const struct file *f)
{
    return f && f->ops == &eventfd_fops;
}

static bool eventfd_has_count(void *arg)
{
    return READ_ONCE(((struct eventfd *)arg)->count) != 0;
}

struct eventfd_add {
    struct eventfd *efd;
    uint64_t n;
};

static bool eventfd_has_room(void *arg)
{
    struct eventfd_add *a = arg;
    return READ_ONCE(a->efd->count) <= EVENTFD_MAX - a->n;
}

/* Take what a read returns, or 0 when the counter is zero. */
static uint64_t eventfd_take(struct eventfd *e)
{
    irqflags_t fl = spin_lock(&e->lock);
    uint64_t v = e->count;
    if (v)
        v = e->semaphore ? 1 : v;
    e->count -= v;
    spin_unlock(&e->lock, fl);
    return v;
}

static ssize_t eventfd_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct eventfd *e = f->priv;
    if (u->resid < sizeof(uint64_t))
        return -EINVAL;
    uint64_t v;
    while (!(v = eventfd_take(e))) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        int err = poll_head_wait(&e->poll, eventfd_has_count, e, 0);
        if (err)
            return err == -EINTR ? -ERESTARTSYS : err;
    }
    poll_notify(&e->poll, POLLOUT | POLLWRNORM);
    if (uio_copy_out(u, &v, sizeof(v)) != sizeof(v)) {
        /* a bad buffer: Linux has taken the value by then too; put it back */
        eventfd_signal(f, v);
        return -EFAULT;
    }
    return sizeof(v);
}

/* Add n if it fits below the overflow value: true when done. */
static bool eventfd_try_add(struct eventfd *e, uint64_t n)
{
    irqflags_t fl = spin_lock(&e->lock);
    bool ok = e->count <= EVENTFD_MAX - n;
    if (ok)
        e->count += n;
    spin_unlock(&e->lock, fl);
    return ok;
}

static ssize_t eventfd_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct eventfd *e = f->priv;
    uint64_t n;
    if (u->resid < sizeof(n))
        return -EINVAL;
    if (uio_copy_in(u, &n, sizeof(n)) != sizeof(n))
        return -EFAULT;
    if (n == UINT64_MAX)
        return -EINVAL;
    while (!eventfd_try_add(e, n)) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        struct eventfd_add a = { e, n };
        int err = poll_head_wait(&e->poll, eventfd_has_room, &a, 0);
        if (err)
            return err == -EINTR ? -ERESTARTSYS : err;
    }
    if (n)
        poll_notify(&e->poll, POLLIN | POLLRDNORM);
    return sizeof(n);
}

int eventfd_signal(struct file *f, uint64_t n)
{
    if (!eventfd_is(f))
        return -EINVAL;
    struct eventfd *e = f->priv;
    irqflags_t fl = spin_lock(&e->lock);
    e->count = e->count > EVENTFD_MAX - n ? EVENTFD_MAX : e->count + n;
    spin_unlock(&e->lock, fl);
    poll_notify(&e->poll, POLLIN | POLLRDNORM);
    return 0;
}

static unsigned eventfd_poll(struct file *f, struct poll_table *pt)
{
    struct eventfd *e = f->priv;
    poll_wait(pt, &e->poll);
    uint64_t c = READ_ONCE(e->count);
    unsigned mask = 0;
    if (c)
        mask |= POLLIN | POLLRDNORM;
    if (c < EVENTFD_MAX)
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static void eventfd_release(struct file *f)
{
    kfree(f->priv);
}

static const struct file_ops eventfd_fops = {
    .release = eventfd_release,
    .read = eventfd_read,
    .write = eventfd_write,
    .poll = eventfd_poll,
    .flags = FOPS_STREAM,
};

long sys_eventfd2(unsigned initval, int flags)
{
    if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK))
        return -EINVAL;
    struct eventfd *e = kzalloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    spin_init(&e->lock);
    poll_head_init(&e->poll);
    e->count = initval;
    e->semaphore = flags & EFD_SEMAPHORE;
    struct file *f;
    int err = anon_fd_inode_file(&eventfd_fops, O_RDWR | ((unsigned)flags & O_NONBLOCK), e, &f);
    if (err) {
        kfree(e);
        return err;
    }
    return anon_fd_install(f, (unsigned)flags);
}

long sys_eventfd(unsigned initval)
{
    return sys_eventfd2(initval, 0);
}
