/* System calls about things a unikernel has only one of: the kernel log
 * (syslog/dmesg), power (reboot ends the VM), restarts. */
#include "arch/uaccess.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/system.h"
#include "core/user.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define SYSLOG_ACTION_CLOSE 0
#define SYSLOG_ACTION_OPEN 1
#define SYSLOG_ACTION_READ 2
#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_READ_CLEAR 4
#define SYSLOG_ACTION_CLEAR 5
#define SYSLOG_ACTION_CONSOLE_OFF 6
#define SYSLOG_ACTION_CONSOLE_ON 7
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_UNREAD 9
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define LOG_SNAPSHOT_MAX (256 * 1024)

/* syslog(2), what dmesg reads: the kernel log ring. */
long sys_syslog(int type, char __user *buf, int len)
{
    switch (type) {
    case SYSLOG_ACTION_CLOSE:
    case SYSLOG_ACTION_OPEN:
    case SYSLOG_ACTION_CONSOLE_OFF:
    case SYSLOG_ACTION_CONSOLE_ON:
        return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL:
        if (len < 1 || len > 8)
            return -EINVAL;
        log_set_console_level(len - 1);
        return 0;
    case SYSLOG_ACTION_SIZE_BUFFER:
    case SYSLOG_ACTION_SIZE_UNREAD:
    case SYSLOG_ACTION_READ:
    case SYSLOG_ACTION_READ_ALL:
    case SYSLOG_ACTION_READ_CLEAR:
    case SYSLOG_ACTION_CLEAR:
        break;
    default:
        return -EINVAL;
    }
    if (type == SYSLOG_ACTION_CLEAR)
        return 0; /* the ring keeps its history; nothing reads "unread" state */
    char *snap = kmalloc(LOG_SNAPSHOT_MAX);
    if (!snap)
        return -ENOMEM;
    size_t n = log_read_all(snap, LOG_SNAPSHOT_MAX);
    long r;
    if (type == SYSLOG_ACTION_SIZE_BUFFER || type == SYSLOG_ACTION_SIZE_UNREAD) {
        r = type == SYSLOG_ACTION_SIZE_BUFFER ? LOG_SNAPSHOT_MAX : (long)n;
    } else if (len < 0 || !buf) {
        r = -EINVAL;
    } else {
        size_t want = MIN(n, (size_t)len);
        /* the most recent text when the buffer is short, as dmesg expects */
        r = copy_to_user(buf, snap + (n - want), want) ? -EFAULT : (long)want;
    }
    kfree(snap);
    return r;
}

#define REBOOT_MAGIC1 0xfee1deadu
#define REBOOT_MAGIC2 672274793u
#define REBOOT_MAGIC2A 85072278u
#define REBOOT_MAGIC2B 369367448u
#define REBOOT_MAGIC2C 537993216u
#define REBOOT_CMD_RESTART 0x01234567u
#define REBOOT_CMD_HALT 0xcdef0123u
#define REBOOT_CMD_POWER_OFF 0x4321fedcu
#define REBOOT_CMD_RESTART2 0xa1b2c3d4u
#define REBOOT_CMD_CAD_ON 0x89abcdefu
#define REBOOT_CMD_CAD_OFF 0x00000000u

/* The VM is the machine: halting, powering off or restarting ends it. */
long sys_reboot(unsigned magic1, unsigned magic2, unsigned cmd, void __user *arg)
{
    (void)arg;
    if (magic1 != REBOOT_MAGIC1 || (magic2 != REBOOT_MAGIC2 && magic2 != REBOOT_MAGIC2A &&
                                    magic2 != REBOOT_MAGIC2B && magic2 != REBOOT_MAGIC2C))
        return -EINVAL;
    switch (cmd) {
    case REBOOT_CMD_CAD_ON:
    case REBOOT_CMD_CAD_OFF:
        return 0;
    case REBOOT_CMD_HALT:
    case REBOOT_CMD_POWER_OFF:
    case REBOOT_CMD_RESTART:
    case REBOOT_CMD_RESTART2:
        pr_info("reboot: the application asked to %s; stopping the VM\n",
                cmd == REBOOT_CMD_HALT ? "halt" : cmd == REBOOT_CMD_POWER_OFF ? "power off" : "restart");
        system_exit(0); /* the machine: every process ends with it */
    default:
        return -EINVAL;
    }
}

/* A restarted call after a signal handler: Osprey restarts system calls by
 * re-running them, so this is only reached when called directly. */
long sys_restart_syscall(void)
{
    return -EINTR;
}

struct iovec_abi {
    uint64_t base, len;
};

/* process_vm_readv/writev: the only process is this one, so a copy between
 * two ranges of its own memory. */
static long process_vm_copy(int pid, const struct iovec_abi __user *local, unsigned long nlocal,
                            const struct iovec_abi __user *remote, unsigned long nremote, unsigned long flags,
                            bool to_remote)
{
    if (flags)
        return -EINVAL;
    if (pid != proc_current()->pid && !proc_find_thread(proc_current(), pid))
        return -ESRCH;
    if (nlocal > 1024 || nremote > 1024)
        return -EINVAL;
    long done = 0;
    unsigned long li = 0, ri = 0;
    uint64_t loff = 0, roff = 0;
    char chunk[512];
    while (li < nlocal && ri < nremote) {
        struct iovec_abi l, r;
        if (copy_from_user(&l, &local[li], sizeof(l)) || copy_from_user(&r, &remote[ri], sizeof(r)))
            return done ? done : -EFAULT;
        if (loff == l.len) { li++, loff = 0; continue; }
        if (roff == r.len) { ri++, roff = 0; continue; }
        size_t n = MIN(MIN(l.len - loff, r.len - roff), sizeof(chunk));
        const void __user *src = (const void __user *)(to_remote ? l.base + loff : r.base + roff);
        void __user *dst = (void __user *)(to_remote ? r.base + roff : l.base + loff);
        if (copy_from_user(chunk, src, n) || copy_to_user(dst, chunk, n))
            return done ? done : -EFAULT;
        done += (long)n, loff += n, roff += n;
    }
    return done;
}

long sys_process_vm_readv(int pid, const struct iovec_abi __user *local, unsigned long nlocal,
                          const struct iovec_abi __user *remote, unsigned long nremote, unsigned long flags)
{
    return process_vm_copy(pid, local, nlocal, remote, nremote, flags, false);
}

long sys_process_vm_writev(int pid, const struct iovec_abi __user *local, unsigned long nlocal,
                           const struct iovec_abi __user *remote, unsigned long nremote, unsigned long flags)
{
    return process_vm_copy(pid, local, nlocal, remote, nremote, flags, true);
}
