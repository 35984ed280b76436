/* eventfd: a 64-bit counter as a file (eventfd(2)), for wake-ups between
 * threads and, later, from the kernel (AIO, io_uring completions). */
#pragma once

#include "fs/vfs.h"

#define EFD_SEMAPHORE 1
#define EFD_CLOEXEC O_CLOEXEC
#define EFD_NONBLOCK O_NONBLOCK

bool eventfd_is(const struct file *f);
/* Add n to the counter (clamped below the overflow value) and wake
 * readers; safe from interrupt handlers. -EINVAL if f is no eventfd. */
int eventfd_signal(struct file *f, uint64_t n);
