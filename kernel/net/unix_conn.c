/* AF_UNIX connections: listen with a real backlog, connect (a new socket is
 * queued on the listener for accept), datagram default peers, shutdown,
 * and release with Linux's hang-up and reset rules. */
#include "lib/errno.h"
#include "unix_internal.h"

/* ---- stream and seqpacket connect ---- */

struct backlog_wait {
    struct unix_sock *l;
};

static bool listener_has_room(void *arg)
{
    struct unix_sock *l = ((struct backlog_wait *)arg)->l;
    return READ_ONCE(l->dead) || READ_ONCE(l->state) != UNIX_LISTENING ||
           READ_ONCE(l->accept_count) <= READ_ONCE(l->backlog);
}

/* Queue embryo (a new connected socket whose peer is u) on listener l. */
static int queue_on_listener(struct unix_sock *u, struct unix_sock *l, struct unix_sock *embryo,
                             bool nonblock, struct ucred *lcred)
{
    uint64_t deadline = sock_deadline(&u->sock, true);
    for (;;) {
        mutex_lock(&l->lock);
        if (l->dead || l->state != UNIX_LISTENING) {
            mutex_unlock(&l->lock);
            return -ECONNREFUSED;
        }
        if (l->accept_count <= l->backlog)
            break;
        mutex_unlock(&l->lock);
        if (nonblock)
            return -EAGAIN;
        struct backlog_wait w = { l };
        int err = poll_head_wait(&l->sock.poll, listener_has_room, &w, deadline);
        if (err)
            return err == -ETIMEDOUT ? -EAGAIN : err == -EINTR ? (deadline ? -EINTR : -ERESTARTSYS) : err;
    }
    embryo->state = UNIX_CONNECTED;
    embryo->peer = unix_get(u);
    embryo->addr = unix_addr_get(l->addr);
    unix_get(embryo); /* for u->peer, before the accepter can see it */
    list_add_tail(&l->acceptq, &embryo->accept_link);
    l->accept_count++;
    *lcred = l->peercred;
    mutex_unlock(&l->lock);
    sock_notify(&l->sock, POLLIN | POLLRDNORM);
    return 0;
}

static int stream_connect(struct unix_sock *u, const struct sockaddr_storage *addr, unsigned len,
                          bool nonblock)
{
    int err = 0;
    if (u->sock.passcred && (err = unix_autobind(u)) != 0)
        return err;
    struct unix_sock *l;
    if ((err = unix_find(addr, len, u->sock.type, &l)) != 0)
        return err;
    struct unix_sock *embryo = unix_sock_alloc(u->sock.type);
    if (!embryo) {
        unix_put(l);
        return -ENOMEM;
    }
    sock_current_cred(&embryo->peercred);
    embryo->have_peercred = true;
    struct ucred lcred;
    err = queue_on_listener(u, l, embryo, nonblock, &lcred);
    unix_put(l);
    if (err) {
        unix_put(embryo);
        return err;
    }
    mutex_lock(&u->lock);
    u->peer = embryo; /* the reference taken for it */
    u->state = UNIX_CONNECTED;
    u->peercred = lcred;
    u->have_peercred = true;
    mutex_unlock(&u->lock);
    sock_notify(&u->sock, POLLOUT | POLLWRNORM);
    return 0;
}

int unix_stream_connect(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                        bool nonblock)
{
    struct unix_sock *u = unix_sk(s);
    int err = 0;
    mutex_lock(&u->lock);
    switch (u->state) {
    case UNIX_CONNECTED: err = -EISCONN; break;
    case UNIX_LISTENING: err = -EINVAL; break;
    case UNIX_CONNECTING: err = -EALREADY; break;
    case UNIX_UNCONNECTED: u->state = UNIX_CONNECTING; break;
    }
    mutex_unlock(&u->lock);
    if (err)
        return err;
    err = stream_connect(u, addr, len, nonblock);
    if (err) {
        mutex_lock(&u->lock);
        if (u->state == UNIX_CONNECTING)
            u->state = UNIX_UNCONNECTED;
        mutex_unlock(&u->lock);
    }
    return err;
}

/* ---- datagram default peer ---- */

int unix_dgram_connect(struct socket *s, const struct sockaddr_storage *addr, unsigned len,
                       bool nonblock)
{
    (void)nonblock;
    struct unix_sock *u = unix_sk(s), *target = NULL;
    if (len >= sizeof(sa_family_t) && addr->ss_family == AF_UNSPEC) {
        mutex_lock(&u->lock); /* dissolve the association */
        struct unix_sock *old = u->peer;
        u->peer = NULL;
        u->state = UNIX_UNCONNECTED;
        mutex_unlock(&u->lock);
        unix_put(old);
        return 0;
    }
    int err = 0;
    if (s->passcred && (err = unix_autobind(u)) != 0)
        return err;
    if ((err = unix_find(addr, len, s->type, &target)) != 0)
        return err;
    struct unix_sock *tp = READ_ONCE(target->peer);
    if (tp && tp != u) {
        unix_put(target);
        return -EPERM; /* it only hears from its own peer */
    }
    mutex_lock(&u->lock);
    struct unix_sock *old = u->peer;
    u->peer = target;
    u->state = UNIX_CONNECTED;
    mutex_unlock(&u->lock);
    unix_put(old);
    return 0;
}

/* ---- listen and accept ---- */

int unix_listen(struct socket *s, int backlog)
{
    struct unix_sock *u = unix_sk(s);
    int err = 0;
    mutex_lock(&u->lock);
    if (!u->addr)
        err = -EINVAL;
    else if (u->state != UNIX_UNCONNECTED && u->state != UNIX_LISTENING)
        err = -EINVAL;
    bool grew = false;
    if (!err) {
        grew = (unsigned)backlog > u->backlog;
        u->backlog = (unsigned)backlog;
        u->state = UNIX_LISTENING;
        s->listening = true;
        sock_current_cred(&u->peercred); /* what connecting peers see */
        u->have_peercred = true;
    }
    mutex_unlock(&u->lock);
    if (grew)
        sock_notify(s, POLLOUT);
    return err;
}

static bool accept_ready(void *arg)
{
    struct unix_sock *u = arg;
    return READ_ONCE(u->accept_count) || READ_ONCE(u->state) != UNIX_LISTENING;
}

int unix_accept(struct socket *s, struct socket **out, bool nonblock)
{
    struct unix_sock *u = unix_sk(s);
    uint64_t deadline = sock_deadline(s, false);
    mutex_lock(&u->lock);
    for (;;) {
        if (u->state != UNIX_LISTENING) {
            mutex_unlock(&u->lock);
            return -EINVAL;
        }
        struct list_node *n = list_pop_head(&u->acceptq);
        if (n) {
            u->accept_count--;
            mutex_unlock(&u->lock);
            sock_notify(s, POLLOUT); /* room for a waiting connect */
            *out = &list_entry(n, struct unix_sock, accept_link)->sock;
            return 0;
        }
        mutex_unlock(&u->lock);
        if (nonblock)
            return -EAGAIN;
        int err = sock_wait(s, accept_ready, u, deadline);
        if (err)
            return err;
        mutex_lock(&u->lock);
    }
}

/* ---- shutdown and release ---- */

int unix_shutdown(struct socket *s, int how)
{
    struct unix_sock *u = unix_sk(s);
    unsigned mode = (unsigned)how + 1; /* SHUT_RD -> RCV, SHUT_WR -> SEND, SHUT_RDWR -> both */
    mutex_lock(&u->lock);
    s->shutdown |= mode;
    struct unix_sock *p = u->peer ? unix_get(u->peer) : NULL;
    mutex_unlock(&u->lock);
    sock_notify(s, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    if (p && s->type != SOCK_DGRAM) {
        unsigned pm = (mode & SOCK_RCV_SHUTDOWN ? SOCK_SEND_SHUTDOWN : 0) |
                      (mode & SOCK_SEND_SHUTDOWN ? SOCK_RCV_SHUTDOWN : 0);
        mutex_lock(&p->lock);
        p->sock.shutdown |= pm;
        mutex_unlock(&p->lock);
        sock_notify(&p->sock, POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    }
    unix_put(p);
    return 0;
}

/* The connected peer learns we are gone: hang-up, and a reset when data
 * we never read (or an embryo never accepted) is thrown away. */
static void tell_peer(struct unix_sock *u, struct unix_sock *p, bool reset)
{
    mutex_lock(&p->lock);
    bool ours = p->peer == u;
    if (ours)
        p->sock.shutdown = SOCK_SHUTDOWN_MASK;
    mutex_unlock(&p->lock);
    if (!ours)
        return;
    if (reset)
        sock_set_error(&p->sock, -ECONNRESET);
    sock_notify(&p->sock, POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR);
}

static void release_sock(struct unix_sock *u, bool embryo)
{
    struct list_node rx, pending;
    list_init(&rx);
    list_init(&pending);
    unix_unbind(u);
    mutex_lock(&u->lock);
    u->dead = true;
    struct unix_sock *p = u->peer;
    u->peer = NULL;
    bool unread = !list_empty(&u->rxq);
    if (unread) {
        list_insert_between(&rx, u->rxq.prev, &u->rxq); /* steal the queue */
        list_remove(&u->rxq);
    }
    if (!list_empty(&u->acceptq)) {
        list_insert_between(&pending, u->acceptq.prev, &u->acceptq);
        list_remove(&u->acceptq);
    }
    u->rx_bytes = 0;
    u->rx_count = u->accept_count = 0;
    u->state = UNIX_UNCONNECTED;
    u->sock.shutdown = SOCK_SHUTDOWN_MASK;
    u->sock.listening = false;
    mutex_unlock(&u->lock);
    sock_notify(&u->sock, POLLIN | POLLOUT | POLLHUP); /* connectors waiting for room */
    if (p) {
        if (u->sock.type != SOCK_DGRAM)
            tell_peer(u, p, unread || embryo);
        unix_put(p);
    }
    unix_skb_free_list(&rx);
    struct list_node *n;
    while ((n = list_pop_head(&pending)))
        release_sock(list_entry(n, struct unix_sock, accept_link), true);
    unix_put(u);
}

void unix_release(struct socket *s)
{
    release_sock(unix_sk(s), false);
}
