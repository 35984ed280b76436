/* AF_UNIX stream and seqpacket data: a send becomes messages on the peer's
 * queue (chunks for streams, one record for seqpacket), flow-controlled by
 * the sender's send buffer; stream reads gather across messages, stopping
 * where descriptors or different credentials begin. */
#include "lib/errno.h"
#include "lib/string.h"
#include "unix_internal.h"

#define STREAM_CHUNK_MAX (64 * 1024)

static bool room_or_gone(void *arg)
{
    struct unix_sock *u = arg;
    return __atomic_load_n(&u->wmem, __ATOMIC_RELAXED) < (size_t)READ_ONCE(u->sock.sndbuf) ||
           (READ_ONCE(u->sock.shutdown) & SOCK_SEND_SHUTDOWN) || sock_peek_error(&u->sock);
}

/* Wait until the send buffer has room: 0, -EAGAIN, -ERESTARTSYS... */
static int wait_sndbuf(struct unix_sock *u, int flags, uint64_t deadline)
{
    if (room_or_gone(u))
        return 0;
    if (sock_nonblock(&u->sock, flags))
        return -EAGAIN;
    return sock_wait(&u->sock, room_or_gone, u, deadline);
}

/* Put skb on the peer's queue unless it went away: 0 or -EPIPE. */
static int deliver(struct unix_sock *p, struct unix_skb *skb)
{
    mutex_lock(&p->lock);
    if (p->dead || (p->sock.shutdown & SOCK_RCV_SHUTDOWN)) {
        mutex_unlock(&p->lock);
        return -EPIPE;
    }
    unix_skb_queue(p, skb);
    mutex_unlock(&p->lock);
    sock_notify(&p->sock, POLLIN | POLLRDNORM);
    return 0;
}

/* The connected peer for a send, with the checks both kinds make. */
static int send_peer(struct unix_sock *u, const struct sock_msg *m, struct unix_sock **out)
{
    mutex_lock(&u->lock);
    bool connected = u->state == UNIX_CONNECTED;
    struct unix_sock *p = connected && u->peer ? unix_get(u->peer) : NULL;
    mutex_unlock(&u->lock);
    if (m->name) {
        unix_put(p);
        return connected ? -EISCONN : -EOPNOTSUPP;
    }
    if (!p)
        return -ENOTCONN;
    *out = p;
    return 0;
}

/* One message of n bytes from the uio (n may be 0), scm attached; a
 * record (whole) fails on any fault, a stream chunk only when empty. */
static int make_skb(struct unix_sock *u, struct sock_msg *m, size_t n, struct unix_scm *scm,
                    bool whole, struct unix_skb **out)
{
    struct unix_skb *skb = unix_skb_alloc(u, n);
    if (!skb)
        return -ENOMEM;
    size_t got = n ? uio_copy_in(m->uio, skb->data, n) : 0;
    if (got < n && (whole || got == 0)) {
        unix_skb_free(skb);
        return -EFAULT;
    }
    skb->len = got;
    skb->cred = scm->cred;
    skb->fds = scm->fds; /* descriptors ride on the first message only */
    scm->fds = NULL;
    *out = skb;
    return 0;
}

ssize_t unix_stream_sendmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct unix_sock *u = unix_sk(s), *p;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    int err = send_peer(u, m, &p);
    if (err)
        return err;
    struct unix_scm scm;
    if ((err = unix_scm_parse(m, &scm)) != 0) {
        unix_put(p);
        return err;
    }
    uint64_t deadline = sock_deadline(s, true);
    size_t sent = 0;
    while (m->uio->resid) {
        if (READ_ONCE(s->shutdown) & SOCK_SEND_SHUTDOWN) {
            err = -EPIPE;
            break;
        }
        if ((err = wait_sndbuf(u, flags, deadline)) != 0)
            break;
        size_t chunk = (size_t)MAX(READ_ONCE(s->sndbuf) / 2 - 64, 2048);
        size_t n = MIN(m->uio->resid, MIN(chunk, (size_t)STREAM_CHUNK_MAX));
        struct unix_skb *skb;
        if ((err = make_skb(u, m, n, &scm, false, &skb)) != 0)
            break;
        size_t got = skb->len;
        if ((err = deliver(p, skb)) != 0) {
            unix_skb_free(skb);
            break;
        }
        sent += got;
        if (got < n)
            break; /* a fault part-way: report what went */
    }
    unix_scm_drop(&scm);
    unix_put(p);
    if (err == -EPIPE && !sent)
        return sock_epipe(flags);
    return sent ? (ssize_t)sent : err;
}

ssize_t unix_seqpacket_sendmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct unix_sock *u = unix_sk(s), *p;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    int err = send_peer(u, m, &p);
    if (err)
        return err == -EOPNOTSUPP ? -ENOTCONN : err;
    size_t len = m->uio->resid;
    struct unix_scm scm;
    if (len > (size_t)READ_ONCE(s->sndbuf) - 32)
        err = -EMSGSIZE;
    else
        err = unix_scm_parse(m, &scm);
    if (err) {
        unix_put(p);
        return err;
    }
    struct unix_skb *skb = NULL;
    if (READ_ONCE(s->shutdown) & SOCK_SEND_SHUTDOWN)
        err = -EPIPE;
    else if ((err = wait_sndbuf(u, flags, sock_deadline(s, true))) == 0 &&
             (err = make_skb(u, m, len, &scm, true, &skb)) == 0 && (err = deliver(p, skb)) != 0)
        unix_skb_free(skb);
    unix_scm_drop(&scm);
    unix_put(p);
    if (err)
        return err == -EPIPE ? sock_epipe(flags) : err;
    return (ssize_t)len;
}

/* ---- stream receive ---- */

static bool readable_or_done(void *arg)
{
    struct unix_sock *u = arg;
    return !list_empty(&u->rxq) || (READ_ONCE(u->sock.shutdown) & SOCK_RCV_SHUTDOWN) ||
           sock_peek_error(&u->sock) || READ_ONCE(u->state) != UNIX_CONNECTED;
}

struct stream_read {
    size_t copied, target;
    bool have_cred;
    struct ucred cred;
    struct unix_fds *fds;       /* to install after the lock is dropped */
    struct list_node done;      /* consumed messages, freed after the lock */
};

static bool same_cred(const struct ucred *a, const struct ucred *b)
{
    return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

/* Copy from the queue while data is there, lock held. Returns false when
 * this read must stop (descriptors, credentials boundary, a fault). */
static bool stream_drain(struct unix_sock *u, struct sock_msg *m, struct stream_read *r, bool peek)
{
    for (struct list_node *n = u->rxq.next; n != &u->rxq && m->uio->resid;) {
        struct unix_skb *skb = list_entry(n, struct unix_skb, link);
        if (r->have_cred && u->sock.passcred && !same_cred(&r->cred, &skb->cred))
            return false; /* never glue writers with different credentials */
        if (r->fds || (r->copied && skb->fds))
            return false; /* descriptors come with the start of their data */
        size_t avail = skb->len - skb->off;
        size_t got = uio_copy_out(m->uio, skb->data + skb->off, avail);
        if (!r->have_cred) {
            r->cred = skb->cred;
            r->have_cred = true;
        }
        r->copied += got;
        struct list_node *next = n->next;
        if (skb->fds)
            r->fds = peek ? unix_fds_dup(skb->fds) : skb->fds;
        if (!peek) {
            if (skb->fds)
                skb->fds = NULL;
            skb->off += got;
            u->rx_bytes -= got;
            if (skb->off == skb->len) {
                list_remove(&skb->link);
                u->rx_count--;
                list_add_tail(&r->done, &skb->link);
            }
        }
        if (got < avail || m->uio->fault || r->fds)
            return false;
        n = next;
    }
    return true;
}

ssize_t unix_stream_recvmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct unix_sock *u = unix_sk(s);
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (READ_ONCE(u->state) != UNIX_CONNECTED)
        return -EINVAL;
    bool peek = flags & MSG_PEEK;
    struct stream_read r = { .target = (flags & MSG_WAITALL) ? m->uio->resid
                                       : MIN((size_t)READ_ONCE(s->rcvlowat), m->uio->resid) };
    list_init(&r.done);
    uint64_t deadline = sock_deadline(s, false);
    int err = 0;
    mutex_lock(&u->lock);
    for (;;) {
        bool more = stream_drain(u, m, &r, peek);
        if (!more || !m->uio->resid || r.copied >= r.target || (peek && r.copied))
            break;
        if ((err = sock_take_error(s)) != 0)
            break;
        if (s->shutdown & SOCK_RCV_SHUTDOWN)
            break; /* end of file */
        if (sock_nonblock(s, flags)) {
            err = -EAGAIN;
            break;
        }
        mutex_unlock(&u->lock);
        err = sock_wait(s, readable_or_done, u, deadline);
        mutex_lock(&u->lock);
        if (err)
            break;
    }
    mutex_unlock(&u->lock);
    int e = (r.copied || r.fds || r.have_cred) ?
            unix_scm_recv(m, r.have_cred ? &r.cred : NULL, r.fds, s->passcred) : 0;
    unix_skb_free_list(&r.done);
    if (r.copied)
        return (ssize_t)r.copied;
    if (m->uio->fault)
        return -EFAULT;
    return err ? err : e;
}

/* ---- seqpacket receive: whole records ---- */

ssize_t unix_seqpacket_recvmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct unix_sock *u = unix_sk(s);
    if (READ_ONCE(u->state) != UNIX_CONNECTED)
        return -EINVAL;
    return unix_recv_record(u, m, flags);
}
