/* The socket system calls (kernel/net/socket_*.c): Linux's names and
 * argument types, the result or -errno. The syscall table links each by name. */
#pragma once

#include "arch/uaccess.h"
#include "net/uapi.h"

/* socket_calls.c */
long sys_socket(int domain, int type, int protocol);
long sys_socketpair(int domain, int type, int protocol, int __user *sv);
long sys_bind(int fd, const struct sockaddr __user *addr, int addrlen);
long sys_connect(int fd, const struct sockaddr __user *addr, int addrlen);
long sys_listen(int fd, int backlog);
long sys_accept4(int fd, struct sockaddr __user *addr, int __user *addrlen, int flags);
long sys_accept(int fd, struct sockaddr __user *addr, int __user *addrlen);
long sys_shutdown(int fd, int how);
long sys_getsockname(int fd, struct sockaddr __user *addr, int __user *addrlen);
long sys_getpeername(int fd, struct sockaddr __user *addr, int __user *addrlen);

/* socket_msg.c */
long sys_sendto(int fd, const void __user *buf, size_t len, unsigned flags,
                const struct sockaddr __user *addr, int addrlen);
long sys_recvfrom(int fd, void __user *buf, size_t len, unsigned flags,
                  struct sockaddr __user *addr, int __user *addrlen);
long sys_sendmsg(int fd, const struct msghdr __user *msg, unsigned flags);
long sys_recvmsg(int fd, struct msghdr __user *msg, unsigned flags);
long sys_sendmmsg(int fd, struct mmsghdr __user *vec, unsigned vlen, unsigned flags);
long sys_recvmmsg(int fd, struct mmsghdr __user *vec, unsigned vlen, unsigned flags,
                  struct timespec __user *timeout);

/* socket_opt.c */
long sys_setsockopt(int fd, int level, int name, const void __user *val, int len);
long sys_getsockopt(int fd, int level, int name, void __user *val, int __user *len);
