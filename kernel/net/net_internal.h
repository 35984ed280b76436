/* Helpers the socket system calls share inside kernel/net (not for other
 * subsystems): address and iovec copying, the listen limit. */
#pragma once

#include "arch/uaccess.h"
#include "net/socket.h"

/* net.core.somaxconn */
#define SOCK_SOMAXCONN 4096
/* net.core.optmem_max: largest control-message buffer a send may pass */
#define SOCK_OPTMEM_MAX 20480

/* Copy a sockaddr of len bytes in (the rest of *out zeroed): 0, -EINVAL
 * (negative or too long), -EFAULT. */
int sock_addr_from_user(const void __user *uaddr, int len, struct sockaddr_storage *out);
/* Copy an address out as getsockname does: at most *ulen bytes, then the
 * full length into *ulen. */
int sock_addr_to_user(const struct sockaddr_storage *addr, unsigned len, void __user *uaddr,
                      int __user *ulen);

/* Copy and check an iovec array (IOV_MAX, ranges, total capped as Linux
 * does): *out is stack (cnt <= SOCK_IOV_STACK) or kmalloc'd. */
#define SOCK_IOV_STACK 8
int sock_iov_import(const struct iovec __user *uiov, size_t cnt, struct iovec *stack,
                    struct iovec **out, size_t *total);
