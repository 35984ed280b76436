/* AF_UNIX sockets, in the kernel: stream, datagram and seqpacket. This file
 * has their life cycle, socket()/socketpair(), readiness, ioctls, options
 * and the operation tables; names, connections and data live next door. */
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "unix_internal.h"

struct unix_sock *unix_sock_alloc(int type)
{
    struct unix_sock *u = kzalloc(sizeof(*u));
    if (!u)
        return NULL;
    const struct sock_ops *ops = type == SOCK_STREAM ? &unix_stream_ops
                               : type == SOCK_DGRAM  ? &unix_dgram_ops
                                                     : &unix_seqpacket_ops;
    sock_init(&u->sock, AF_UNIX, type, 0, ops);
    u->refs = 1;
    mutex_init(&u->lock);
    list_init(&u->name_link);
    list_init(&u->rxq);
    list_init(&u->acceptq);
    list_init(&u->accept_link);
    return u;
}

struct unix_sock *unix_get(struct unix_sock *u)
{
    __atomic_add_fetch(&u->refs, 1, __ATOMIC_RELAXED);
    return u;
}

void unix_put(struct unix_sock *u)
{
    if (!u || __atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    unix_addr_put(u->addr);
    kfree(u);
}

struct unix_addr *unix_addr_get(struct unix_addr *a)
{
    if (a)
        __atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
    return a;
}

void unix_addr_put(struct unix_addr *a)
{
    if (a && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0)
        kfree(a);
}

struct unix_sock *unix_peer_get(struct unix_sock *u)
{
    mutex_lock(&u->lock);
    struct unix_sock *p = u->peer ? unix_get(u->peer) : NULL;
    mutex_unlock(&u->lock);
    return p;
}

/* ---- socket() and socketpair() ---- */

static int unix_check_type(int type, int protocol)
{
    if (protocol && protocol != AF_UNIX)
        return -EPROTONOSUPPORT;
    if (type == SOCK_RAW)
        return -ESOCKTNOSUPPORT; /* Linux makes SOCK_RAW a datagram socket; nobody relies on it */
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return -ESOCKTNOSUPPORT;
    return 0;
}

static int unix_create(int type, int protocol, struct socket **out)
{
    int err = unix_check_type(type, protocol);
    if (err)
        return err;
    struct unix_sock *u = unix_sock_alloc(type);
    if (!u)
        return -ENOMEM;
    *out = &u->sock;
    return 0;
}

static int unix_pair(int type, int protocol, struct socket **a, struct socket **b)
{
    int err = unix_check_type(type, protocol);
    if (err)
        return err;
    struct unix_sock *x = unix_sock_alloc(type), *y = unix_sock_alloc(type);
    if (!x || !y) {
        unix_put(x);
        unix_put(y);
        return -ENOMEM;
    }
    x->peer = unix_get(y);
    y->peer = unix_get(x);
    x->state = y->state = UNIX_CONNECTED;
    sock_current_cred(&x->peercred);
    y->peercred = x->peercred;
    x->have_peercred = y->have_peercred = true;
    *a = &x->sock;
    *b = &y->sock;
    return 0;
}

const struct sock_family unix_family = {
    .family = AF_UNIX,
    .create = unix_create,
    .pair = unix_pair,
};

/* ---- readiness ---- */

static bool unix_writable(struct unix_sock *u)
{
    /* as Linux: writable while at most a quarter of the send buffer is queued */
    return __atomic_load_n(&u->wmem, __ATOMIC_RELAXED) * 4 <= (size_t)READ_ONCE(u->sock.sndbuf);
}

static unsigned unix_poll_common(struct unix_sock *u)
{
    unsigned mask = 0, shut = READ_ONCE(u->sock.shutdown);
    if (sock_peek_error(&u->sock))
        mask |= POLLERR;
    if (shut == SOCK_SHUTDOWN_MASK)
        mask |= POLLHUP;
    if (shut & SOCK_RCV_SHUTDOWN)
        mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (!list_empty(&u->rxq))
        mask |= POLLIN | POLLRDNORM;
    return mask;
}

static unsigned unix_stream_poll(struct socket *s, struct poll_table *pt)
{
    struct unix_sock *u = unix_sk(s);
    poll_wait(pt, &s->poll);
    unsigned mask = unix_poll_common(u);
    enum unix_state st = READ_ONCE(u->state);
    if (st == UNIX_LISTENING) {
        if (READ_ONCE(u->accept_count))
            mask |= POLLIN | POLLRDNORM;
        return mask;
    }
    if (st == UNIX_UNCONNECTED)
        mask |= POLLHUP; /* Linux: a stream socket that never connected hangs up */
    if (unix_writable(u))
        mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
}

static unsigned unix_dgram_poll(struct socket *s, struct poll_table *pt)
{
    struct unix_sock *u = unix_sk(s);
    poll_wait(pt, &s->poll);
    unsigned mask = unix_poll_common(u);
    bool writable = unix_writable(u);
    if (writable) {
        struct unix_sock *p = unix_peer_get(u);
        if (p && READ_ONCE(p->peer) != u && READ_ONCE(p->rx_count) > UNIX_MAX_DGRAM_QLEN)
            writable = false; /* the peer's queue is full */
        unix_put(p);
    }
    if (writable)
        mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
}

/* ---- ioctl and options ---- */

static int unix_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
    struct unix_sock *u = unix_sk(s);
    uint32_t v;
    switch (cmd) {
    case SIOCINQ:
        if (READ_ONCE(u->state) == UNIX_LISTENING)
            return -EINVAL;
        mutex_lock(&u->lock);
        if (s->type == SOCK_STREAM) {
            v = (uint32_t)u->rx_bytes;
        } else {
            struct list_node *n = u->rxq.next;
            v = n == &u->rxq ? 0 : (uint32_t)list_entry(n, struct unix_skb, link)->len;
        }
        mutex_unlock(&u->lock);
        break;
    case SIOCOUTQ:
        v = (uint32_t)__atomic_load_n(&u->wmem, __ATOMIC_RELAXED);
        break;
    default:
        return -ENOTTY;
    }
    return put_user_u32((void __user *)arg, v);
}

static int unix_getsockopt(struct socket *s, int level, int name, void *val, unsigned *len)
{
    struct unix_sock *u = unix_sk(s);
    if (level != SOL_SOCKET || name != SO_PEERCRED)
        return level == SOL_SOCKET ? -ENOPROTOOPT : -EOPNOTSUPP;
    mutex_lock(&u->lock);
    bool have = u->have_peercred;
    struct ucred c = u->peercred;
    mutex_unlock(&u->lock);
    if (!have)
        return -ENOPROTOOPT; /* the layer's answer for no credentials */
    memcpy(val, &c, sizeof(c));
    *len = sizeof(c);
    return 0;
}

static int unix_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len)
{
    (void)s, (void)name, (void)val, (void)len;
    return level == SOL_SOCKET ? -ENOPROTOOPT : -EOPNOTSUPP;
}

static int unix_no_accept(struct socket *s, struct socket **out, bool nonblock)
{
    (void)s, (void)out, (void)nonblock;
    return -EOPNOTSUPP;
}

static int unix_no_listen(struct socket *s, int backlog)
{
    (void)s, (void)backlog;
    return -EOPNOTSUPP;
}

const struct sock_ops unix_stream_ops = {
    .bind = unix_bind,
    .connect = unix_stream_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .getname = unix_getname,
    .sendmsg = unix_stream_sendmsg,
    .recvmsg = unix_stream_recvmsg,
    .shutdown = unix_shutdown,
    .poll = unix_stream_poll,
    .ioctl = unix_ioctl,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .release = unix_release,
};

const struct sock_ops unix_seqpacket_ops = {
    .bind = unix_bind,
    .connect = unix_stream_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .getname = unix_getname,
    .sendmsg = unix_seqpacket_sendmsg,
    .recvmsg = unix_seqpacket_recvmsg,
    .shutdown = unix_shutdown,
    .poll = unix_stream_poll,
    .ioctl = unix_ioctl,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .release = unix_release,
};

const struct sock_ops unix_dgram_ops = {
    .bind = unix_bind,
    .connect = unix_dgram_connect,
    .listen = unix_no_listen,
    .accept = unix_no_accept,
    .getname = unix_getname,
    .sendmsg = unix_dgram_sendmsg,
    .recvmsg = unix_dgram_recvmsg,
    .shutdown = unix_shutdown,
    .poll = unix_dgram_poll,
    .ioctl = unix_ioctl,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .release = unix_release,
};
