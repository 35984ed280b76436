/* AF_UNIX datagrams: sendto a name or the connected peer, queue limits as
 * Linux's (max_dgram_qlen, the sender's send buffer), whole-record receive
 * with truncation, which seqpacket sockets share. */
#include "lib/errno.h"
#include "lib/string.h"
#include "unix_internal.h"

static bool queue_has_room(void *arg)
{
    struct unix_sock *t = arg;
    return READ_ONCE(t->dead) || READ_ONCE(t->rx_count) <= UNIX_MAX_DGRAM_QLEN ||
           READ_ONCE(t->peer) != NULL;
}

static bool sndbuf_room(void *arg)
{
    struct unix_sock *u = arg;
    return __atomic_load_n(&u->wmem, __ATOMIC_RELAXED) < (size_t)READ_ONCE(u->sock.sndbuf);
}

/* The peer went away under a connected datagram socket: forget it. */
static void drop_dead_peer(struct unix_sock *u, struct unix_sock *t)
{
    mutex_lock(&u->lock);
    bool was = u->peer == t;
    if (was) {
        u->peer = NULL;
        u->state = UNIX_UNCONNECTED;
    }
    mutex_unlock(&u->lock);
    if (was)
        unix_put(t);
}

/* Queue skb on t, waiting while its queue is full: 0 or -errno. */
static int dgram_deliver(struct unix_sock *u, struct unix_sock *t, struct unix_skb *skb,
                         bool to_peer, int flags, uint64_t deadline)
{
    for (;;) {
        mutex_lock(&t->lock);
        int err = 0;
        if (t->dead)
            err = -ECONNREFUSED;
        else if (t->peer && t->peer != u)
            err = -EPERM; /* it only hears from its own peer */
        else if (t->sock.shutdown & SOCK_RCV_SHUTDOWN)
            err = -EPIPE;
        else if (t->rx_count <= UNIX_MAX_DGRAM_QLEN || t->peer == u) {
            /* as Linux, a receiver connected back to the sender has no queue limit */
            unix_skb_queue(t, skb);
            mutex_unlock(&t->lock);
            sock_notify(&t->sock, POLLIN | POLLRDNORM);
            return 0;
        } else if (sock_nonblock(&u->sock, flags)) {
            err = -EAGAIN;
        }
        mutex_unlock(&t->lock);
        if (err == -ECONNREFUSED && to_peer)
            drop_dead_peer(u, t);
        if (err)
            return err;
        err = poll_head_wait(&t->sock.poll, queue_has_room, t, deadline);
        if (err)
            return err == -ETIMEDOUT ? -EAGAIN : err == -EINTR ? (deadline ? -EINTR : -ERESTARTSYS) : err;
    }
}

ssize_t unix_dgram_sendmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct unix_sock *u = unix_sk(s), *t = NULL;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    size_t len = m->uio->resid;
    if (len > (size_t)READ_ONCE(s->sndbuf) - 32)
        return -EMSGSIZE;
    int err = 0;
    if (m->name)
        err = unix_find(m->name, m->name_len, SOCK_DGRAM, &t);
    else if (!(t = unix_peer_get(u)))
        err = -ENOTCONN;
    if (err)
        return err;
    struct unix_scm scm = { 0 };
    uint64_t deadline = sock_deadline(s, true);
    if (s->passcred && (err = unix_autobind(u)) != 0)
        goto out;
    if ((err = unix_scm_parse(m, &scm)) != 0)
        goto out;
    if (!sndbuf_room(u)) {
        err = sock_nonblock(s, flags) ? -EAGAIN : sock_wait(s, sndbuf_room, u, deadline);
        if (err)
            goto out;
    }
    struct unix_skb *skb = unix_skb_alloc(u, len);
    if (!skb) {
        err = -ENOMEM;
        goto out;
    }
    if (uio_copy_in(m->uio, skb->data, len) < len) {
        unix_skb_free(skb);
        err = -EFAULT;
        goto out;
    }
    skb->cred = scm.cred;
    skb->fds = scm.fds;
    scm.fds = NULL;
    skb->from = unix_addr_get(__atomic_load_n(&u->addr, __ATOMIC_ACQUIRE));
    if ((err = dgram_deliver(u, t, skb, !m->name, flags, deadline)) != 0)
        unix_skb_free(skb);
out:
    unix_scm_drop(&scm);
    unix_put(t);
    return err ? err : (ssize_t)len;
}

static bool record_ready(void *arg)
{
    struct unix_sock *u = arg;
    return !list_empty(&u->rxq) || (READ_ONCE(u->sock.shutdown) & SOCK_RCV_SHUTDOWN) ||
           sock_peek_error(&u->sock);
}

/* Wait for a record, lock held on return when one is there (0). */
static int record_wait(struct unix_sock *u, int flags)
{
    struct socket *s = &u->sock;
    uint64_t deadline = sock_deadline(s, false);
    mutex_lock(&u->lock);
    while (list_empty(&u->rxq)) {
        int err = sock_take_error(s);
        if (!err && (s->shutdown & SOCK_RCV_SHUTDOWN))
            err = 1; /* end of file */
        if (!err && sock_nonblock(s, flags))
            err = -EAGAIN;
        mutex_unlock(&u->lock);
        if (!err)
            err = sock_wait(s, record_ready, u, deadline);
        if (err)
            return err;
        mutex_lock(&u->lock);
    }
    return 0;
}

ssize_t unix_recv_record(struct unix_sock *u, struct sock_msg *m, int flags)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    int err = record_wait(u, flags);
    if (err)
        return err == 1 ? 0 : err;
    bool peek = flags & MSG_PEEK;
    struct unix_skb *skb = list_entry(u->rxq.next, struct unix_skb, link);
    bool was_full = u->rx_count > UNIX_MAX_DGRAM_QLEN;
    if (!peek) {
        list_remove(&skb->link);
        u->rx_count--;
        u->rx_bytes -= skb->len;
    }
    size_t len = skb->len, got = uio_copy_out(m->uio, skb->data, len);
    if (len > got && !m->uio->fault)
        m->flags_out |= MSG_TRUNC;
    if (m->name && skb->from) {
        memcpy(m->name, &skb->from->sun, skb->from->len);
        m->name_len = skb->from->len;
    }
    struct ucred cred = skb->cred;
    struct unix_fds *fds = peek ? unix_fds_dup(skb->fds) : skb->fds;
    if (!peek)
        skb->fds = NULL;
    mutex_unlock(&u->lock);
    if (!peek && was_full)
        sock_notify(&u->sock, POLLOUT | POLLWRNORM); /* senders waiting for room */
    bool fault = m->uio->fault;
    err = unix_scm_recv(m, &cred, fds, u->sock.passcred);
    if (!peek)
        unix_skb_free(skb);
    if (fault)
        return -EFAULT;
    if (err)
        return err;
    return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)got;
}

ssize_t unix_dgram_recvmsg(struct socket *s, struct sock_msg *m, int flags)
{
    return unix_recv_record(unix_sk(s), m, flags);
}
