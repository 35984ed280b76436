/* TCP sockets over lwIP's raw API: the pcb and its callbacks, bind,
 * listen with lwIP's backlog, accept, blocking and non-blocking connect,
 * shutdown, close (FIN, or RST for unread data and SO_LINGER 0), readiness
 * and names. Data transfer is in inet_tcp_io.c. */
#include "inet_internal.h"
#include "lib/errno.h"
#include "lib/string.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

/* ---- callbacks (network lock held) ---- */

static err_t tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct inet_sock *is = arg;
    if (!p) {
        is->sock.shutdown |= SOCK_RCV_SHUTDOWN; /* the peer's FIN */
        sock_notify(&is->sock, POLLIN | POLLRDNORM | POLLRDHUP);
        return ERR_OK;
    }
    if (err != ERR_OK || (is->sock.shutdown & SOCK_RCV_SHUTDOWN)) {
        tcp_recved(pcb, p->tot_len); /* after SHUT_RD, data is dropped */
        pbuf_free(p);
        return ERR_OK;
    }
    size_t n = p->tot_len;
    if (is->rx_tail)
        is->rx_tail->next = p;
    else
        is->rx_head = p;
    struct pbuf *t = p;
    while (t->next)
        t = t->next;
    is->rx_tail = t;
    is->rx_len += n;
    sock_notify(&is->sock, POLLIN | POLLRDNORM);
    return ERR_OK;
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb, (void)len;
    struct inet_sock *is = arg;
    inet_tcp_update_space(is);
    if (inet_tcp_writable(is))
        sock_notify(&is->sock, POLLOUT | POLLWRNORM | POLLWRBAND);
    return ERR_OK;
}

/* The pcb is gone (lwIP freed it): reset, refused, or timed out. */
static void tcp_err_cb(void *arg, err_t err)
{
    struct inet_sock *is = arg;
    int e;
    if (err == ERR_RST)
        e = is->state == INET_CONNECTING ? -ECONNREFUSED
          : (is->sock.shutdown & SOCK_RCV_SHUTDOWN) ? -EPIPE : -ECONNRESET;
    else if (err == ERR_CLSD)
        e = 0;
    else
        e = -ETIMEDOUT; /* lwIP gives up (ERR_ABRT) after its retransmissions */
    is->tcp = NULL;
    is->state = INET_CLOSED;
    is->sock.shutdown = SOCK_SHUTDOWN_MASK;
    if (e)
        sock_set_error(&is->sock, e);
    sock_notify(&is->sock, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
}

static err_t tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)err;
    struct inet_sock *is = arg;
    is->state = INET_CONNECTED;
    is->ever_connected = true;
    is->local_ip = pcb->local_ip;
    is->local_port = pcb->local_port;
    inet_tcp_update_space(is);
    sock_notify(&is->sock, POLLOUT | POLLWRNORM);
    return ERR_OK;
}

static void tcp_attach(struct inet_sock *is, struct tcp_pcb *pcb)
{
    is->tcp = pcb;
    tcp_arg(pcb, is);
    tcp_recv(pcb, tcp_recv_cb);
    tcp_sent(pcb, tcp_sent_cb);
    tcp_err(pcb, tcp_err_cb);
    inet_tcp_apply_opts(is);
}

/* Nothing of lwIP refers to the socket any more (pcb lives on or not). */
static struct tcp_pcb *tcp_detach(struct inet_sock *is)
{
    struct tcp_pcb *pcb = is->tcp;
    is->tcp = NULL;
    if (!pcb)
        return NULL;
    tcp_arg(pcb, NULL);
    if (pcb->state == LISTEN) {
        tcp_accept(pcb, NULL);
    } else {
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
    }
    return pcb;
}

void inet_tcp_apply_opts(struct inet_sock *is)
{
    struct tcp_pcb *pcb = is->tcp;
    if (!pcb)
        return;
    struct socket *s = &is->sock;
    if (s->reuseaddr)
        ip_set_option(pcb, SOF_REUSEADDR);
    else
        ip_reset_option(pcb, SOF_REUSEADDR);
    pcb->tos = (u8_t)is->tos;
    pcb->ttl = (u8_t)(is->ttl < 0 ? IP_DEFAULT_TTL : is->ttl);
    if (pcb->state == LISTEN)
        return;
    if (s->keepalive)
        ip_set_option(pcb, SOF_KEEPALIVE);
    else
        ip_reset_option(pcb, SOF_KEEPALIVE);
    pcb->keep_idle = (u32_t)is->keepidle * 1000;
    pcb->keep_intvl = (u32_t)is->keepintvl * 1000;
    pcb->keep_cnt = (u32_t)is->keepcnt;
    if (is->nodelay)
        tcp_nagle_disable(pcb);
    else
        tcp_nagle_enable(pcb);
}

int inet_tcp_create(struct inet_sock *is)
{
    if (!net_configured())
        net_init(); /* no boot hook ran it: configure on first use */
    net_lock();
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb)
        tcp_attach(is, pcb);
    net_unlock();
    return pcb ? 0 : -ENOMEM;
}

/* A fresh pcb for a socket whose connection is over (connect again). */
static int tcp_renew(struct inet_sock *is)
{
    if (is->tcp)
        return 0;
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb)
        return -ENOMEM;
    tcp_attach(is, pcb);
    is->sock.shutdown = 0;
    inet_pbuf_list_free(is->rx_head);
    is->rx_head = is->rx_tail = NULL;
    is->rx_len = is->rx_off = 0;
    return 0;
}

/* ---- bind, listen, accept ---- */

static int tcp_bind_op(struct socket *s, const struct sockaddr_storage *addr, unsigned len)
{
    struct inet_sock *is = inet_sk(s);
    ip_addr_t ip;
    uint16_t port;
    bool unspec;
    int err = inet_addr_from(addr, len, &ip, &port, &unspec);
    if (err)
        return err;
    net_lock();
    if (!is->tcp || is->tcp->local_port || is->state != INET_CLOSED)
        err = -EINVAL;
    else if (!inet_addr_is_local(&ip))
        err = -EADDRNOTAVAIL;
    else {
        inet_tcp_apply_opts(is);
        err = inet_err(tcp_bind(is->tcp, &ip, port));
    }
    if (!err) {
        is->local_ip = is->tcp->local_ip;
        is->local_port = is->tcp->local_port;
    }
    net_unlock();
    return err;
}

static err_t tcp_accept_cb(void *arg, struct tcp_pcb *npcb, err_t err)
{
    struct inet_sock *l = arg;
    if (!l || err != ERR_OK || !npcb)
        return ERR_VAL;
    struct inet_sock *e = inet_sock_alloc(SOCK_STREAM, IPPROTO_TCP, &inet_tcp_ops);
    if (!e) {
        tcp_abort(npcb);
        return ERR_ABRT;
    }
    /* what Linux copies from the listener into the new socket */
    struct socket *ls = &l->sock, *es = &e->sock;
    es->reuseaddr = ls->reuseaddr;
    es->keepalive = ls->keepalive;
    es->oobinline = ls->oobinline;
    es->rcvbuf = ls->rcvbuf;
    es->sndbuf = ls->sndbuf;
    es->rcvlowat = ls->rcvlowat;
    es->linger = ls->linger;
    es->rcvtimeo_ns = ls->rcvtimeo_ns;
    es->sndtimeo_ns = ls->sndtimeo_ns;
    es->priority = ls->priority;
    es->mark = ls->mark;
    e->nodelay = l->nodelay;
    e->keepidle = l->keepidle;
    e->keepintvl = l->keepintvl;
    e->keepcnt = l->keepcnt;
    e->tos = l->tos;
    e->ttl = l->ttl;
    e->user_timeout_ms = l->user_timeout_ms;
    tcp_attach(e, npcb);
    e->state = INET_CONNECTED;
    e->ever_connected = true;
    e->local_ip = npcb->local_ip;
    e->local_port = npcb->local_port;
    e->remote_ip = npcb->remote_ip;
    e->remote_port = npcb->remote_port;
    inet_tcp_update_space(e);
    tcp_backlog_delayed(npcb); /* counts against the backlog until accept() */
    list_add_tail(&l->acceptq, &e->accept_link);
    l->accept_count++;
    sock_notify(ls, POLLIN | POLLRDNORM);
    return ERR_OK;
}

static int tcp_listen_op(struct socket *s, int backlog)
{
    struct inet_sock *is = inet_sk(s);
    /* Linux lets backlog + 1 connections wait; lwIP counts up to its value */
    u8_t bl = (u8_t)MIN(backlog + 1, 255);
    int err = 0;
    net_lock();
    if (is->state == INET_LISTEN) {
        tcp_backlog_set(is->tcp, bl);
    } else if (is->state != INET_CLOSED || !is->tcp) {
        err = -EINVAL;
    } else {
        inet_tcp_apply_opts(is);
        if (!is->tcp->local_port)
            err = inet_err(tcp_bind(is->tcp, IP4_ADDR_ANY, 0));
        err_t e = ERR_OK;
        struct tcp_pcb *lpcb = err ? NULL : tcp_listen_with_backlog_and_err(is->tcp, bl, &e);
        if (!err && !lpcb)
            err = e == ERR_USE ? -EADDRINUSE : inet_err(e);
        if (lpcb) {
            is->tcp = lpcb; /* lwIP freed the old pcb */
            is->state = INET_LISTEN;
            is->local_ip = lpcb->local_ip;
            is->local_port = lpcb->local_port;
            tcp_arg(lpcb, is);
            tcp_accept(lpcb, tcp_accept_cb);
            s->listening = true;
        }
    }
    net_unlock();
    return err;
}

static bool accept_ready(void *arg)
{
    struct inet_sock *is = arg;
    return READ_ONCE(is->accept_count) || READ_ONCE(is->state) != INET_LISTEN;
}

static int tcp_accept_op(struct socket *s, struct socket **out, bool nonblock)
{
    struct inet_sock *is = inet_sk(s);
    uint64_t deadline = sock_deadline(s, false);
    for (;;) {
        net_lock();
        if (is->state != INET_LISTEN) {
            net_unlock();
            return -EINVAL;
        }
        struct list_node *n = list_pop_head(&is->acceptq);
        if (n) {
            is->accept_count--;
            struct inet_sock *e = list_entry(n, struct inet_sock, accept_link);
            if (e->tcp)
                tcp_backlog_accepted(e->tcp);
            net_unlock();
            *out = &e->sock;
            return 0;
        }
        net_unlock();
        if (nonblock)
            return -EAGAIN;
        int err = sock_wait(s, accept_ready, is, deadline);
        if (err)
            return err;
    }
}

/* ---- connect ---- */

static bool connect_done(void *arg)
{
    return READ_ONCE(((struct inet_sock *)arg)->state) != INET_CONNECTING;
}

/* Start connecting (lock held): 0 once the SYN is on its way. */
static int tcp_start_connect(struct inet_sock *is, ip_addr_t *ip, uint16_t port)
{
    int err = tcp_renew(is);
    if (err)
        return err;
    if (ip_addr_isany(ip))
        ip_addr_set_ip4_u32(ip, lwip_htonl(0x7f000001)); /* as Linux: "any" means this host */
    inet_tcp_apply_opts(is);
    err = inet_err(tcp_connect(is->tcp, ip, port, tcp_connected_cb));
    if (err)
        return err == -EADDRINUSE ? -EADDRNOTAVAIL : err;
    is->state = INET_CONNECTING;
    is->remote_ip = *ip;
    is->remote_port = port;
    is->local_ip = is->tcp->local_ip;
    is->local_port = is->tcp->local_port;
    return 0;
}

/* A disconnect (connect to AF_UNSPEC): the connection is dropped. */
static int tcp_disconnect(struct inet_sock *is)
{
    if (is->state == INET_LISTEN)
        return 0;
    struct tcp_pcb *pcb = tcp_detach(is);
    if (pcb)
        tcp_abort(pcb);
    is->state = INET_CLOSED;
    return tcp_renew(is);
}

static int tcp_connect_op(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                          bool nonblock)
{
    struct inet_sock *is = inet_sk(s);
    if (len >= sizeof(sa_family_t) && addr->ss_family == AF_UNSPEC) {
        net_lock();
        int err = tcp_disconnect(is);
        net_unlock();
        return err;
    }
    ip_addr_t ip;
    uint16_t port;
    int err = inet_addr_from(addr, len, &ip, &port, NULL);
    if (err)
        return err;
    bool wait = false;
    net_lock();
    switch (is->state) {
    case INET_CONNECTED:
        err = is->connect_pending ? 0 : -EISCONN; /* the first call after completion says 0 */
        is->connect_pending = false;
        break;
    case INET_LISTEN:
        err = -EISCONN;
        break;
    case INET_CONNECTING:
        err = nonblock ? -EALREADY : 0; /* a restarted blocking connect waits on */
        wait = !nonblock;
        break;
    case INET_CLOSED:
        if (is->connect_pending) {
            is->connect_pending = false; /* a failed non-blocking connect reports its error */
            if ((err = sock_take_error(s)) != 0)
                break;
        }
        err = tcp_start_connect(is, &ip, port);
        if (!err && nonblock) {
            is->connect_pending = true;
            err = -EINPROGRESS;
        }
        wait = !err;
        break;
    }
    net_unlock();
    if (!wait)
        return err;
    err = sock_wait(s, connect_done, is, sock_deadline(s, true));
    if (err)
        return err == -EAGAIN ? -EINPROGRESS : err;
    net_lock();
    is->connect_pending = false;
    err = is->state == INET_CONNECTED ? 0 : sock_take_error(s);
    if (!err && is->state != INET_CONNECTED)
        err = -ECONNABORTED;
    net_unlock();
    return err;
}

/* ---- shutdown, release ---- */

static void tcp_close_conn(struct inet_sock *is, bool abort);

/* Close the listening pcb; the connections never accepted are reset. */
static void tcp_stop_listening(struct inet_sock *is)
{
    struct list_node pending;
    list_init(&pending);
    struct list_node *n;
    while ((n = list_pop_head(&is->acceptq)))
        list_add_tail(&pending, n);
    is->accept_count = 0;
    struct tcp_pcb *lpcb = tcp_detach(is);
    if (lpcb)
        tcp_close(lpcb); /* always succeeds for a listener */
    is->state = INET_CLOSED;
    is->sock.listening = false;
    while ((n = list_pop_head(&pending))) {
        struct inet_sock *e = list_entry(n, struct inet_sock, accept_link);
        tcp_close_conn(e, true);
        inet_pbuf_list_free(e->rx_head);
        inet_sock_free(e);
    }
}

static int tcp_shutdown_op(struct socket *s, int how)
{
    struct inet_sock *is = inet_sk(s);
    int err = 0;
    net_lock();
    if (is->state == INET_LISTEN) {
        /* Linux: a listener shut for reading stops listening */
        if (how != SHUT_WR)
            tcp_stop_listening(is);
    } else if (is->state != INET_CONNECTED && is->state != INET_CONNECTING) {
        err = -ENOTCONN;
    } else {
        if (how != SHUT_RD)
            s->shutdown |= SOCK_SEND_SHUTDOWN;
        if (how != SHUT_WR)
            s->shutdown |= SOCK_RCV_SHUTDOWN;
        if (how != SHUT_RD && is->tcp)
            err = inet_err(tcp_shutdown(is->tcp, 0, 1)); /* FIN after what is queued */
    }
    net_unlock();
    sock_notify(s, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    return err;
}

static void tcp_close_conn(struct inet_sock *is, bool abort)
{
    struct tcp_pcb *pcb = tcp_detach(is);
    if (!pcb)
        return;
    /* tcp_close itself resets a connection with data we never read */
    if (abort || tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

static void tcp_release_op(struct socket *s)
{
    struct inet_sock *is = inet_sk(s);
    net_lock();
    if (is->state == INET_LISTEN)
        tcp_stop_listening(is);
    else
        tcp_close_conn(is, s->linger.l_onoff && s->linger.l_linger == 0);
    struct pbuf *rx = is->rx_head;
    is->rx_head = is->rx_tail = NULL;
    net_unlock();
    inet_pbuf_list_free(rx);
    inet_sock_free(is);
}

/* ---- readiness and names ---- */

static unsigned tcp_poll_op(struct socket *s, struct poll_table *pt)
{
    struct inet_sock *is = inet_sk(s);
    poll_wait(pt, &s->poll);
    unsigned mask = sock_peek_error(s) ? POLLERR : 0;
    enum inet_state st = READ_ONCE(is->state);
    if (st == INET_LISTEN)
        return mask | (READ_ONCE(is->accept_count) ? POLLIN | POLLRDNORM : 0);
    unsigned shut = READ_ONCE(s->shutdown);
    if (shut == SOCK_SHUTDOWN_MASK || st == INET_CLOSED)
        mask |= POLLHUP;
    if (shut & SOCK_RCV_SHUTDOWN)
        mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (st == INET_CONNECTING)
        return mask;
    if (READ_ONCE(is->rx_len))
        mask |= POLLIN | POLLRDNORM;
    if ((shut & SOCK_SEND_SHUTDOWN) || st == INET_CLOSED || inet_tcp_writable(is))
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static int tcp_getname_op(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer)
{
    struct inet_sock *is = inet_sk(s);
    int err = 0;
    net_lock();
    if (peer) {
        if (is->state != INET_CONNECTED || !is->tcp)
            err = -ENOTCONN;
        else
            *len = inet_addr_to(&is->remote_ip, is->remote_port, addr);
    } else {
        if (is->tcp) {
            is->local_ip = is->tcp->local_ip;
            is->local_port = is->tcp->local_port;
        }
        *len = inet_addr_to(&is->local_ip, is->local_port, addr);
    }
    net_unlock();
    return err;
}

const struct sock_ops inet_tcp_ops = {
    .bind = tcp_bind_op,
    .connect = tcp_connect_op,
    .listen = tcp_listen_op,
    .accept = tcp_accept_op,
    .getname = tcp_getname_op,
    .sendmsg = inet_tcp_sendmsg,
    .recvmsg = inet_tcp_recvmsg,
    .shutdown = tcp_shutdown_op,
    .poll = tcp_poll_op,
    .ioctl = inet_ioctl,
    .setsockopt = inet_setsockopt,
    .getsockopt = inet_getsockopt,
    .release = tcp_release_op,
};
