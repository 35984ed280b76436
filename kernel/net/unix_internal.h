/* AF_UNIX inside kernel/net: the socket, its queued messages, names and
 * the operations the unix_*.c files share.
 *
 * Locking: unix_names_lock covers the name table; each socket's lock covers
 * its state, peer pointer, shutdown bits and queues. At most one socket
 * lock is held at a time, and no file reference is dropped under one (a
 * descriptor in flight may be the last reference to another socket). */
#pragma once

#include "core/mutex.h"
#include "lib/list.h"
#include "net/socket.h"

enum unix_state {
    UNIX_UNCONNECTED,
    UNIX_CONNECTING,     /* a connect is linking it (other callers get EALREADY) */
    UNIX_LISTENING,
    UNIX_CONNECTED,
};

/* A bound name: what getsockname shows, shared by accepted sockets. */
struct unix_addr {
    uint32_t refs;
    unsigned len;               /* bytes of sun meaningful (family included) */
    bool abstract;
    struct sockaddr_un sun;
    char nul;                   /* sun_path of 108 bytes stays terminated */
};

/* Descriptors travelling with a message (SCM_RIGHTS): each holds a reference. */
struct unix_fds {
    unsigned count;
    struct file *files[];
};

/* One queued message (datagram, seqpacket record, or a stream chunk). */
struct unix_skb {
    struct list_node link;
    struct unix_sock *sender;   /* reference; its wmem counts this message */
    struct unix_addr *from;     /* datagrams: the sender's name (reference) or NULL */
    struct ucred cred;
    struct unix_fds *fds;
    size_t len, off;            /* data[off, len) is unread */
    size_t truesize;
    uint8_t data[];
};

struct unix_sock {
    struct socket sock;
    uint32_t refs;              /* atomic: the file, peers' pointers, queued messages */
    struct mutex lock;
    enum unix_state state;
    bool dead;                  /* released: no file any more */
    struct unix_sock *peer;     /* reference */
    struct unix_addr *addr;     /* reference, set once by bind */
    struct vnode *vnode;        /* filesystem name's node (reference) */
    struct list_node name_link; /* unix_names bucket, while bound */
    struct list_node rxq;
    size_t rx_bytes;
    unsigned rx_count;
    struct list_node acceptq;   /* listeners: connected sockets not yet accepted */
    struct list_node accept_link;
    unsigned accept_count, backlog;
    size_t wmem;                /* atomic: bytes of ours waiting in receivers' queues */
    struct ucred peercred;
    bool have_peercred;
};

#define UNIX_MAX_DGRAM_QLEN 10  /* net.unix.max_dgram_qlen */
#define UNIX_SKB_OVERHEAD 256   /* what a message costs beyond its bytes */

static inline struct unix_sock *unix_sk(struct socket *s)
{
    return container_of(s, struct unix_sock, sock);
}

/* unix.c */
struct unix_sock *unix_sock_alloc(int type);
struct unix_sock *unix_get(struct unix_sock *u);
void unix_put(struct unix_sock *u);
struct unix_addr *unix_addr_get(struct unix_addr *a);
void unix_addr_put(struct unix_addr *a);
/* The socket's peer with a reference, or NULL. */
struct unix_sock *unix_peer_get(struct unix_sock *u);
extern const struct sock_ops unix_stream_ops, unix_dgram_ops, unix_seqpacket_ops;

/* unix_name.c */
/* A parsed sockaddr_un: *autobind when only the family was given. */
int unix_addr_parse(const struct sockaddr_storage *a, unsigned len, struct unix_addr *out,
                    bool *autobind);
int unix_bind(struct socket *s, const struct sockaddr_storage *addr, unsigned len);
int unix_autobind(struct unix_sock *u);
/* The bound socket with this name and type (reference): -ECONNREFUSED,
 * -ENOENT..., -EPROTOTYPE. */
int unix_find(const struct sockaddr_storage *addr, unsigned len, int type, struct unix_sock **out);
void unix_unbind(struct unix_sock *u);
int unix_getname(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer);

/* unix_conn.c */
int unix_stream_connect(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                        bool nonblock);
int unix_dgram_connect(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                       bool nonblock);
int unix_listen(struct socket *s, int backlog);
int unix_accept(struct socket *s, struct socket **out, bool nonblock);
void unix_release(struct socket *s);
int unix_shutdown(struct socket *s, int how);

/* unix_stream.c */
ssize_t unix_stream_sendmsg(struct socket *s, struct sock_msg *m, int flags);
ssize_t unix_stream_recvmsg(struct socket *s, struct sock_msg *m, int flags);
ssize_t unix_seqpacket_sendmsg(struct socket *s, struct sock_msg *m, int flags);
ssize_t unix_seqpacket_recvmsg(struct socket *s, struct sock_msg *m, int flags);

/* unix_dgram.c */
ssize_t unix_dgram_sendmsg(struct socket *s, struct sock_msg *m, int flags);
ssize_t unix_dgram_recvmsg(struct socket *s, struct sock_msg *m, int flags);
/* A whole record (datagram or seqpacket) into m: the receive half both use. */
ssize_t unix_recv_record(struct unix_sock *u, struct sock_msg *m, int flags);

/* unix_skb.c */
/* What a send carries besides data (parsed from its control messages). */
struct unix_scm {
    struct ucred cred;
    struct unix_fds *fds;
};
int unix_scm_parse(const struct sock_msg *m, struct unix_scm *scm);
void unix_scm_drop(struct unix_scm *scm);
/* A message of len bytes from sender, counted in the sender's wmem until
 * freed. NULL when out of memory. */
struct unix_skb *unix_skb_alloc(struct unix_sock *sender, size_t len);
/* Queue skb on u (lock held). */
void unix_skb_queue(struct unix_sock *u, struct unix_skb *skb);
/* Free a message (no socket lock held: it drops file references). */
void unix_skb_free(struct unix_skb *skb);
void unix_skb_free_list(struct list_node *list);
/* Control messages for a received skb: credentials when passcred, its
 * descriptors (moved out of skb unless peek). No lock held. */
int unix_scm_recv(struct sock_msg *m, struct ucred *cred, struct unix_fds *fds, bool passcred);
/* Take a copy of the descriptors for MSG_PEEK (references). */
struct unix_fds *unix_fds_dup(const struct unix_fds *fds);
