/* TCP data transfer: receive copies straight out of the pbufs lwIP queued
 * (outside the network lock, see inet_internal.h) and reopens the window;
 * send copies the application's bytes into lwIP's send buffer as space
 * allows, blocking or EAGAIN as the socket says. */
#include "inet_internal.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"

#include "lwip/tcp.h"

#define TCP_SEND_CHUNK (64 * 1024)

/* ---- send space ---- */

void inet_tcp_update_space(struct inet_sock *is)
{
    struct tcp_pcb *p = is->tcp;
    uint32_t space = 0;
    if (p && tcp_sndqueuelen(p) + 2 < TCP_SND_QUEUELEN)
        space = tcp_sndbuf(p);
    WRITE_ONCE(is->snd_space, space);
}

bool inet_tcp_writable(struct inet_sock *is)
{
    return READ_ONCE(is->snd_space) >= TCP_SNDLOWAT;
}

/* How much one tcp_write may take now (lock held): bytes, 0 when full. */
static size_t send_room(struct inet_sock *is)
{
    struct tcp_pcb *p = is->tcp;
    unsigned qlen = tcp_sndqueuelen(p);
    if (qlen + 2 >= TCP_SND_QUEUELEN)
        return 0;
    size_t by_queue = (size_t)(TCP_SND_QUEUELEN - qlen - 2) * TCP_MSS;
    return MIN((size_t)tcp_sndbuf(p), by_queue);
}

/* Can this send go on (lock held)? 0; or the error to report. */
static int send_state(struct inet_sock *is, bool *wait)
{
    *wait = false;
    int err = sock_take_error(&is->sock);
    if (err)
        return err;
    if (is->sock.shutdown & SOCK_SEND_SHUTDOWN)
        return -EPIPE;
    switch (is->state) {
    case INET_CONNECTED:
        return is->tcp ? 0 : -EPIPE;
    case INET_CONNECTING:
        *wait = true; /* as Linux: a send waits for the connection */
        return 0;
    default:
        return -EPIPE; /* Linux says EPIPE for unconnected TCP too */
    }
}

struct send_wait {
    struct inet_sock *is;
    size_t want;
};

static bool send_ready(void *arg)
{
    struct send_wait *w = arg;
    struct inet_sock *is = w->is;
    return READ_ONCE(is->state) != INET_CONNECTED || sock_peek_error(&is->sock) ||
           (READ_ONCE(is->sock.shutdown) & SOCK_SEND_SHUTDOWN) || inet_tcp_writable(is) ||
           READ_ONCE(is->snd_space) >= w->want;
}

/* Queue n bytes from buf (lock held): 0 or -errno. */
static int send_chunk(struct inet_sock *is, const void *buf, size_t n, bool more)
{
    if (!is->tcp)
        return -EPIPE;
    u8_t fl = TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0);
    err_t r = ERR_OK;
    size_t done = 0;
    while (done < n && r == ERR_OK) {
        size_t piece = MIN(n - done, (size_t)0xffff); /* tcp_write takes a u16_t length */
        r = tcp_write(is->tcp, (const char *)buf + done, (u16_t)piece, fl);
        if (r == ERR_OK)
            done += piece;
    }
    if (done)
        tcp_output(is->tcp);
    inet_tcp_update_space(is);
    if (r == ERR_MEM)
        return done ? 0 : -ENOBUFS;
    return inet_err(r);
}

ssize_t inet_tcp_sendmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct inet_sock *is = inet_sk(s);
    if (flags & MSG_OOB)
        return -EOPNOTSUPP; /* lwIP has no urgent data */
    struct uio *u = m->uio;
    uint64_t deadline = sock_deadline(s, true);
    size_t sent = 0;
    int err = 0;
    mutex_lock(&is->tx_lock);
    while (u->resid) {
        bool wait;
        net_lock();
        err = send_state(is, &wait);
        size_t room = err || wait ? 0 : send_room(is);
        net_unlock();
        if (err)
            break;
        if (!room) {
            if (sock_nonblock(s, flags)) {
                err = -EAGAIN;
                break;
            }
            struct send_wait w = { is, MIN(u->resid, (size_t)TCP_SNDLOWAT) };
            if ((err = sock_wait(s, send_ready, &w, deadline)) != 0)
                break;
            continue;
        }
        size_t n = MIN(MIN(u->resid, room), (size_t)TCP_SEND_CHUNK);
        char *buf = kmalloc(n);
        if (!buf) {
            err = -ENOBUFS;
            break;
        }
        size_t got = uio_copy_in(u, buf, n);
        if (got) {
            net_lock();
            err = send_chunk(is, buf, got, (flags & MSG_MORE) || u->resid); /* PSH on the last piece */
            net_unlock();
        }
        kfree(buf);
        if (!got) {
            err = -EFAULT;
            break;
        }
        if (err)
            break;
        sent += got;
        if (got < n)
            break; /* a fault part-way */
    }
    mutex_unlock(&is->tx_lock);
    if (sent)
        return (ssize_t)sent;
    return err == -EPIPE ? sock_epipe(flags) : err;
}

/* ---- receive ---- */

static bool recv_ready(void *arg)
{
    struct inet_sock *is = arg;
    return READ_ONCE(is->rx_len) || (READ_ONCE(is->sock.shutdown) & SOCK_RCV_SHUTDOWN) ||
           sock_peek_error(&is->sock) || READ_ONCE(is->state) != INET_CONNECTED;
}

/* Drop n consumed bytes from the head of the queue and reopen the window
 * (lock held); the pbufs to free are returned. */
static struct pbuf *rx_consume(struct inet_sock *is, size_t n)
{
    struct pbuf *done = NULL, **tail = &done;
    is->rx_len -= n;
    size_t left = n;
    while (is->rx_head) {
        struct pbuf *q = is->rx_head;
        size_t avail = q->len - is->rx_off;
        if (left < avail) {
            is->rx_off += left;
            break;
        }
        left -= avail; /* consumed whole (or empty): off the queue */
        is->rx_head = q->next;
        q->next = NULL;
        *tail = q;
        tail = &q->next;
        is->rx_off = 0;
        if (!is->rx_head)
            is->rx_tail = NULL;
    }
    while (is->tcp && n) {
        u16_t piece = (u16_t)MIN(n, (size_t)0xffff);
        tcp_recved(is->tcp, piece);
        n -= piece;
    }
    return done;
}

/* Why a receive with nothing queued ends (lock held): 1 to wait, 0 for end
 * of file, or -errno. */
static int recv_empty_state(struct inet_sock *is)
{
    int err = sock_take_error(&is->sock);
    if (err)
        return err;
    if (is->sock.shutdown & SOCK_RCV_SHUTDOWN)
        return 0;
    if (is->state == INET_CONNECTING)
        return 1;
    if (is->state != INET_CONNECTED)
        return is->ever_connected ? 0 : -ENOTCONN;
    return 1;
}

ssize_t inet_tcp_recvmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct inet_sock *is = inet_sk(s);
    if (flags & MSG_OOB)
        return -EINVAL; /* no urgent data, ever */
    struct uio *u = m->uio;
    bool peek = flags & MSG_PEEK;
    size_t target = (flags & MSG_WAITALL) && !peek ? u->resid : MIN((size_t)s->rcvlowat, u->resid);
    uint64_t deadline = sock_deadline(s, false);
    size_t copied = 0;
    int err = 0;
    mutex_lock(&is->rx_lock);
    while (u->resid) {
        net_lock();
        size_t avail = is->rx_len;
        int st = avail ? 1 : recv_empty_state(is);
        if (is->state == INET_LISTEN)
            st = -ENOTCONN;
        struct pbuf *head = is->rx_head;
        size_t off = is->rx_off;
        net_unlock();
        if (avail) {
            /* the reader owns the head: these pbufs stay until we consume them */
            size_t got = inet_pbuf_copy_out(head, off, MIN(avail, u->resid), u);
            if (!peek) {
                net_lock();
                struct pbuf *done = rx_consume(is, got);
                net_unlock();
                inet_pbuf_list_free(done);
            }
            copied += got;
            if (u->fault || peek || copied >= target)
                break;
            continue;
        }
        if (st <= 0) {
            err = st;
            break;
        }
        if (copied >= target && copied)
            break;
        if (sock_nonblock(s, flags)) {
            err = -EAGAIN;
            break;
        }
        if ((err = sock_wait(s, recv_ready, is, deadline)) != 0)
            break;
    }
    mutex_unlock(&is->rx_lock);
    if (copied)
        return (ssize_t)copied;
    if (u->fault)
        return -EFAULT;
    return err;
}
