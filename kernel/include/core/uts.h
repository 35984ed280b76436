/* The system's names, as uname(2) and /proc/sys/kernel report them. */
#pragma once

#include "lib/types.h"

#define UTS_LEN 65
#define UTS_SYSNAME "Linux"
/* A Linux release string: runtimes check the kernel version before starting
 * (glibc wants at least 3.2); 6.1 is the Linux whose ABI Osprey follows. */
#define UTS_RELEASE "6.1.0-osprey"
#define UTS_VERSION "#1 SMP PREEMPT Osprey"
#define UTS_MACHINE "x86_64"

const char *uts_hostname(void);
const char *uts_domainname(void);
/* 0 or -EINVAL when longer than 64 bytes. */
int uts_set_hostname(const char *name, size_t len);
int uts_set_domainname(const char *name, size_t len);
