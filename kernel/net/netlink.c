/* AF_NETLINK, NETLINK_ROUTE only, read-only: the link, address and route
 * dumps (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) that getifaddrs, Go's
 * net.Interfaces and `ip` ask for. Requests are answered at once into the
 * socket's queue of datagrams; changes are refused with EOPNOTSUPP. */
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/net.h"
#include "net/netif.h"
#include "net/socket.h"
#include "netlink_internal.h"

#include "lwip/netif.h"

#define NL_REQ_MAX 65536      /* largest request we read */
#define NL_GOODSIZE 3600      /* replies fit a page-sized receive buffer (Go uses one) */
#define NL_RCVQ_MAX 64        /* datagrams queued before requests are refused */

struct nl_dgram {
    struct list_node link;
    size_t len;
    uint8_t data[];
};

struct nl_sock {
    struct socket sock;
    struct mutex lock;
    struct list_node rxq;
    unsigned rx_count;
    uint32_t portid, groups;
};

static struct nl_sock *nl_sk(struct socket *s)
{
    return container_of(s, struct nl_sock, sock);
}

static int32_t next_portid = -4096; /* Linux's autobind range after the pid */
static bool pid_taken;

static void nl_autobind(struct nl_sock *nl)
{
    if (nl->portid)
        return;
    struct ucred c;
    sock_current_cred(&c);
    if (!__atomic_exchange_n(&pid_taken, true, __ATOMIC_ACQ_REL) && c.pid > 0)
        nl->portid = (uint32_t)c.pid; /* the first socket gets the process id */
    else
        nl->portid = (uint32_t)__atomic_fetch_sub(&next_portid, 1, __ATOMIC_RELAXED);
}

/* ---- building replies ---- */

void nl_builder_init(struct nl_builder *b, struct nl_sock *nl, uint32_t seq)
{
    memset(b, 0, sizeof(*b));
    b->nl = nl;
    b->seq = seq;
    b->portid = nl->portid;
    list_init(&b->out);
}

static int builder_flush(struct nl_builder *b)
{
    if (!b->len)
        return 0;
    struct nl_dgram *d = kmalloc(sizeof(*d) + b->len);
    if (!d)
        return -ENOBUFS;
    d->len = b->len;
    memcpy(d->data, b->buf, b->len);
    list_add_tail(&b->out, &d->link);
    b->len = 0;
    return 0;
}

void *nl_msg_begin(struct nl_builder *b, uint16_t type, uint16_t flags, size_t hdrlen)
{
    size_t need = NLMSG_ALIGN(sizeof(struct nlmsghdr) + hdrlen);
    if (b->len + need > NL_GOODSIZE && builder_flush(b))
        b->err = -ENOBUFS;
    if (b->err || b->len + need > sizeof(b->buf)) {
        b->err = -ENOBUFS;
        return NULL;
    }
    struct nlmsghdr *h = (void *)(b->buf + b->len);
    memset(h, 0, need);
    h->nlmsg_len = (uint32_t)(sizeof(*h) + hdrlen);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = b->seq;
    h->nlmsg_pid = b->portid;
    b->cur = b->len;
    b->len += need;
    return h + 1;
}

void nl_attr(struct nl_builder *b, uint16_t type, const void *data, size_t len)
{
    size_t need = NLA_ALIGN(sizeof(struct nlattr) + len);
    if (b->err || b->len + need > sizeof(b->buf)) {
        b->err = -ENOBUFS;
        return;
    }
    struct nlattr *a = (void *)(b->buf + b->len);
    memset(a, 0, need);
    a->nla_len = (uint16_t)(sizeof(*a) + len);
    a->nla_type = type;
    memcpy(a + 1, data, len);
    b->len += need;
    ((struct nlmsghdr *)(b->buf + b->cur))->nlmsg_len = (uint32_t)(b->len - b->cur);
}

void nl_attr_u32(struct nl_builder *b, uint16_t type, uint32_t v)
{
    nl_attr(b, type, &v, sizeof(v));
}

void nl_attr_u8(struct nl_builder *b, uint16_t type, uint8_t v)
{
    nl_attr(b, type, &v, sizeof(v));
}

void nl_attr_str(struct nl_builder *b, uint16_t type, const char *s)
{
    nl_attr(b, type, s, strlen(s) + 1);
}

static void nl_done(struct nl_builder *b)
{
    int32_t *v = nl_msg_begin(b, NLMSG_DONE, NLM_F_MULTI, sizeof(int32_t));
    if (v)
        *v = 0;
}

static void nl_error(struct nl_builder *b, const struct nlmsghdr *req, int err)
{
    struct nlmsgerr *e = nl_msg_begin(b, NLMSG_ERROR, NLM_F_CAPPED, sizeof(*e)); /* header only */
    if (e) {
        e->error = err;
        e->msg = *req;
    }
}

/* Queue what was built (all or nothing). */
static int builder_commit(struct nl_builder *b)
{
    int err = b->err ? b->err : builder_flush(b);
    struct nl_sock *nl = b->nl;
    mutex_lock(&nl->lock);
    struct list_node *n;
    while (!err && (n = list_pop_head(&b->out))) {
        list_add_tail(&nl->rxq, n);
        nl->rx_count++;
    }
    mutex_unlock(&nl->lock);
    while ((n = list_pop_head(&b->out)))
        kfree(list_entry(n, struct nl_dgram, link));
    sock_notify(&nl->sock, POLLIN | POLLRDNORM);
    return err;
}

/* ---- requests ---- */

static int handle_one(struct nl_sock *nl, const struct nlmsghdr *h)
{
    struct nl_builder *b = kmalloc(sizeof(*b));
    if (!b)
        return -ENOMEM;
    nl_builder_init(b, nl, h->nlmsg_seq);
    bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    const void *body = h + 1;
    size_t blen = h->nlmsg_len - sizeof(*h);
    int err = 0;
    net_start();
    net_lock();
    switch (h->nlmsg_type) {
    case RTM_GETLINK: err = dump ? nl_dump_links(b) : nl_get_link(b, body, blen); break;
    case RTM_GETADDR: err = nl_dump_addrs(b, body, blen); dump = true; break;
    case RTM_GETROUTE: err = nl_dump_routes(b); dump = true; break;
    case NLMSG_NOOP: case NLMSG_DONE: break;
    case RTM_NEWLINK: case RTM_DELLINK: case RTM_SETLINK: case RTM_NEWADDR: case RTM_DELADDR:
    case RTM_NEWROUTE: case RTM_DELROUTE:
        err = -EOPNOTSUPP; /* interfaces are configured at boot */
        break;
    default:
        err = -EOPNOTSUPP;
    }
    net_unlock();
    if (err)
        nl_error(b, h, err);
    else if (dump)
        nl_done(b);
    else if (h->nlmsg_flags & NLM_F_ACK)
        nl_error(b, h, 0);
    int e = builder_commit(b);
    kfree(b);
    return e;
}

static ssize_t nl_sendmsg(struct socket *s, struct sock_msg *m, int flags)
{
    (void)flags;
    struct nl_sock *nl = nl_sk(s);
    size_t len = m->uio->resid;
    if (len > NL_REQ_MAX)
        return -EMSGSIZE;
    uint8_t *buf = kmalloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    if (uio_copy_in(m->uio, buf, len) < len) {
        kfree(buf);
        return -EFAULT;
    }
    nl_autobind(nl);
    int err = 0;
    for (size_t off = 0; off + sizeof(struct nlmsghdr) <= len && !err;) {
        struct nlmsghdr h;
        memcpy(&h, buf + off, sizeof(h));
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
            break; /* Linux stops at a malformed message */
        if (READ_ONCE(nl->rx_count) >= NL_RCVQ_MAX)
            err = -ENOBUFS;
        else if (h.nlmsg_flags & NLM_F_REQUEST)
            err = handle_one(nl, (const struct nlmsghdr *)(buf + off));
        off += NLMSG_ALIGN(h.nlmsg_len);
    }
    kfree(buf);
    return err ? err : (ssize_t)len;
}

/* ---- receiving ---- */

static bool nl_readable(void *arg)
{
    return !list_empty(&((struct nl_sock *)arg)->rxq);
}

static ssize_t nl_recvmsg(struct socket *s, struct sock_msg *m, int flags)
{
    struct nl_sock *nl = nl_sk(s);
    uint64_t deadline = sock_deadline(s, false);
    mutex_lock(&nl->lock);
    while (list_empty(&nl->rxq)) {
        mutex_unlock(&nl->lock);
        if (sock_nonblock(s, flags))
            return -EAGAIN;
        int err = sock_wait(s, nl_readable, nl, deadline);
        if (err)
            return err;
        mutex_lock(&nl->lock);
    }
    struct nl_dgram *d = list_entry(nl->rxq.next, struct nl_dgram, link);
    size_t got = uio_copy_out(m->uio, d->data, d->len);
    if (got < d->len && !m->uio->fault)
        m->flags_out |= MSG_TRUNC;
    size_t len = d->len;
    if (!(flags & MSG_PEEK)) {
        list_remove(&d->link);
        nl->rx_count--;
        kfree(d);
    }
    mutex_unlock(&nl->lock);
    if (m->name) {
        struct sockaddr_nl *a = (void *)m->name;
        memset(a, 0, sizeof(*a));
        a->nl_family = AF_NETLINK; /* from the kernel: port 0 */
        m->name_len = sizeof(*a);
    }
    if (m->uio->fault)
        return -EFAULT;
    return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)got;
}

/* ---- the rest of the socket ---- */

static int nl_bind(struct socket *s, const struct sockaddr_storage *addr, unsigned len)
{
    struct nl_sock *nl = nl_sk(s);
    const struct sockaddr_nl *a = (const void *)addr;
    if (len < sizeof(*a) || a->nl_family != AF_NETLINK)
        return -EINVAL;
    nl->groups = a->nl_groups; /* accepted; no notifications are ever sent */
    if (a->nl_pid && nl->portid && a->nl_pid != nl->portid)
        return -EINVAL;
    if (a->nl_pid)
        nl->portid = a->nl_pid;
    else
        nl_autobind(nl);
    return 0;
}

static int nl_connect(struct socket *s, const struct sockaddr_storage *addr, unsigned len, bool nb)
{
    (void)nb;
    if (len < sizeof(sa_family_t) || (addr->ss_family != AF_NETLINK && addr->ss_family != AF_UNSPEC))
        return -EINVAL;
    nl_autobind(nl_sk(s));
    return 0;
}

static int nl_getname(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer)
{
    struct nl_sock *nl = nl_sk(s);
    struct sockaddr_nl *a = (void *)addr;
    memset(a, 0, sizeof(*a));
    a->nl_family = AF_NETLINK;
    if (!peer) {
        a->nl_pid = nl->portid;
        a->nl_groups = nl->groups;
    }
    *len = sizeof(*a);
    return 0;
}

static unsigned nl_poll(struct socket *s, struct poll_table *pt)
{
    poll_wait(pt, &s->poll);
    return POLLOUT | POLLWRNORM | (nl_readable(nl_sk(s)) ? POLLIN | POLLRDNORM : 0);
}

static int nl_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len)
{
    (void)s, (void)name, (void)val;
    if (level == SOL_SOCKET)
        return -ENOPROTOOPT;
    if (level != SOL_NETLINK)
        return -ENOPROTOOPT;
    return len < sizeof(int) ? -EINVAL : 0; /* memberships, ext ack, strict checks: accepted */
}

static int nl_getsockopt(struct socket *s, int level, int name, void *val, unsigned *len)
{
    (void)s, (void)name;
    if (level != SOL_NETLINK)
        return -ENOPROTOOPT;
    int v = 0;
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

static void nl_release(struct socket *s)
{
    struct nl_sock *nl = nl_sk(s);
    struct list_node *n;
    while ((n = list_pop_head(&nl->rxq)))
        kfree(list_entry(n, struct nl_dgram, link));
    kfree(nl);
}

static int nl_no_shutdown(struct socket *s, int how)
{
    (void)s, (void)how;
    return 0;
}

static const struct sock_ops nl_ops = {
    .bind = nl_bind,
    .connect = nl_connect,
    .getname = nl_getname,
    .sendmsg = nl_sendmsg,
    .recvmsg = nl_recvmsg,
    .shutdown = nl_no_shutdown,
    .poll = nl_poll,
    .setsockopt = nl_setsockopt,
    .getsockopt = nl_getsockopt,
    .release = nl_release,
};

static int nl_create(int type, int protocol, struct socket **out)
{
    if (type != SOCK_RAW && type != SOCK_DGRAM)
        return -ESOCKTNOSUPPORT;
    if (protocol != NETLINK_ROUTE)
        return -EPROTONOSUPPORT;
    if (!net_configured())
        net_init(); /* what the dumps report should be the configured network */
    struct nl_sock *nl = kzalloc(sizeof(*nl));
    if (!nl)
        return -ENOMEM;
    sock_init(&nl->sock, AF_NETLINK, type, protocol, &nl_ops);
    mutex_init(&nl->lock);
    list_init(&nl->rxq);
    *out = &nl->sock;
    return 0;
}

const struct sock_family netlink_family = { .family = AF_NETLINK, .create = nl_create };
