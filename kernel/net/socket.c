/* Sockets as files: the file operations every socket shares (read, write,
 * poll, ioctl, release go to the family), descriptors, pending errors,
 * timeouts and blocking waits. */
#include "net/socket.h"
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "fs/anon_fd.h"
#include "fs/fdtable.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "net/netif.h"

#define SOCKFS_MAGIC 0x534F434B

static const struct file_ops sock_fops;
static struct vfs_sb *sock_sb;

static const struct sock_family *const families[] = {
    &unix_family, &inet_family, &inet6_family, &netlink_family,
};

const struct sock_family *sock_find_family(int family)
{
    for (size_t i = 0; i < ARRAY_SIZE(families); i++)
        if (families[i] && families[i]->family == family)
            return families[i];
    return NULL;
}

void sock_init(struct socket *s, int family, int type, int protocol, const struct sock_ops *ops)
{
    s->family = family;
    s->type = type;
    s->protocol = protocol;
    s->ops = ops;
    poll_head_init(&s->poll);
    s->rcvbuf = s->sndbuf = SOCK_DEFAULT_BUF;
    s->rcvlowat = 1;
}

struct socket *sock_from_file(struct file *f)
{
    return f && f->ops == &sock_fops ? f->priv : NULL;
}

int sock_file_create(struct socket *s, int flags, struct file **out)
{
    struct vfs_sb *sb = anon_fd_sb(&sock_sb, "socket", SOCKFS_MAGIC);
    unsigned fl = O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
    int err = anon_fd_file(sb, S_IFSOCK | 0777, &sock_fops, fl, s, out);
    if (!err)
        s->file = *out;
    return err;
}

int sock_install_fd(struct socket *s, int flags)
{
    struct file *f;
    int err = sock_file_create(s, flags, &f);
    if (err) {
        s->ops->release(s);
        return err;
    }
    return anon_fd_install(f, (flags & SOCK_CLOEXEC) ? O_CLOEXEC : 0);
}

struct socket *sock_from_fd(int fd, struct file **fp, int *err)
{
    struct proc *p = proc_current();
    struct file *f = p && p->files ? fd_get(p->files, fd) : NULL;
    if (!f) {
        *err = -EBADF;
        return NULL;
    }
    if (f->fmode & FMODE_PATH) {
        vfs_file_put(f);
        *err = -EBADF;
        return NULL;
    }
    struct socket *s = sock_from_file(f);
    if (!s) {
        vfs_file_put(f);
        *err = -ENOTSOCK;
        return NULL;
    }
    *fp = f;
    return s;
}

/* ---- errors, timeouts, waits ---- */

void sock_set_error(struct socket *s, int err)
{
    __atomic_store_n(&s->err, err, __ATOMIC_RELEASE);
    sock_notify(s, POLLERR | POLLIN | POLLOUT);
}

int sock_take_error(struct socket *s)
{
    if (!__atomic_load_n(&s->err, __ATOMIC_RELAXED))
        return 0;
    return __atomic_exchange_n(&s->err, 0, __ATOMIC_ACQ_REL);
}

uint64_t sock_deadline(struct socket *s, bool send)
{
    uint64_t t = send ? READ_ONCE(s->sndtimeo_ns) : READ_ONCE(s->rcvtimeo_ns);
    return t ? clock_monotonic_ns() + t : 0;
}

bool sock_nonblock(struct socket *s, int flags)
{
    return (flags & MSG_DONTWAIT) || (s->file && (READ_ONCE(s->file->flags) & O_NONBLOCK));
}

int sock_wait(struct socket *s, bool (*cond)(void *), void *arg, uint64_t deadline)
{
    int err = poll_head_wait(&s->poll, cond, arg, deadline);
    if (err == -ETIMEDOUT)
        return -EAGAIN;
    if (err == -EINTR)
        return deadline ? -EINTR : -ERESTARTSYS;
    return err;
}

int sock_epipe(int flags)
{
    struct proc *p = proc_current();
    if (p && !(flags & MSG_NOSIGNAL))
        signal_send(p, thread_current(), SIGPIPE, NULL);
    return -EPIPE;
}

void sock_current_cred(struct ucred *c)
{
    struct proc *p = proc_current();
    c->pid = p ? p->pid : 0;
    c->uid = p ? p->euid : 0;
    c->gid = p ? p->egid : 0;
}

/* ---- the file operations ---- */

static ssize_t sock_file_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct socket *s = f->priv;
    if (!s->ops->recvmsg)
        return -EINVAL;
    struct sock_msg m = { .uio = u };
    return s->ops->recvmsg(s, &m, 0);
}

static ssize_t sock_file_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct socket *s = f->priv;
    if (!s->ops->sendmsg)
        return -EINVAL;
    struct sock_msg m = { .uio = u };
    return s->ops->sendmsg(s, &m, 0);
}

static unsigned sock_file_poll(struct file *f, struct poll_table *pt)
{
    struct socket *s = f->priv;
    if (!s->ops->poll) {
        poll_wait(pt, &s->poll);
        return 0;
    }
    return s->ops->poll(s, pt);
}

static int sock_file_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct socket *s = f->priv;
    int r = s->ops->ioctl ? s->ops->ioctl(s, cmd, arg) : -ENOTTY;
    if (r == -ENOTTY)
        r = net_dev_ioctl(cmd, arg); /* any socket answers the interface ioctls */
    return r;
}

static void sock_file_release(struct file *f)
{
    struct socket *s = f->priv;
    s->file = NULL;
    s->ops->release(s);
}

static const struct file_ops sock_fops = {
    .read = sock_file_read,
    .write = sock_file_write,
    .poll = sock_file_poll,
    .ioctl = sock_file_ioctl,
    .release = sock_file_release,
    .flags = FOPS_STREAM,
};
