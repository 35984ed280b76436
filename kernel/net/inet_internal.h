/* AF_INET sockets inside kernel/net: the socket over an lwIP pcb and what
 * inet.c, inet_tcp*.c and inet_udp.c share.
 *
 * Locking: every field lwIP's callbacks touch (state, pcb, queues,
 * shutdown bits, cached addresses) is under the network lock (net.h).
 * rx_lock orders readers and tx_lock writers of one socket, so data is
 * copied to and from the application outside the network lock: a reader
 * owns the head of the receive queue, the callbacks only append. */
#pragma once

#include "core/mutex.h"
#include "lib/list.h"
#include "net/net.h"
#include "net/socket.h"

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

struct tcp_pcb;
struct udp_pcb;

enum inet_state {
    INET_CLOSED,       /* new, or its connection is over */
    INET_LISTEN,
    INET_CONNECTING,
    INET_CONNECTED,
};

/* A received datagram. */
struct inet_dgram {
    struct list_node link;
    struct pbuf *p;
    ip_addr_t addr;
    uint16_t port;
    ip_addr_t dst;     /* for IP_PKTINFO */
    int ifindex;
};

struct inet_sock {
    struct socket sock;
    enum inet_state state;
    struct tcp_pcb *tcp;       /* NULL once lwIP has freed it */
    struct udp_pcb *udp;
    bool ever_connected;       /* send says EPIPE, not ENOTCONN */
    bool connect_pending;      /* a non-blocking connect the application has not seen finish */
    /* addresses kept for getsockname/getpeername after the pcb is gone */
    ip_addr_t local_ip, remote_ip;
    uint16_t local_port, remote_port;
    /* TCP receive queue: single pbufs linked by ->next (tot_len unused) */
    struct pbuf *rx_head, *rx_tail;
    size_t rx_off, rx_len;
    uint32_t snd_space;        /* tcp_sndbuf() as last seen, for poll */
    /* listeners: connections not yet accepted */
    struct list_node acceptq;
    struct list_node accept_link;
    unsigned accept_count;
    /* UDP receive queue */
    struct list_node dgrams;
    size_t dgram_bytes;
    struct mutex rx_lock, tx_lock;
    /* options, applied to each new pcb */
    bool nodelay, pktinfo, recvtos, recvttl, mc_loop;
    int keepidle, keepintvl, keepcnt;  /* seconds, count */
    int tos, ttl, mc_ttl;
    int user_timeout_ms, maxseg, defer_accept;
    char congestion[16];
};

static inline struct inet_sock *inet_sk(struct socket *s)
{
    return container_of(s, struct inet_sock, sock);
}

/* inet.c */
struct inet_sock *inet_sock_alloc(int type, int protocol, const struct sock_ops *ops);
void inet_sock_free(struct inet_sock *is);
/* A sockaddr_in into (ip, port): -EINVAL (short), -EAFNOSUPPORT. AF_UNSPEC
 * with INADDR_ANY passes when unspec_ok (bind), giving *unspec. */
int inet_addr_from(const struct sockaddr_storage *a, unsigned len, ip_addr_t *ip, uint16_t *port,
                   bool *unspec);
unsigned inet_addr_to(const ip_addr_t *ip, uint16_t port, struct sockaddr_storage *out);
/* lwIP's err_t as -errno. */
int inet_err(int8_t err);
/* Is ip one of ours (or any/loopback), so bind may use it? */
bool inet_addr_is_local(const ip_addr_t *ip);
int inet_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len);
int inet_getsockopt(struct socket *s, int level, int name, void *val, unsigned *len);
int inet_ioctl(struct socket *s, unsigned long cmd, unsigned long arg);
/* Free a chain of pbufs linked by ->next one at a time (no lock needed). */
void inet_pbuf_list_free(struct pbuf *p);
/* Copy len bytes from the pbuf list at (p, off) into the uio: bytes moved. */
size_t inet_pbuf_copy_out(struct pbuf *p, size_t off, size_t len, struct uio *u);

/* inet_tcp.c */
int inet_tcp_create(struct inet_sock *is);
void inet_tcp_apply_opts(struct inet_sock *is);
extern const struct sock_ops inet_tcp_ops;

/* inet_tcp_io.c */
ssize_t inet_tcp_sendmsg(struct socket *s, struct sock_msg *m, int flags);
ssize_t inet_tcp_recvmsg(struct socket *s, struct sock_msg *m, int flags);
/* Writable as poll reports it (network lock held or a stale view). */
bool inet_tcp_writable(struct inet_sock *is);
void inet_tcp_update_space(struct inet_sock *is);

/* inet_udp.c */
int inet_udp_create(struct inet_sock *is);
void inet_udp_apply_opts(struct inet_sock *is);
extern const struct sock_ops inet_udp_ops;
