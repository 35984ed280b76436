/* signalfd: pending signals of a chosen set read as signalfd_siginfo
 * records from a file (signalfd(2)). */
#pragma once

#include "fs/vfs.h"

#define SFD_CLOEXEC O_CLOEXEC
#define SFD_NONBLOCK O_NONBLOCK

struct proc;

struct signalfd_siginfo {
    uint32_t ssi_signo;
    int32_t ssi_errno;
    int32_t ssi_code;
    uint32_t ssi_pid;
    uint32_t ssi_uid;
    int32_t ssi_fd;
    uint32_t ssi_tid;
    uint32_t ssi_band;
    uint32_t ssi_overrun;
    uint32_t ssi_trapno;
    int32_t ssi_status;
    int32_t ssi_int;
    uint64_t ssi_ptr;
    uint64_t ssi_utime;
    uint64_t ssi_stime;
    uint64_t ssi_addr;
    uint16_t ssi_addr_lsb;
    uint16_t pad2;
    int32_t ssi_syscall;
    uint64_t ssi_call_addr;
    uint32_t ssi_arch;
    uint8_t pad[28];
};
_Static_assert(sizeof(struct signalfd_siginfo) == 128, "struct signalfd_siginfo is 128 bytes");

/* A signal was queued for p (signal_send calls it once the signal is
 * pending, from any context, interrupt handlers included): signalfd
 * readers and pollers look again. */
void signalfd_notify(struct proc *p, int sig);
bool signalfd_is(const struct file *f);
