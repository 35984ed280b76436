/* signalfd and signalfd4: reading takes pending signals of the file's set
 * (for the reading thread: its own and the process's) as signalfd_siginfo
 * records. signal_send tells us when a signal is queued (signalfd_notify),
 * which wakes readers and pollers of every signalfd; each looks again. */
#include "fs/signalfd.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "fs/anon_fd.h"
#include "fs/poll.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

struct signalfd {
    uint64_t mask;              /* atomic: signalfd4 on the same fd changes it */
};

/* One head for all signalfds: there is one process, and signals are rare
 * enough that waking every signalfd waiter costs nothing. */
static struct poll_head signalfd_head;
static bool signalfd_head_ready;
static spinlock_t signalfd_init_lock = SPINLOCK_INIT;
static const struct file_ops signalfd_fops;

static struct poll_head *sfd_head(void)
{
    if (!__atomic_load_n(&signalfd_head_ready, __ATOMIC_ACQUIRE)) {
        irqflags_t f = spin_lock(&signalfd_init_lock);
        if (!signalfd_head_ready) {
            poll_head_init(&signalfd_head);
            __atomic_store_n(&signalfd_head_ready, true, __ATOMIC_RELEASE);
        }
        spin_unlock(&signalfd_init_lock, f);
    }
    return &signalfd_head;
}

void signalfd_notify(struct proc *p, int sig)
{
    (void)p, (void)sig;
    if (__atomic_load_n(&signalfd_head_ready, __ATOMIC_ACQUIRE))
        poll_notify(&signalfd_head, POLLIN | POLLRDNORM);
}

bool signalfd_is(const struct file *f)
{
    return f && f->ops == &signalfd_fops;
}

static uint64_t sfd_mask(const struct file *f)
{
    return __atomic_load_n(&((struct signalfd *)f->priv)->mask, __ATOMIC_RELAXED);
}

/* Pending for the current thread in mask (a racy look; reads recheck). */
static bool sfd_pending(void *arg)
{
    uint64_t mask = *(const uint64_t *)arg;
    struct thread *t = thread_current();
    return ((READ_ONCE(t->sigpend.set) | READ_ONCE(t->proc->sighand->shared.set)) & mask) != 0;
}

/* siginfo_t to the record, field by field as the si_code says it is laid out. */
static void sfd_convert(const struct siginfo_abi *si, struct signalfd_siginfo *out)
{
    memset(out, 0, sizeof(*out));
    out->ssi_signo = (uint32_t)si->signo;
    out->ssi_errno = si->err;
    out->ssi_code = si->code;
    int sig = si->signo;
    if (si->code == SI_TIMER_CODE) {
        out->ssi_tid = (uint32_t)si->timer.tid;
        out->ssi_overrun = (uint32_t)si->timer.overrun;
        out->ssi_ptr = si->timer.value;
        out->ssi_int = (int32_t)si->timer.value;
    } else if (si->code > 0 && si->code < SI_KERNEL_CODE &&
               (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP)) {
        out->ssi_addr = si->fault.addr;
    } else if (si->code > 0 && si->code < SI_KERNEL_CODE && sig == SIGIO) {
        out->ssi_band = (uint32_t)si->poll.band;
        out->ssi_fd = si->poll.fd;
    } else {
        out->ssi_pid = (uint32_t)si->rt.pid;
        out->ssi_uid = si->rt.uid;
        if (si->code < 0) { /* sigqueue, tgkill...: the value travels too */
            out->ssi_ptr = si->rt.value;
            out->ssi_int = (int32_t)si->rt.value;
        }
    }
}

static int sfd_dequeue(uint64_t mask, struct siginfo_abi *info)
{
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    int sig = signal_dequeue_locked(t, mask, info);
    if (sig)
        signal_recalc_locked(t);
    spin_unlock(&sh->lock, f);
    return sig;
}

static ssize_t signalfd_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    if (u->resid < sizeof(struct signalfd_siginfo))
        return -EINVAL;
    uint64_t mask = sfd_mask(f);
    size_t done = 0;
    while (u->resid >= sizeof(struct signalfd_siginfo)) {
        struct siginfo_abi info;
        if (!sfd_dequeue(mask, &info)) {
            if (done)
                break; /* only the first record is waited for */
            if (f->flags & O_NONBLOCK)
                return -EAGAIN;
            int err = poll_head_wait(sfd_head(), sfd_pending, &mask, 0);
            if (err)
                return err == -EINTR ? -ERESTARTSYS : err;
            continue;
        }
        struct signalfd_siginfo rec;
        sfd_convert(&info, &rec);
        if (uio_copy_out(u, &rec, sizeof(rec)) != sizeof(rec))
            return done ? (ssize_t)done : -EFAULT; /* the signal is gone, as on Linux */
        done += sizeof(rec);
    }
    return (ssize_t)done;
}

static unsigned signalfd_poll(struct file *f, struct poll_table *pt)
{
    poll_wait(pt, sfd_head());
    uint64_t mask = sfd_mask(f);
    return thread_current()->proc && sfd_pending(&mask) ? POLLIN | POLLRDNORM : 0;
}

static void signalfd_release(struct file *f)
{
    kfree(f->priv);
}

static const struct file_ops signalfd_fops = {
    .release = signalfd_release,
    .read = signalfd_read,
    .poll = signalfd_poll,
    .flags = FOPS_STREAM,
};

/* A new mask for an existing signalfd: the fd, -EBADF or -EINVAL. */
static long sfd_update(int fd, uint64_t mask)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = fd;
    if (signalfd_is(f)) {
        __atomic_store_n(&((struct signalfd *)f->priv)->mask, mask, __ATOMIC_RELAXED);
        poll_notify(sfd_head(), POLLIN | POLLRDNORM); /* readiness may have changed */
    } else {
        r = -EINVAL;
    }
    vfs_file_put(f);
    return r;
}

long sys_signalfd4(int fd, const uint64_t __user *umask, size_t sizemask, int flags)
{
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return -EINVAL;
    if (sizemask != sizeof(uint64_t))
        return -EINVAL;
    uint64_t mask;
    if (copy_from_user(&mask, umask, sizeof(mask)))
        return -EFAULT;
    mask &= ~SIG_UNBLOCKABLE;
    if (fd != -1)
        return sfd_update(fd, mask);
    struct signalfd *s = kzalloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->mask = mask;
    sfd_head();
    struct file *f;
    int err = anon_fd_inode_file(&signalfd_fops, O_RDWR | ((unsigned)flags & O_NONBLOCK), s, &f);
    if (err) {
        kfree(s);
        return err;
    }
    return anon_fd_install(f, (unsigned)flags);
}

long sys_signalfd(int fd, const uint64_t __user *umask, size_t sizemask)
{
    return sys_signalfd4(fd, umask, sizemask, 0);
}
