/* The socket system calls that are not data transfer: socket, socketpair,
 * bind, connect, listen, accept, shutdown, getsockname, getpeername. They
 * copy addresses in and out and hand the rest to the family. */
#include "net/syscalls.h"
#include "core/proc.h"
#include "fs/anon_fd.h"
#include "fs/fdtable.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "net/socket.h"
#include "net_internal.h"

int sock_addr_from_user(const void __user *uaddr, int len, struct sockaddr_storage *out)
{
    if (len < 0 || (size_t)len > sizeof(*out))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (len && copy_from_user(out, uaddr, (size_t)len))
        return -EFAULT;
    return 0;
}

int sock_addr_to_user(const struct sockaddr_storage *addr, unsigned len, void __user *uaddr,
                      int __user *ulen)
{
    uint32_t have;
    if (get_user_u32(&have, ulen))
        return -EFAULT;
    if ((int32_t)have < 0)
        return -EINVAL;
    size_t n = MIN((size_t)have, (size_t)len);
    if (n && copy_to_user(uaddr, addr, n))
        return -EFAULT;
    return put_user_u32(ulen, len) ? -EFAULT : 0;
}

#define SOCK_MAX 11 /* SOCK_PACKET + 1: types at or above it are EINVAL */

static int type_base(int type)
{
    return type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static bool type_valid(int type)
{
    return type_base(type) >= 0 && type_base(type) < SOCK_MAX;
}

long sys_socket(int domain, int type, int protocol)
{
    if (domain < 0 || domain >= AF_MAX)
        return -EAFNOSUPPORT;
    if (!type_valid(type))
        return -EINVAL;
    const struct sock_family *fam = sock_find_family(domain);
    if (!fam)
        return -EAFNOSUPPORT;
    struct socket *s;
    int err = fam->create(type_base(type), protocol, &s);
    if (err)
        return err;
    return sock_install_fd(s, type);
}

long sys_socketpair(int domain, int type, int protocol, int __user *sv)
{
    if (domain < 0 || domain >= AF_MAX)
        return -EAFNOSUPPORT;
    if (!type_valid(type))
        return -EINVAL;
    const struct sock_family *fam = sock_find_family(domain);
    if (!fam)
        return -EAFNOSUPPORT;
    if (!fam->pair)
        return -EOPNOTSUPP;
    if (!user_range_ok(sv, 2 * sizeof(int)))
        return -EFAULT;
    struct socket *a, *b;
    int err = fam->pair(type_base(type), protocol, &a, &b);
    if (err)
        return err;
    int fd0 = sock_install_fd(a, type);
    if (fd0 < 0) {
        b->ops->release(b);
        return fd0;
    }
    int fd1 = sock_install_fd(b, type);
    struct proc *p = proc_current();
    if (fd1 < 0) {
        fd_close(p->files, fd0);
        return fd1;
    }
    int pair[2] = { fd0, fd1 };
    if (copy_to_user(sv, pair, sizeof(pair))) {
        fd_close(p->files, fd0);
        fd_close(p->files, fd1);
        return -EFAULT;
    }
    return 0;
}

long sys_bind(int fd, const struct sockaddr __user *uaddr, int addrlen)
{
    struct sockaddr_storage addr;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    err = sock_addr_from_user(uaddr, addrlen, &addr);
    if (!err)
        err = s->ops->bind ? s->ops->bind(s, &addr, (unsigned)addrlen) : -EOPNOTSUPP;
    vfs_file_put(f);
    return err;
}

long sys_connect(int fd, const struct sockaddr __user *uaddr, int addrlen)
{
    struct sockaddr_storage addr;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    err = sock_addr_from_user(uaddr, addrlen, &addr);
    if (!err)
        err = s->ops->connect ? s->ops->connect(s, &addr, (unsigned)addrlen, sock_nonblock(s, 0))
                              : -EOPNOTSUPP;
    vfs_file_put(f);
    return err;
}

long sys_listen(int fd, int backlog)
{
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    /* Linux clamps to net.core.somaxconn and treats negatives as that too */
    if (backlog < 0 || backlog > SOCK_SOMAXCONN)
        backlog = SOCK_SOMAXCONN;
    err = s->ops->listen ? s->ops->listen(s, backlog) : -EOPNOTSUPP;
    vfs_file_put(f);
    return err;
}

long sys_accept4(int fd, struct sockaddr __user *uaddr, int __user *ulen, int flags)
{
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    struct socket *ns = NULL;
    err = s->ops->accept ? s->ops->accept(s, &ns, sock_nonblock(s, 0)) : -EOPNOTSUPP;
    vfs_file_put(f);
    if (err)
        return err;
    struct sockaddr_storage addr;
    unsigned len = 0;
    if (uaddr && ns->ops->getname && ns->ops->getname(ns, &addr, &len, true) < 0)
        len = 0;
    struct file *nf;
    err = sock_file_create(ns, flags, &nf);
    if (err) {
        ns->ops->release(ns);
        return err;
    }
    if (uaddr && (err = sock_addr_to_user(&addr, len, uaddr, ulen)) != 0) {
        vfs_file_put(nf); /* Linux drops the connection too */
        return err;
    }
    return anon_fd_install(nf, (flags & SOCK_CLOEXEC) ? O_CLOEXEC : 0);
}

long sys_accept(int fd, struct sockaddr __user *uaddr, int __user *ulen)
{
    return sys_accept4(fd, uaddr, ulen, 0);
}

long sys_shutdown(int fd, int how)
{
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    if (how < SHUT_RD || how > SHUT_RDWR)
        err = -EINVAL;
    else
        err = s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
    vfs_file_put(f);
    return err;
}

static long sock_getname(int fd, struct sockaddr __user *uaddr, int __user *ulen, bool peer)
{
    struct file *f;
    int err;
    struct socket *s = sock_from_fd(fd, &f, &err);
    if (!s)
        return err;
    struct sockaddr_storage addr;
    unsigned len = 0;
    memset(&addr, 0, sizeof(addr));
    err = s->ops->getname ? s->ops->getname(s, &addr, &len, peer) : -EOPNOTSUPP;
    if (!err)
        err = sock_addr_to_user(&addr, len, uaddr, ulen);
    vfs_file_put(f);
    return err;
}

long sys_getsockname(int fd, struct sockaddr __user *uaddr, int __user *ulen)
{
    return sock_getname(fd, uaddr, ulen, false);
}

long sys_getpeername(int fd, struct sockaddr __user *uaddr, int __user *ulen)
{
    return sock_getname(fd, uaddr, ulen, true);
}
