/* AF_INET sockets over lwIP: socket() for TCP and UDP, what both share
 * (addresses, lwIP errors, pbuf copies, SOL_IP/SOL_TCP options, ioctls),
 * and AF_INET6, which fails cleanly until IPv6 is enabled. */
#include "inet_internal.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

struct inet_sock *inet_sock_alloc(int type, int protocol, const struct sock_ops *ops)
{
    struct inet_sock *is = kzalloc(sizeof(*is));
    if (!is)
        return NULL;
    sock_init(&is->sock, AF_INET, type, protocol, ops);
    list_init(&is->acceptq);
    list_init(&is->accept_link);
    list_init(&is->dgrams);
    mutex_init(&is->rx_lock);
    mutex_init(&is->tx_lock);
    is->ttl = -1;
    is->mc_ttl = 1;
    is->mc_loop = true;
    is->keepidle = 7200; /* Linux's tcp_keepalive_time, intvl and probes */
    is->keepintvl = 75;
    is->keepcnt = 9;
    strlcpy(is->congestion, "reno", sizeof(is->congestion));
    if (type == SOCK_STREAM) {
        is->sock.sndbuf = 16384; /* Linux's tcp_wmem and tcp_rmem defaults */
        is->sock.rcvbuf = 131072;
    }
    return is;
}

void inet_sock_free(struct inet_sock *is)
{
    kfree(is);
}

static int inet_create(int type, int protocol, struct socket **out)
{
    struct inet_sock *is;
    int err;
    if (type == SOCK_STREAM) {
        if (protocol && protocol != IPPROTO_TCP)
            return -EPROTONOSUPPORT;
        if (!(is = inet_sock_alloc(type, IPPROTO_TCP, &inet_tcp_ops)))
            return -ENOMEM;
        err = inet_tcp_create(is);
    } else if (type == SOCK_DGRAM) {
        if (protocol && protocol != IPPROTO_UDP)
            return -EPROTONOSUPPORT;
        if (!(is = inet_sock_alloc(type, IPPROTO_UDP, &inet_udp_ops)))
            return -ENOMEM;
        err = inet_udp_create(is);
    } else if (type == SOCK_RAW) {
        return -EPROTONOSUPPORT; /* no raw IP sockets (ping needs ICMP sockets) */
    } else {
        return -ESOCKTNOSUPPORT;
    }
    if (err) {
        inet_sock_free(is);
        return err;
    }
    *out = &is->sock;
    return 0;
}

static int inet6_create(int type, int protocol, struct socket **out)
{
    (void)type, (void)protocol, (void)out;
    return -EAFNOSUPPORT; /* lwIP is built without IPv6 */
}

const struct sock_family inet_family = { .family = AF_INET, .create = inet_create };
const struct sock_family inet6_family = { .family = AF_INET6, .create = inet6_create };

/* ---- addresses and errors ---- */

int inet_addr_from(const struct sockaddr_storage *a, unsigned len, ip_addr_t *ip, uint16_t *port,
                   bool *unspec)
{
    const struct sockaddr_in *in = (const void *)a;
    if (unspec)
        *unspec = false;
    if (len < sizeof(*in))
        return -EINVAL;
    if (a->ss_family == AF_UNSPEC && unspec && in->sin_addr.s_addr == 0)
        *unspec = true; /* Linux's bind takes AF_UNSPEC with INADDR_ANY as AF_INET */
    else if (a->ss_family != AF_INET)
        return -EAFNOSUPPORT;
    ip_addr_set_ip4_u32(ip, in->sin_addr.s_addr);
    *port = lwip_ntohs(in->sin_port);
    return 0;
}

unsigned inet_addr_to(const ip_addr_t *ip, uint16_t port, struct sockaddr_storage *out)
{
    struct sockaddr_in *in = (void *)out;
    memset(in, 0, sizeof(*in));
    in->sin_family = AF_INET;
    in->sin_port = lwip_htons(port);
    in->sin_addr.s_addr = ip ? ip_addr_get_ip4_u32(ip) : 0;
    return sizeof(*in);
}

int inet_err(int8_t err)
{
    switch (err) {
    case ERR_OK: return 0;
    case ERR_MEM: return -ENOMEM;
    case ERR_BUF: return -ENOBUFS;
    case ERR_TIMEOUT: return -ETIMEDOUT;
    case ERR_RTE: return -ENETUNREACH;
    case ERR_INPROGRESS: return -EINPROGRESS;
    case ERR_VAL: return -EINVAL;
    case ERR_WOULDBLOCK: return -EAGAIN;
    case ERR_USE: return -EADDRINUSE;
    case ERR_ALREADY: return -EALREADY;
    case ERR_ISCONN: return -EISCONN;
    case ERR_CONN: return -ENOTCONN;
    case ERR_IF: return -ENETDOWN;
    case ERR_ABRT: return -ECONNABORTED;
    case ERR_RST: return -ECONNRESET;
    case ERR_CLSD: return -ENOTCONN;
    case ERR_ARG: return -EINVAL;
    default: return -EIO;
    }
}

bool inet_addr_is_local(const ip_addr_t *ip)
{
    uint32_t a = lwip_ntohl(ip_addr_get_ip4_u32(ip));
    if (a == 0 || (a >> 24) == 127 || a == 0xffffffff)
        return true;
    if ((a >> 28) == 14)
        return true; /* multicast groups may be bound */
    struct netif *n;
    NETIF_FOREACH(n) {
        if (ip4_addr_cmp(netif_ip4_addr(n), ip_2_ip4(ip)))
            return true;
    }
    return false;
}

/* ---- pbuf lists ---- */

void inet_pbuf_list_free(struct pbuf *p)
{
    while (p) {
        struct pbuf *next = p->next;
        p->next = NULL;
        pbuf_free(p);
        p = next;
    }
}

size_t inet_pbuf_copy_out(struct pbuf *p, size_t off, size_t len, struct uio *u)
{
    size_t done = 0;
    for (; p && done < len; p = p->next) {
        if (off >= p->len) {
            off -= p->len;
            continue;
        }
        size_t n = MIN((size_t)p->len - off, len - done);
        size_t got = uio_copy_out(u, (const char *)p->payload + off, n);
        done += got;
        off = 0;
        if (got < n)
            break;
    }
    return done;
}

/* ---- options ---- */

static int opt_int(const void *val, unsigned len, int *out)
{
    if (len < sizeof(int)) {
        if (len == 0)
            return -EINVAL;
        uint8_t b; /* Linux takes a single byte for some IP options */
        memcpy(&b, val, 1);
        *out = b;
        return 0;
    }
    memcpy(out, val, sizeof(int));
    return 0;
}

static int put_int(void *val, unsigned *len, int v)
{
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

static void apply_opts(struct inet_sock *is)
{
    if (is->tcp)
        inet_tcp_apply_opts(is);
    if (is->udp)
        inet_udp_apply_opts(is);
}

static int set_tcp_opt(struct inet_sock *is, int name, const void *val, unsigned len)
{
    int v, err;
    if (name == TCP_CONGESTION) {
        char n[16] = { 0 };
        memcpy(n, val, MIN(len, (unsigned)sizeof(n) - 1));
        if (strcmp(n, "reno") && strcmp(n, "cubic"))
            return -ENOENT; /* as Linux for an unknown algorithm */
        strlcpy(is->congestion, n, sizeof(is->congestion));
        return 0;
    }
    if (len < sizeof(int))
        return -EINVAL;
    if ((err = opt_int(val, len, &v)) != 0)
        return err;
    switch (name) {
    case TCP_NODELAY: is->nodelay = v != 0; break;
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        *(name == TCP_KEEPIDLE ? &is->keepidle : &is->keepintvl) = v;
        break;
    case TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        is->keepcnt = v;
        break;
    case TCP_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        is->user_timeout_ms = v;
        break;
    case TCP_MAXSEG:
        if (v && (v < 88 || v > 32767))
            return -EINVAL;
        is->maxseg = v;
        break;
    case TCP_DEFER_ACCEPT: is->defer_accept = v; break;
    case TCP_CORK: case TCP_QUICKACK: case TCP_SYNCNT: case TCP_LINGER2: case TCP_WINDOW_CLAMP:
    case TCP_FASTOPEN: case TCP_FASTOPEN_CONNECT: case TCP_NOTSENT_LOWAT:
        break; /* accepted; lwIP has no such knob */
    default:
        return -ENOPROTOOPT;
    }
    return 0;
}

static int set_ip_opt(struct inet_sock *is, int name, const void *val, unsigned len)
{
    int v = 0, err = 0;
    if (name != IP_ADD_MEMBERSHIP && name != IP_DROP_MEMBERSHIP && name != IP_MULTICAST_IF &&
        (err = opt_int(val, len, &v)) != 0)
        return err;
    switch (name) {
    case IP_TOS: /* TCP keeps the ECN bits to itself, as Linux */
        is->tos = is->sock.type == SOCK_STREAM ? (v & 0xfc) | (is->tos & 3) : v & 0xff;
        break;
    case IP_TTL:
        if (v != -1 && (v < 1 || v > 255))
            return -EINVAL; /* -1: back to the default */
        is->ttl = v;
        break;
    case IP_PKTINFO: is->pktinfo = v != 0; break;
    case IP_RECVTOS: is->recvtos = v != 0; break;
    case IP_RECVTTL: is->recvttl = v != 0; break;
    case IP_MULTICAST_TTL: is->mc_ttl = v == -1 ? 1 : v & 0xff; break;
    case IP_MULTICAST_LOOP: is->mc_loop = v != 0; break;
    case IP_RECVERR: case IP_MTU_DISCOVER: case IP_FREEBIND: case IP_BIND_ADDRESS_NO_PORT:
    case IP_MULTICAST_IF: case IP_TRANSPARENT:
        break; /* accepted */
    case IP_ADD_MEMBERSHIP: case IP_DROP_MEMBERSHIP:
        if (is->sock.type != SOCK_DGRAM)
            return -EPROTO;
        if (len < 8)
            return -EINVAL;
        return 0; /* multicast delivery itself is not implemented yet */
    default:
        return -ENOPROTOOPT;
    }
    return 0;
}

int inet_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len)
{
    struct inet_sock *is = inet_sk(s);
    int err;
    switch (level) {
    case SOL_SOCKET:
        err = -ENOPROTOOPT; /* the layer stored it: just apply below */
        break;
    case SOL_TCP:
        if (s->type != SOCK_STREAM)
            return -ENOPROTOOPT;
        err = set_tcp_opt(is, name, val, len);
        break;
    case SOL_IP:
        err = set_ip_opt(is, name, val, len);
        break;
    default:
        return -ENOPROTOOPT;
    }
    if (err == 0 || level == SOL_SOCKET) {
        net_lock();
        apply_opts(is);
        net_unlock();
    }
    return err;
}

/* struct tcp_info's first fields, as far as anyone reads them. */
struct tcp_info_head {
    uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
    uint32_t rto, ato, snd_mss, rcv_mss, unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
};

static int get_tcp_info(struct inet_sock *is, void *val, unsigned *len)
{
    struct tcp_info_head ti;
    memset(&ti, 0, sizeof(ti));
    net_lock();
    static const uint8_t linux_state[] = { 7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6 }; /* by lwIP state */
    struct tcp_pcb *p = is->tcp;
    if (p && is->state != INET_LISTEN) {
        ti.state = p->state < sizeof(linux_state) ? linux_state[p->state] : 7;
        ti.snd_mss = ti.rcv_mss = ti.advmss = p->mss;
        ti.rto = (uint32_t)p->rto * TCP_SLOW_INTERVAL * 1000;
        ti.rtt = (uint32_t)(p->sa >> 3) * TCP_SLOW_INTERVAL * 1000;
        ti.snd_cwnd = p->cwnd / (p->mss ? p->mss : 1);
        ti.snd_ssthresh = p->ssthresh;
        ti.pmtu = 1500;
    } else {
        ti.state = is->state == INET_LISTEN ? 10 : 7; /* TCP_LISTEN or TCP_CLOSE */
    }
    net_unlock();
    memcpy(val, &ti, sizeof(ti));
    *len = sizeof(ti);
    return 0;
}

int inet_getsockopt(struct socket *s, int level, int name, void *val, unsigned *len)
{
    struct inet_sock *is = inet_sk(s);
    if (level == SOL_SOCKET)
        return -ENOPROTOOPT;
    if (level == SOL_TCP && s->type == SOCK_STREAM) {
        switch (name) {
        case TCP_NODELAY: return put_int(val, len, is->nodelay);
        case TCP_KEEPIDLE: return put_int(val, len, is->keepidle);
        case TCP_KEEPINTVL: return put_int(val, len, is->keepintvl);
        case TCP_KEEPCNT: return put_int(val, len, is->keepcnt);
        case TCP_USER_TIMEOUT: return put_int(val, len, is->user_timeout_ms);
        case TCP_DEFER_ACCEPT: return put_int(val, len, is->defer_accept);
        case TCP_MAXSEG: {
            net_lock();
            int mss = is->tcp && is->state == INET_CONNECTED ? is->tcp->mss : TCP_MSS;
            net_unlock();
            return put_int(val, len, mss);
        }
        case TCP_INFO: return get_tcp_info(is, val, len);
        case TCP_CONGESTION:
            memset(val, 0, 16);
            strlcpy(val, is->congestion, 16);
            *len = MIN(*len, 16u);
            return 0;
        case TCP_CORK: case TCP_QUICKACK: case TCP_SYNCNT: case TCP_LINGER2: case TCP_WINDOW_CLAMP:
        case TCP_FASTOPEN: case TCP_NOTSENT_LOWAT:
            return put_int(val, len, 0);
        }
        return -ENOPROTOOPT;
    }
    if (level != SOL_IP)
        return -EOPNOTSUPP; /* Linux's ip_getsockopt for a level it does not know */
    {
        switch (name) {
        case IP_TOS: return put_int(val, len, is->tos);
        case IP_TTL: return put_int(val, len, is->ttl < 0 ? IP_DEFAULT_TTL : is->ttl);
        case IP_PKTINFO: return put_int(val, len, is->pktinfo);
        case IP_RECVTOS: return put_int(val, len, is->recvtos);
        case IP_RECVTTL: return put_int(val, len, is->recvttl);
        case IP_MULTICAST_TTL: return put_int(val, len, is->mc_ttl);
        case IP_MULTICAST_LOOP: return put_int(val, len, is->mc_loop);
        case IP_MTU:
            if (is->state != INET_CONNECTED && !(is->udp && is->remote_port))
                return -ENOTCONN;
            return put_int(val, len, 1500);
        case IP_RECVERR: case IP_MTU_DISCOVER: case IP_FREEBIND: case IP_BIND_ADDRESS_NO_PORT:
        case IP_TRANSPARENT:
            return put_int(val, len, 0);
        }
    }
    return -ENOPROTOOPT;
}

int inet_ioctl(struct socket *s, unsigned long cmd, unsigned long arg)
{
    struct inet_sock *is = inet_sk(s);
    uint32_t v = 0;
    net_lock();
    int err = 0;
    switch (cmd) {
    case SIOCINQ:
        if (is->state == INET_LISTEN)
            err = -EINVAL;
        else if (s->type == SOCK_STREAM)
            v = (uint32_t)is->rx_len;
        else if (!list_empty(&is->dgrams))
            v = list_entry(is->dgrams.next, struct inet_dgram, link)->p->tot_len;
        break;
    case SIOCOUTQ:
    case SIOCOUTQNSD:
        if (is->state == INET_LISTEN)
            err = -EINVAL;
        else if (is->tcp && s->type == SOCK_STREAM)
            v = (uint32_t)(TCP_SND_BUF - tcp_sndbuf(is->tcp));
        break;
    case SIOCATMARK:
        break;
    default:
        err = -ENOTTY;
    }
    net_unlock();
    return err ? err : put_user_u32((void __user *)arg, v);
}
