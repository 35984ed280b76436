/* Data transfer calls: send/sendto/sendmsg/sendmmsg and their receiving
 * twins. Message headers, iovecs and control buffers are copied and checked
 * here; the family moves the bytes. */
#include "net/syscalls.h"
#include "core/clock.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/socket.h"
#include "net_internal.h"

#define MAX_RW_COUNT 0x7ffff000L
#define MMSG_MAX 1024 /* UIO_MAXIOV: Linux's cap on vlen */

int sock_iov_import(const struct iovec __user *uiov, size_t cnt, struct iovec *stack,
                    struct iovec **out, size_t *total)
{
    if (cnt > IOV_MAX)
        return -EMSGSIZE;
    struct iovec *iov = cnt <= SOCK_IOV_STACK ? stack : kmalloc(cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    int err = cnt && copy_from_user(iov, uiov, cnt * sizeof(*iov)) ? -EFAULT : 0;
    size_t sum = 0;
    for (size_t i = 0; i < cnt && !err; i++) {
        if ((int64_t)iov[i].iov_len < 0)
            err = -EINVAL;
        else if (!user_range_ok(iov[i].iov_base, iov[i].iov_len))
            err = -EFAULT;
        else if (sum + iov[i].iov_len > (size_t)MAX_RW_COUNT)
            iov[i].iov_len = (size_t)MAX_RW_COUNT - sum;
        sum += err ? 0 : iov[i].iov_len;
    }
    if (err && iov != stack)
        kfree(iov);
    *out = iov;
    *total = sum;
    return err;
}

/* ---- control messages ---- */

int sock_put_cmsg(struct sock_msg *m, int level, int type, const void *data, size_t len)
{
    size_t room = m->ctl_out ? m->ctl_out_len - m->ctl_out_used : 0;
    if (room < sizeof(struct cmsghdr)) {
        m->flags_out |= MSG_CTRUNC;
        return 0;
    }
    size_t want = CMSG_LEN(len), n = want;
    if (n > room) {
        m->flags_out |= MSG_CTRUNC; /* Linux copies what fits */
        n = room;
    }
    struct cmsghdr h = { .cmsg_len = n, .cmsg_level = level, .cmsg_type = type };
    char __user *p = (char __user *)m->ctl_out + m->ctl_out_used;
    if (copy_to_user(p, &h, sizeof(h)) || copy_to_user(p + sizeof(h), data, n - sizeof(h)))
        return -EFAULT;
    m->ctl_out_used += MIN(CMSG_SPACE(len), room);
    return 0;
}

bool sock_next_cmsg(const struct sock_msg *m, size_t *pos, const struct cmsghdr **hdr,
                    const void **data, size_t *len, int *err)
{
    *err = 0;
    if (!m->ctl || *pos + sizeof(struct cmsghdr) > m->ctl_len)
        return false;
    const struct cmsghdr *h = (const void *)((const char *)m->ctl + *pos);
    if (h->cmsg_len < sizeof(*h) || h->cmsg_len > m->ctl_len - *pos) {
        *err = -EINVAL;
        return false;
    }
    *hdr = h;
    *data = h + 1;
    *len = h->cmsg_len - sizeof(*h);
    *pos += MIN(CMSG_ALIGN(h->cmsg_len), m->ctl_len - *pos);
    return true;
}

/* ---- sending ---- */

static ssize_t sock_do_send(struct socket *s, struct sock_msg *m, unsigned flags)
{
    if (!s->ops->sendmsg)
        return -EOPNOTSUPP;
    return s->ops->sendmsg(s, m, (int)flags);
}

long sys_sendto(int fd, const void __user *buf, size_t len, unsigned flags,
                const struct sockaddr __user *uaddr, int addrlen)
{
    if (len > (size_t)MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (!user_range_ok(buf, len))
        return -EFAULT;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    struct sockaddr_storage addr;
    struct uio u;
    uio_init_user(&u, (void *)buf, len);
    struct sock_msg m = { .uio = &u };
    long r = 0;
    if (uaddr) {
        r = sock_addr_from_user(uaddr, addrlen, &addr);
        m.name = &addr;
        m.name_len = (unsigned)addrlen;
    }
    if (!r)
        r = sock_do_send(s, &m, flags);
    vfs_file_put(f);
    return r;
}

/* sendmsg on a copied header: the name, iovec and control buffer come in. */
static long send_one(struct socket *s, const struct msghdr *h, unsigned flags)
{
    struct sockaddr_storage addr;
    struct iovec stack[SOCK_IOV_STACK], *iov;
    size_t total;
    struct sock_msg m = { 0 };
    if (h->msg_name && h->msg_namelen) {
        int err = sock_addr_from_user(h->msg_name, h->msg_namelen, &addr);
        if (err)
            return err;
        m.name = &addr;
        m.name_len = (unsigned)h->msg_namelen;
    }
    if (h->msg_controllen > SOCK_OPTMEM_MAX)
        return -ENOBUFS;
    int err = sock_iov_import(h->msg_iov, h->msg_iovlen, stack, &iov, &total);
    if (err)
        return err;
    void *ctl = NULL;
    if (h->msg_controllen) {
        ctl = kmalloc(h->msg_controllen);
        err = !ctl ? -ENOMEM : copy_from_user(ctl, h->msg_control, h->msg_controllen) ? -EFAULT : 0;
    }
    long r = err;
    if (!err) {
        struct uio u;
        uio_init_iov(&u, iov, (unsigned)h->msg_iovlen, total, true);
        m.uio = &u;
        m.ctl = ctl;
        m.ctl_len = h->msg_controllen;
        r = sock_do_send(s, &m, flags);
    }
    kfree(ctl);
    if (iov != stack)
        kfree(iov);
    return r;
}

long sys_sendmsg(int fd, const struct msghdr __user *umsg, unsigned flags)
{
    struct msghdr h;
    if (copy_from_user(&h, umsg, sizeof(h)))
        return -EFAULT;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    long r = send_one(s, &h, flags);
    vfs_file_put(f);
    return r;
}

long sys_sendmmsg(int fd, struct mmsghdr __user *vec, unsigned vlen, unsigned flags)
{
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    vlen = MIN(vlen, (unsigned)MMSG_MAX);
    long done = 0, r = 0;
    for (unsigned i = 0; i < vlen; i++) {
        struct msghdr h;
        if (copy_from_user(&h, &vec[i].msg_hdr, sizeof(h))) {
            r = -EFAULT;
            break;
        }
        r = send_one(s, &h, flags);
        if (r < 0)
            break;
        if (put_user_u32(&vec[i].msg_len, (uint32_t)r)) {
            r = -EFAULT;
            break;
        }
        done++;
    }
    vfs_file_put(f);
    return done ? done : r;
}

/* ---- receiving ---- */

static ssize_t sock_do_recv(struct socket *s, struct sock_msg *m, unsigned flags)
{
    if (!s->ops->recvmsg)
        return -EOPNOTSUPP;
    if (flags & MSG_ERRQUEUE)
        return -EAGAIN; /* no error queue: nothing is ever queued there */
    m->cloexec = (flags & MSG_CMSG_CLOEXEC) != 0;
    return s->ops->recvmsg(s, m, (int)(flags & ~(unsigned)MSG_CMSG_CLOEXEC));
}

long sys_recvfrom(int fd, void __user *buf, size_t len, unsigned flags,
                  struct sockaddr __user *uaddr, int __user *ulen)
{
    if (len > (size_t)MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (!user_range_ok(buf, len))
        return -EFAULT;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    struct sockaddr_storage addr;
    struct uio u;
    uio_init_user(&u, buf, len);
    struct sock_msg m = { .uio = &u, .name = uaddr ? &addr : NULL };
    long r = sock_do_recv(s, &m, flags);
    if (r >= 0 && uaddr && m.name_len) {
        err = sock_addr_to_user(&addr, m.name_len, uaddr, ulen);
        if (err)
            r = err;
    } else if (r >= 0 && uaddr && ulen && put_user_u32(ulen, 0)) {
        r = -EFAULT;
    }
    vfs_file_put(f);
    return r;
}

/* recvmsg into a copied header; the header's outputs are written back to uh. */
static long recv_one(struct socket *s, struct msghdr *h, struct msghdr __user *uh, unsigned flags)
{
    struct sockaddr_storage addr;
    struct iovec stack[SOCK_IOV_STACK], *iov;
    size_t total;
    int err = sock_iov_import(h->msg_iov, h->msg_iovlen, stack, &iov, &total);
    if (err)
        return err;
    struct uio u;
    uio_init_iov(&u, iov, (unsigned)h->msg_iovlen, total, true);
    struct sock_msg m = {
        .uio = &u,
        .name = h->msg_name ? &addr : NULL,
        .ctl_out = h->msg_control,
        .ctl_out_len = h->msg_controllen,
    };
    long r = sock_do_recv(s, &m, flags);
    if (iov != stack)
        kfree(iov);
    if (r < 0)
        return r;
    if (h->msg_name && (int)m.name_len > 0) {
        size_t n = MIN((size_t)(h->msg_namelen < 0 ? 0 : h->msg_namelen), (size_t)m.name_len);
        if (n && copy_to_user(h->msg_name, &addr, n))
            return -EFAULT;
    }
    if (h->msg_name && put_user_u32(&uh->msg_namelen, m.name_len))
        return -EFAULT;
    if (put_user_u32(&uh->msg_flags, (uint32_t)m.flags_out) ||
        put_user_u64(&uh->msg_controllen, m.ctl_out_used))
        return -EFAULT;
    return r;
}

long sys_recvmsg(int fd, struct msghdr __user *umsg, unsigned flags)
{
    struct msghdr h;
    if (copy_from_user(&h, umsg, sizeof(h)))
        return -EFAULT;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    long r = recv_one(s, &h, umsg, flags);
    vfs_file_put(f);
    return r;
}

long sys_recvmmsg(int fd, struct mmsghdr __user *vec, unsigned vlen, unsigned flags,
                  struct timespec __user *utimeout)
{
    uint64_t deadline = 0;
    if (utimeout) {
        struct timespec ts;
        if (copy_from_user(&ts, utimeout, sizeof(ts)))
            return -EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
            return -EINVAL;
        deadline = clock_monotonic_ns() + (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    vlen = MIN(vlen, (unsigned)MMSG_MAX);
    long done = 0, r = 0;
    for (unsigned i = 0; i < vlen; i++) {
        struct msghdr h;
        if (copy_from_user(&h, &vec[i].msg_hdr, sizeof(h))) {
            r = -EFAULT;
            break;
        }
        r = recv_one(s, &h, &vec[i].msg_hdr, flags);
        if (r < 0)
            break;
        if (put_user_u32(&vec[i].msg_len, (uint32_t)r)) {
            r = -EFAULT;
            break;
        }
        done++;
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
        if (deadline && clock_monotonic_ns() >= deadline)
            break; /* as Linux: the timeout is looked at between datagrams */
    }
    vfs_file_put(f);
    return done ? done : r; /* an error after some datagrams is the next call's */
}
