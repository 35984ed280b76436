/* timerfd: a kernel timer whose expirations are read as a count from a
 * file (timerfd_create(2)). */
#pragma once

#include "fs/vfs.h"
#include "lib/time.h"

#define TFD_CLOEXEC O_CLOEXEC
#define TFD_NONBLOCK O_NONBLOCK
#define TFD_TIMER_ABSTIME 1
#define TFD_TIMER_CANCEL_ON_SET 2

struct itimerspec {
    struct timespec it_interval;
    struct timespec it_value;
};

bool timerfd_is(const struct file *f);
