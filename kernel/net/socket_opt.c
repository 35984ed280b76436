/* setsockopt and getsockopt: the SOL_SOCKET options every socket has live
 * here (stored in struct socket, then shown to the family so it can apply
 * them); other levels belong to the family. */
#include "net/syscalls.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "net/socket.h"
#include "net_internal.h"

#define OPT_MAX 256 /* larger values are cut: no option reads more */
#define NS_PER_SEC 1000000000ull

struct sock_timeval {
    int64_t tv_sec, tv_usec;
};

static int opt_int(const void *val, unsigned len, int *out)
{
    if (len < sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

static int set_timeout(uint64_t *slot, const void *val, unsigned len)
{
    struct sock_timeval tv;
    if (len < sizeof(tv))
        return -EINVAL;
    memcpy(&tv, val, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0) {
        WRITE_ONCE(*slot, 1); /* Linux: a negative time means do not wait */
        return 0;
    }
    uint64_t ns = (uint64_t)tv.tv_sec * NS_PER_SEC + (uint64_t)tv.tv_usec * 1000;
    if (tv.tv_sec > (int64_t)(UINT64_MAX / NS_PER_SEC / 2))
        ns = 0; /* beyond anything: wait forever */
    WRITE_ONCE(*slot, ns);
    return 0;
}

static int set_buf(int *slot, int v, int min, bool force)
{
    if (!force && v > SOCK_MAX_BUF)
        v = SOCK_MAX_BUF;
    if (v < 0)
        v = force ? 0 : SOCK_MAX_BUF;
    int64_t d = (int64_t)v * 2; /* Linux doubles: the bookkeeping overhead */
    WRITE_ONCE(*slot, (int)MAX(MIN(d, (int64_t)INT32_MAX), (int64_t)min));
    return 0;
}

static int sock_setopt_generic(struct socket *s, int name, const void *val, unsigned len)
{
    int v = 0;
    switch (name) {
    case SO_LINGER:
        if (len < sizeof(struct linger))
            return -EINVAL;
        memcpy(&s->linger, val, sizeof(s->linger));
        return 0;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
        return set_timeout(&s->rcvtimeo_ns, val, len);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
        return set_timeout(&s->sndtimeo_ns, val, len);
    case SO_BINDTODEVICE:
        return 0; /* recorded by the family when it cares */
    case SO_ATTACH_FILTER: case SO_DETACH_FILTER:
        return 0; /* accepted and not applied: no packet filters */
    }
    int err = opt_int(val, len, &v);
    if (err)
        return err;
    bool on = v != 0;
    switch (name) {
    case SO_REUSEADDR: s->reuseaddr = on; return 0;
    case SO_REUSEPORT: s->reuseport = on; return 0;
    case SO_KEEPALIVE: s->keepalive = on; return 0;
    case SO_BROADCAST: s->broadcast = on; return 0;
    case SO_OOBINLINE: s->oobinline = on; return 0;
    case SO_PASSCRED: s->passcred = on; return 0;
    case SO_DONTROUTE: s->dontroute = on; return 0;
    case SO_SNDBUF: return set_buf(&s->sndbuf, v, SOCK_MIN_SNDBUF, false);
    case SO_SNDBUFFORCE: return set_buf(&s->sndbuf, v, SOCK_MIN_SNDBUF, true);
    case SO_RCVBUF: return set_buf(&s->rcvbuf, v, SOCK_MIN_RCVBUF, false);
    case SO_RCVBUFFORCE: return set_buf(&s->rcvbuf, v, SOCK_MIN_RCVBUF, true);
    case SO_RCVLOWAT: s->rcvlowat = v < 0 ? INT32_MAX : v ? v : 1; return 0;
    case SO_SNDLOWAT: return -ENOPROTOOPT; /* Linux: not changeable */
    case SO_PRIORITY: s->priority = v; return 0;
    case SO_MARK: s->mark = v; return 0;
    case SO_BINDTOIFINDEX: s->bound_ifindex = v; return 0;
    case SO_DEBUG: case SO_NO_CHECK: case SO_TIMESTAMP_OLD: case SO_TIMESTAMPNS_OLD:
    case SO_TIMESTAMP_NEW: case SO_TIMESTAMPNS_NEW: case SO_ZEROCOPY: case SO_BUSY_POLL:
    case SO_INCOMING_CPU: case SO_PASSSEC: case SO_RXQ_OVFL: case SO_BSDCOMPAT:
        return 0; /* accepted; they change nothing here */
    default:
        return -ENOPROTOOPT;
    }
}

long sys_setsockopt(int fd, int level, int name, const void __user *uval, int len)
{
    if (len < 0)
        return -EINVAL;
    char val[OPT_MAX];
    unsigned n = MIN((unsigned)len, (unsigned)OPT_MAX);
    if (n && copy_from_user(val, uval, n))
        return -EFAULT;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    if (level == SOL_SOCKET) {
        err = sock_setopt_generic(s, name, val, n);
        if (!err && s->ops->setsockopt) {
            int e = s->ops->setsockopt(s, level, name, val, n);
            if (e != -ENOPROTOOPT)
                err = e;
        }
    } else {
        err = s->ops->setsockopt ? s->ops->setsockopt(s, level, name, val, n) : -ENOPROTOOPT;
    }
    vfs_file_put(f);
    return err;
}

/* Answer a SOL_SOCKET read into val (*len its size): 0 or -ENOPROTOOPT. */
static int sock_getopt_generic(struct socket *s, int name, void *val, unsigned *len)
{
    int v;
    switch (name) {
    case SO_LINGER:
        memcpy(val, &s->linger, sizeof(s->linger));
        *len = sizeof(s->linger);
        return 0;
    case SO_RCVTIMEO_OLD: case SO_RCVTIMEO_NEW:
    case SO_SNDTIMEO_OLD: case SO_SNDTIMEO_NEW: {
        bool rcv = name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW;
        uint64_t ns = rcv ? s->rcvtimeo_ns : s->sndtimeo_ns;
        struct sock_timeval tv = { (int64_t)(ns / NS_PER_SEC), (int64_t)(ns % NS_PER_SEC / 1000) };
        memcpy(val, &tv, sizeof(tv));
        *len = sizeof(tv);
        return 0;
    }
    case SO_TYPE: v = s->type; break;
    case SO_DOMAIN: v = s->family; break;
    case SO_PROTOCOL: v = s->protocol; break;
    case SO_ERROR: v = -sock_take_error(s); break;
    case SO_ACCEPTCONN: v = s->listening; break;
    case SO_REUSEADDR: v = s->reuseaddr; break;
    case SO_REUSEPORT: v = s->reuseport; break;
    case SO_KEEPALIVE: v = s->keepalive; break;
    case SO_BROADCAST: v = s->broadcast; break;
    case SO_OOBINLINE: v = s->oobinline; break;
    case SO_PASSCRED: v = s->passcred; break;
    case SO_DONTROUTE: v = s->dontroute; break;
    case SO_SNDBUF: v = s->sndbuf; break;
    case SO_RCVBUF: v = s->rcvbuf; break;
    case SO_RCVLOWAT: v = s->rcvlowat; break;
    case SO_SNDLOWAT: v = 1; break;
    case SO_PRIORITY: v = s->priority; break;
    case SO_MARK: v = s->mark; break;
    case SO_BINDTOIFINDEX: v = s->bound_ifindex; break;
    case SO_DEBUG: case SO_NO_CHECK: case SO_TIMESTAMP_OLD: case SO_TIMESTAMPNS_OLD:
    case SO_ZEROCOPY: case SO_BUSY_POLL: case SO_PASSSEC: case SO_RXQ_OVFL: case SO_BSDCOMPAT:
        v = 0;
        break;
    case SO_INCOMING_CPU: v = -1; break;
    case SO_PEERCRED: {
        struct ucred c = { 0, (uint32_t)-1, (uint32_t)-1 }; /* no peer: Linux's invalid ids */
        memcpy(val, &c, sizeof(c));
        *len = sizeof(c);
        return 0;
    }
    case SO_PEERNAME: {
        struct sockaddr_storage a;
        unsigned alen = 0;
        int err = s->ops->getname ? s->ops->getname(s, &a, &alen, true) : -ENOTCONN;
        if (err)
            return err;
        if (*len < alen)
            return -EINVAL;
        memcpy(val, &a, MIN(alen, (unsigned)OPT_MAX));
        *len = alen;
        return 0;
    }
    case SO_COOKIE: {
        uint64_t c = (uint64_t)(uintptr_t)s;
        memcpy(val, &c, sizeof(c));
        *len = sizeof(c);
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

long sys_getsockopt(int fd, int level, int name, void __user *uval, int __user *ulen)
{
    uint32_t have;
    if (get_user_u32(&have, ulen))
        return -EFAULT;
    if ((int32_t)have < 0)
        return -EINVAL;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    char val[OPT_MAX];
    unsigned len = MIN(have, (uint32_t)OPT_MAX);
    err = s->ops->getsockopt ? s->ops->getsockopt(s, level, name, val, &len) : -ENOPROTOOPT;
    if (err == -ENOPROTOOPT && level == SOL_SOCKET)
        err = sock_getopt_generic(s, name, val, &len);
    vfs_file_put(f);
    if (err)
        return err;
    unsigned n = MIN(len, have); /* Linux copies what fits and reports that */
    if (n && copy_to_user(uval, val, n))
        return -EFAULT;
    return put_user_u32(ulen, n) ? -EFAULT : 0;
}
