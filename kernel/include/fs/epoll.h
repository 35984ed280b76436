/* epoll: interest lists fed by poll_watcher callbacks, a ready list, level-
 * and edge-triggered reporting (epoll(7)). */
#pragma once

#include "fs/vfs.h"

#define EPOLLIN 0x001u
#define EPOLLPRI 0x002u
#define EPOLLOUT 0x004u
#define EPOLLERR 0x008u
#define EPOLLHUP 0x010u
#define EPOLLRDNORM 0x040u
#define EPOLLRDBAND 0x080u
#define EPOLLWRNORM 0x100u
#define EPOLLWRBAND 0x200u
#define EPOLLMSG 0x400u
#define EPOLLRDHUP 0x2000u
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP (1u << 29)
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLL_CLOEXEC O_CLOEXEC

struct epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct epoll_event) == 12, "x86-64 struct epoll_event is packed");

/* The VFS calls this when f's last reference goes, before its release op:
 * every epoll registration of f disappears, as on Linux (closing one of
 * several descriptors of the file does not remove it). */
void epoll_file_release(struct file *f);
bool epoll_is(const struct file *f);
