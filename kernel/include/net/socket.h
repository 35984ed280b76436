/* The socket layer: a socket is a file whose operations a protocol family
 * (AF_UNIX in-kernel, AF_INET over lwIP, AF_NETLINK) implements. The layer
 * owns what every family shares: descriptors, the SOL_SOCKET options,
 * timeouts, message headers and control messages, readiness. */
#pragma once

#include "arch/uaccess.h"
#include "fs/poll.h"
#include "fs/vfs.h"
#include "net/uapi.h"

struct socket;
struct sock_msg;

/* Receive/send shut-down bits (struct socket.shutdown). */
#define SOCK_RCV_SHUTDOWN 1
#define SOCK_SEND_SHUTDOWN 2
#define SOCK_SHUTDOWN_MASK 3

/* What a family implements. Addresses and option values are kernel copies;
 * data moves through sock_msg's uio. Any op may be NULL (EOPNOTSUPP). */
struct sock_ops {
    int (*bind)(struct socket *s, const struct sockaddr_storage *addr, unsigned len);
    int (*connect)(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                   bool nonblock);
    int (*listen)(struct socket *s, int backlog);
    /* A connected socket from the queue (blocking unless nonblock). */
    int (*accept)(struct socket *s, struct socket **out, bool nonblock);
    /* Own (peer false) or peer address into addr; *len gets its length. */
    int (*getname)(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer);
    ssize_t (*sendmsg)(struct socket *s, struct sock_msg *m, int flags);
    ssize_t (*recvmsg)(struct socket *s, struct sock_msg *m, int flags);
    int (*shutdown)(struct socket *s, int how);
    unsigned (*poll)(struct socket *s, struct poll_table *pt);
    /* -ENOIOCTLCMD-like: return -ENOTTY for what the family does not know. */
    int (*ioctl)(struct socket *s, unsigned long cmd, unsigned long arg);
    /* Options at the family's levels; for SOL_SOCKET the layer has already
     * stored the value and calls this so the family can apply it (its
     * -ENOPROTOOPT is then ignored). */
    int (*setsockopt)(struct socket *s, int level, int name, const void *val, unsigned len);
    /* val has room for 256 bytes; *len is the caller's size on entry and
     * the value's on return. For SOL_SOCKET, -ENOPROTOOPT lets the layer
     * answer. */
    int (*getsockopt)(struct socket *s, int level, int name, void *val, unsigned *len);
    /* The last descriptor is gone: tear down and free (sock_free). */
    void (*release)(struct socket *s);
};

struct socket {
    int family, type, protocol;
    const struct sock_ops *ops;
    struct file *file;              /* the open file (no reference), NULL before one exists */
    struct poll_head poll;          /* readiness of this socket */
    int err;                        /* pending error (SO_ERROR), atomic */
    unsigned shutdown;              /* SOCK_*_SHUTDOWN, owned by the family's locking */
    /* SOL_SOCKET state */
    bool reuseaddr, reuseport, keepalive, broadcast, oobinline, passcred, dontroute;
    bool listening;                 /* SO_ACCEPTCONN */
    int rcvbuf, sndbuf;             /* bytes, as SO_RCVBUF/SO_SNDBUF report them */
    int rcvlowat, priority, mark;
    struct linger linger;
    uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: wait forever */
    int bound_ifindex;
};

/* A message in flight between the system calls and a family. */
struct sock_msg {
    struct uio *uio;
    /* send: the destination (NULL when none); recv: where the source goes,
     * name_len set by the family to the full length (0: no address). */
    struct sockaddr_storage *name;
    unsigned name_len;
    /* send: control messages, a kernel copy */
    const void *ctl;
    size_t ctl_len;
    /* recv: the application's control buffer */
    void __user *ctl_out;
    size_t ctl_out_len, ctl_out_used;
    int flags_out;                  /* MSG_TRUNC, MSG_CTRUNC, MSG_EOR */
    bool cloexec;                   /* MSG_CMSG_CLOEXEC: received descriptors */
};

/* Linux's defaults (net.core.[rw]mem_default) and limits. */
#define SOCK_DEFAULT_BUF 212992
#define SOCK_MAX_BUF 212992
#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304

/* Fill the shared part of a new socket (the family allocated it). */
void sock_init(struct socket *s, int family, int type, int protocol, const struct sock_ops *ops);
/* Wrap s in a new file (the file's release op calls s->ops->release).
 * flags: SOCK_NONBLOCK. On failure the caller still owns s. */
int sock_file_create(struct socket *s, int flags, struct file **out);
/* s in a new descriptor; SOCK_CLOEXEC/SOCK_NONBLOCK in flags. On failure s
 * has been released. */
int sock_install_fd(struct socket *s, int flags);
/* The socket behind a descriptor with a reference on its file (*fp), or
 * NULL with *err = -EBADF / -ENOTSOCK. */
struct socket *sock_from_fd(int fd, struct file **fp, int *err);
/* The socket behind a file, or NULL when it is not one. */
struct socket *sock_from_file(struct file *f);

/* Errors: set a pending error (and wake pollers), take it (SO_ERROR, the
 * next call that reports it), look at it. */
void sock_set_error(struct socket *s, int err);
int sock_take_error(struct socket *s);
static inline int sock_peek_error(struct socket *s)
{
    return __atomic_load_n(&s->err, __ATOMIC_ACQUIRE);
}

/* Readiness changed (events: what may now be ready). */
static inline void sock_notify(struct socket *s, unsigned events)
{
    poll_notify(&s->poll, events);
}

/* Monotonic deadline of a receive or send wait (0: none), and
 * MSG_DONTWAIT or O_NONBLOCK. */
uint64_t sock_deadline(struct socket *s, bool send);
bool sock_nonblock(struct socket *s, int flags);
/* Wait for cond(arg): 0; -EAGAIN when the deadline passed; -ERESTARTSYS
 * on a signal (-EINTR when a timeout was set, as Linux). */
int sock_wait(struct socket *s, bool (*cond)(void *), void *arg, uint64_t deadline);
/* EPIPE, with SIGPIPE for the calling thread unless MSG_NOSIGNAL. */
int sock_epipe(int flags);

/* Control messages of a received message: copy one out (MSG_CTRUNC when
 * it does not fit). Returns 0 or -EFAULT. */
int sock_put_cmsg(struct sock_msg *m, int level, int type, const void *data, size_t len);
/* Walk the control messages of a sent message: *pos starts at 0; each call
 * gives the next header and its data, false at the end; -EINVAL in *err
 * for a malformed one. */
bool sock_next_cmsg(const struct sock_msg *m, size_t *pos, const struct cmsghdr **hdr,
                    const void **data, size_t *len, int *err);

/* The caller's credentials, as SO_PEERCRED and SCM_CREDENTIALS carry them. */
void sock_current_cred(struct ucred *c);

/* A family's socket() constructor. socket.c lists the families by weak
 * reference: one that is not linked in gives EAFNOSUPPORT. */
struct sock_family {
    int family;
    /* Make a socket of (type, protocol): 0 with *out, or -errno
     * (-ESOCKTNOSUPPORT, -EPROTONOSUPPORT). */
    int (*create)(int type, int protocol, struct socket **out);
    /* socketpair(2), or NULL (-EOPNOTSUPP). */
    int (*pair)(int type, int protocol, struct socket **a, struct socket **b);
};
extern const struct sock_family unix_family __attribute__((weak));
extern const struct sock_family inet_family __attribute__((weak));
extern const struct sock_family inet6_family __attribute__((weak));
extern const struct sock_family netlink_family __attribute__((weak));
const struct sock_family *sock_find_family(int family);
