/* UDP sockets over lwIP: a queue of received datagrams bounded by
 * SO_RCVBUF, sendto/connect semantics as Linux's, truncation, IP_PKTINFO,
 * IP_TOS and IP_TTL control messages. */
#include "inet_internal.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#include "lwip/ip.h"
#include "lwip/udp.h"

#define UDP_MAX_PAYLOAD 65507 /* 65535 - IP and UDP headers */
#define DGRAM_OVERHEAD 256    /* what a queued datagram costs beyond its bytes */

struct in_pktinfo_abi {
    int32_t ifindex;
    uint32_t spec_dst, addr;
};

struct udp_dgram {
    struct inet_dgram d;
    uint8_t tos, ttl;
};

static void udp_recv_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                        u16_t port)
{
    (void)pcb;
    struct inet_sock *is = arg;
    size_t cost = p->tot_len + DGRAM_OVERHEAD;
    if (!is || (is->sock.shutdown & SOCK_RCV_SHUTDOWN) ||
        is->dgram_bytes + cost > (size_t)READ_ONCE(is->sock.rcvbuf)) {
        pbuf_free(p); /* a full queue drops, as Linux */
        return;
    }
    struct udp_dgram *u = kmalloc(sizeof(*u));
    if (!u) {
        pbuf_free(p);
        return;
    }
    u->d.p = p;
    u->d.addr = *addr;
    u->d.port = port;
    u->d.dst = *ip_current_dest_addr();
    struct netif *in = ip_current_input_netif();
    u->d.ifindex = in ? netif_get_index(in) : 0;
    const struct ip_hdr *h = ip4_current_header();
    u->tos = h ? IPH_TOS(h) : 0;
    u->ttl = h ? IPH_TTL(h) : 0;
    list_add_tail(&is->dgrams, &u->d.link);
    is->dgram_bytes += cost;
    sock_notify(&is->sock, POLLIN | POLLRDNORM);
}

void inet_udp_apply_opts(struct inet_sock *is)
{
    struct udp_pcb *pcb = is->udp;
    struct socket *s = &is->sock;
    if (s->reuseaddr)
        ip_set_option(pcb, SOF_REUSEADDR);
    else
        ip_reset_option(pcb, SOF_REUSEADDR);
    if (s->broadcast)
        ip_set_option(pcb, SOF_BROADCAST);
    else
        ip_reset_option(pcb, SOF_BROADCAST);
    pcb->tos = (u8_t)is->tos;
    pcb->ttl = (u8_t)(is->ttl < 0 ? IP_DEFAULT_TTL : is->ttl);
    udp_set_multicast_ttl(pcb, (u8_t)is->mc_ttl);
    if (is->mc_loop)
        udp_setflags(pcb, udp_flags(pcb) | UDP_FLAGS_MULTICAST_LOOP);
    else
        udp_setflags(pcb, udp_flags(pcb) & ~UDP_FLAGS_MULTICAST_LOOP);
}

int inet_udp_create(struct inet_sock *is)
{
    if (!net_configured())
        net_init(); /* no boot hook ran it: configure on first use */
    net_lock();
    struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb) {
        is->udp = pcb;
        udp_recv(pcb, udp_recv_cb, is);
        inet_udp_apply_opts(is);
    }
    net_unlock();
    return pcb ? 0 : -ENOMEM;
}

static int udp_bind_op(struct socket *s, const struct sockaddr_storage *addr, unsigned len)
{
    struct inet_sock *is = inet_sk(s);
    ip_addr_t ip;
    uint16_t port;
    bool unspec;
    int err = inet_addr_from(addr, len, &ip, &port, &unspec);
    if (err)
        return err;
    net_lock();
    if (is->udp->local_port)
        err = -EINVAL;
    else if (!inet_addr_is_local(&ip))
        err = -EADDRNOTAVAIL;
    else {
        inet_udp_apply_opts(is);
        err = inet_err(udp_bind(is->udp, &ip, port));
    }
    net_unlock();
    return err;
}

static int udp_connect_op(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                          bool nonblock)
{
    (void)nonblock;
    struct inet_sock *is = inet_sk(s);
    if (len >= sizeof(sa_family_t) && addr->ss_family == AF_UNSPEC) {
        net_lock();
        udp_disconnect(is->udp);
        is->remote_port = 0;
        net_unlock();
        return 0;
    }
    ip_addr_t ip;
    uint16_t port;
    int err = inet_addr_from(addr, len, &ip, &port, NULL);
    if (err)
        return err;
    if (ip_addr_isany(&ip))
        ip_addr_set_ip4_u32(&ip, lwip_htonl(0x7f000001));
    net_lock();
    err = inet_err(udp_connect(is->udp, &ip, port));
    if (!err) {
        is->remote_ip = ip;
        is->remote_port = port;
    }
    net_unlock();
    return err;
}

/* ---- send ---- */

static int udp_dest(struct inet_sock *is, const struct sock_msg *m, ip_addr_t *ip, uint16_t *port,
                    bool *to_peer)
{
    *to_peer = false;
    if (m->name) {
        bool unspec;
        int err = inet_addr_from(m->name, m->name_len, ip, port, &unspec);
        if (err)
            return err;
        if (*port == 0)
            return -EINVAL;
        if (ip_addr_isany(ip))
            ip_addr_set_ip4_u32(ip, lwip_htonl(0x7f000001));
        return 0;
    }
    if (!(udp_flags(is->udp) & UDP_FLAGS_CONNECTED))
        return -EDESTADDRREQ;
    *to_peer = true;
    return 0;
}

static ssize_t udp_sendmsg_op(struct socket *s, struct sock_msg *m, int flags)
{
    struct inet_sock *is = inet_sk(s);
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    size_t len = m->uio->resid;
    if (len > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (READ_ONCE(s->shutdown) & SOCK_SEND_SHUTDOWN)
        return sock_epipe(flags);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return -ENOBUFS;
    if (len && uio_copy_in(m->uio, p->payload, len) < len) {
        pbuf_free(p);
        return -EFAULT;
    }
    ip_addr_t ip;
    uint16_t port;
    bool to_peer;
    net_lock();
    int err = udp_dest(is, m, &ip, &port, &to_peer);
    if (!err) {
        err_t e = to_peer ? udp_send(is->udp, p) : udp_sendto(is->udp, p, &ip, port);
        err = e == ERR_VAL && !s->broadcast ? -EACCES : e == ERR_MEM ? -ENOBUFS : inet_err(e);
    }
    net_unlock();
    pbuf_free(p);
    return err ? err : (ssize_t)len;
}

/* ---- receive ---- */

static bool dgram_ready(void *arg)
{
    struct inet_sock *is = arg;
    return !list_empty(&is->dgrams) || sock_peek_error(&is->sock) ||
           (READ_ONCE(is->sock.shutdown) & SOCK_RCV_SHUTDOWN);
}

/* The first datagram (left queued), or NULL with *err. */
static struct udp_dgram *dgram_wait(struct inet_sock *is, int flags, int *err)
{
    struct socket *s = &is->sock;
    uint64_t deadline = sock_deadline(s, false);
    for (;;) {
        net_lock();
        struct list_node *n = list_empty(&is->dgrams) ? NULL : is->dgrams.next;
        *err = n ? 0 : sock_take_error(s);
        bool eof = !n && !*err && (s->shutdown & SOCK_RCV_SHUTDOWN);
        net_unlock();
        if (n)
            return container_of(list_entry(n, struct inet_dgram, link), struct udp_dgram, d);
        if (*err || eof)
            return NULL;
        if (sock_nonblock(s, flags)) {
            *err = -EAGAIN;
            return NULL;
        }
        if ((*err = sock_wait(s, dgram_ready, is, deadline)) != 0)
            return NULL;
    }
}

static int dgram_cmsgs(struct inet_sock *is, struct sock_msg *m, const struct udp_dgram *u)
{
    int err = 0;
    if (is->pktinfo) {
        struct in_pktinfo_abi pi = { u->d.ifindex, ip_addr_get_ip4_u32(&u->d.dst),
                                     ip_addr_get_ip4_u32(&u->d.dst) };
        err = sock_put_cmsg(m, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
    }
    if (!err && is->recvtos)
        err = sock_put_cmsg(m, SOL_IP, IP_TOS, &u->tos, 1);
    if (!err && is->recvttl) {
        int ttl = u->ttl;
        err = sock_put_cmsg(m, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
    }
    return err;
}

static ssize_t udp_recvmsg_op(struct socket *s, struct sock_msg *m, int flags)
{
    struct inet_sock *is = inet_sk(s);
    if (flags & MSG_OOB)
        return -EINVAL;
    int err;
    mutex_lock(&is->rx_lock); /* readers own the head of the queue */
    struct udp_dgram *u = dgram_wait(is, flags, &err);
    if (!u) {
        mutex_unlock(&is->rx_lock);
        return err;
    }
    bool peek = flags & MSG_PEEK;
    if (!peek) {
        net_lock();
        list_remove(&u->d.link);
        is->dgram_bytes -= u->d.p->tot_len + DGRAM_OVERHEAD;
        net_unlock();
    }
    size_t len = u->d.p->tot_len;
    size_t got = inet_pbuf_copy_out(u->d.p, 0, MIN(len, m->uio->resid), m->uio);
    if (got < len && !m->uio->fault)
        m->flags_out |= MSG_TRUNC;
    if (m->name)
        m->name_len = inet_addr_to(&u->d.addr, u->d.port, m->name);
    err = dgram_cmsgs(is, m, u);
    mutex_unlock(&is->rx_lock);
    bool fault = m->uio->fault;
    if (!peek) {
        pbuf_free(u->d.p);
        kfree(u);
    }
    if (fault)
        return -EFAULT;
    if (err)
        return err;
    return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)got;
}

/* ---- the rest ---- */

static unsigned udp_poll_op(struct socket *s, struct poll_table *pt)
{
    struct inet_sock *is = inet_sk(s);
    poll_wait(pt, &s->poll);
    unsigned mask = POLLOUT | POLLWRNORM | POLLWRBAND;
    if (sock_peek_error(s))
        mask |= POLLERR;
    if (!list_empty(&is->dgrams))
        mask |= POLLIN | POLLRDNORM;
    unsigned shut = READ_ONCE(s->shutdown);
    if (shut & SOCK_RCV_SHUTDOWN)
        mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (shut == SOCK_SHUTDOWN_MASK)
        mask |= POLLHUP;
    return mask;
}

static int udp_getname_op(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer)
{
    struct inet_sock *is = inet_sk(s);
    int err = 0;
    net_lock();
    struct udp_pcb *pcb = is->udp;
    if (!peer)
        *len = inet_addr_to(&pcb->local_ip, pcb->local_port, addr);
    else if (!(udp_flags(pcb) & UDP_FLAGS_CONNECTED))
        err = -ENOTCONN;
    else
        *len = inet_addr_to(&pcb->remote_ip, pcb->remote_port, addr);
    net_unlock();
    return err;
}

static int udp_shutdown_op(struct socket *s, int how)
{
    struct inet_sock *is = inet_sk(s);
    int err = 0;
    net_lock();
    if (!(udp_flags(is->udp) & UDP_FLAGS_CONNECTED))
        err = -ENOTCONN;
    else
        s->shutdown |= (unsigned)how + 1;
    net_unlock();
    sock_notify(s, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    return err;
}

static void udp_release_op(struct socket *s)
{
    struct inet_sock *is = inet_sk(s);
    struct list_node q;
    list_init(&q);
    net_lock();
    udp_remove(is->udp);
    is->udp = NULL;
    struct list_node *n;
    while ((n = list_pop_head(&is->dgrams)))
        list_add_tail(&q, n);
    net_unlock();
    while ((n = list_pop_head(&q))) {
        struct inet_dgram *d = list_entry(n, struct inet_dgram, link);
        pbuf_free(d->p);
        kfree(container_of(d, struct udp_dgram, d));
    }
    inet_sock_free(is);
}

static int udp_no_listen(struct socket *s, int backlog)
{
    (void)s, (void)backlog;
    return -EOPNOTSUPP;
}

static int udp_no_accept(struct socket *s, struct socket **out, bool nonblock)
{
    (void)s, (void)out, (void)nonblock;
    return -EOPNOTSUPP;
}

const struct sock_ops inet_udp_ops = {
    .bind = udp_bind_op,
    .connect = udp_connect_op,
    .listen = udp_no_listen,
    .accept = udp_no_accept,
    .getname = udp_getname_op,
    .sendmsg = udp_sendmsg_op,
    .recvmsg = udp_recvmsg_op,
    .shutdown = udp_shutdown_op,
    .poll = udp_poll_op,
    .ioctl = inet_ioctl,
    .setsockopt = inet_setsockopt,
    .getsockopt = inet_getsockopt,
    .release = udp_release_op,
};
