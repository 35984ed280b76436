/* System information and limits: uname, host names, sysinfo, getrandom,
 * resource limits and usage, prctl, priorities. */
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/uts.h"
#include "fs/fdtable.h"
#include "fs/random.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"

static char hostname[UTS_LEN] = "osprey";
static char domainname[UTS_LEN] = "(none)";

const char *uts_hostname(void) { return hostname; }
const char *uts_domainname(void) { return domainname; }

static int set_name(char *dst, const char *name, size_t len)
{
    if (len >= UTS_LEN)
        return -EINVAL;
    memcpy(dst, name, len);
    dst[len] = '\0';
    return 0;
}

int uts_set_hostname(const char *name, size_t len) { return set_name(hostname, name, len); }
int uts_set_domainname(const char *name, size_t len) { return set_name(domainname, name, len); }

struct utsname_abi {
    char sysname[UTS_LEN], nodename[UTS_LEN], release[UTS_LEN], version[UTS_LEN], machine[UTS_LEN],
        domainname[UTS_LEN];
};

long sys_uname(struct utsname_abi __user *buf)
{
    struct utsname_abi u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, UTS_SYSNAME, UTS_LEN);
    strlcpy(u.nodename, hostname, UTS_LEN);
    strlcpy(u.release, UTS_RELEASE, UTS_LEN);
    strlcpy(u.version, UTS_VERSION, UTS_LEN);
    strlcpy(u.machine, UTS_MACHINE, UTS_LEN);
    strlcpy(u.domainname, domainname, UTS_LEN);
    return copy_to_user(buf, &u, sizeof(u)) ? -EFAULT : 0;
}

static long set_uts(int (*set)(const char *, size_t), const char __user *name, int len)
{
    if (len < 0 || len >= UTS_LEN)
        return -EINVAL;
    char buf[UTS_LEN];
    if (copy_from_user(buf, name, (size_t)len))
        return -EFAULT;
    return set(buf, (size_t)len);
}

long sys_sethostname(const char __user *name, int len) { return set_uts(uts_set_hostname, name, len); }
long sys_setdomainname(const char __user *name, int len) { return set_uts(uts_set_domainname, name, len); }

struct sysinfo_abi {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    char reserved[4];
};

long sys_sysinfo(struct sysinfo_abi __user *info)
{
    struct sysinfo_abi s;
    memset(&s, 0, sizeof(s));
    struct phys_stats ps;
    phys_get_stats(&ps);
    s.uptime = (int64_t)(clock_monotonic_ns() / NSEC_PER_SEC);
    s.totalram = ps.total_pages * PAGE_SIZE;
    s.freeram = ps.free_pages * PAGE_SIZE;
    s.procs = (uint16_t)proc_current()->nthreads;
    s.mem_unit = 1;
    return copy_to_user(info, &s, sizeof(s)) ? -EFAULT : 0;
}

#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#define GRND_INSECURE 4

/* The generator is seeded before the application starts, so getrandom
 * never has to block. */
long sys_getrandom(void __user *buf, size_t len, unsigned flags)
{
    if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
        return -EINVAL;
    if (len > 33554431)
        len = 33554431; /* Linux's per-call maximum */
    uint8_t chunk[256];
    size_t done = 0;
    while (done < len) {
        size_t n = MIN(len - done, sizeof(chunk));
        random_get_bytes(chunk, n);
        if (copy_to_user((uint8_t __user *)buf + done, chunk, n))
            return done ? (long)done : -EFAULT;
        done += n;
    }
    memset(chunk, 0, sizeof(chunk));
    return (long)done;
}

/* ---- resource limits ---- */

static long rlimit_apply(struct proc *p, unsigned res, const struct rlimit64 *n)
{
    if (n->cur > n->max)
        return -EINVAL;
    if (res == PROC_RLIMIT_NOFILE) {
        if (n->cur > PROC_NOFILE_MAX || n->max > PROC_NOFILE_MAX)
            return -EPERM; /* fs.nr_open */
        int e = fd_table_set_limit(p->files, (unsigned)MAX(n->cur, 1ull));
        if (e)
            return e;
    }
    p->rlimits[res] = *n;
    return 0;
}

long sys_prlimit64(int pid, unsigned res, const struct rlimit64 __user *new_lim, struct rlimit64 __user *old_lim)
{
    struct proc *p = proc_current();
    if (pid && pid != p->pid && !proc_find_thread(p, pid))
        return -ESRCH;
    if (res >= PROC_RLIMIT_COUNT)
        return -EINVAL;
    struct rlimit64 n, old;
    if (new_lim && copy_from_user(&n, new_lim, sizeof(n)))
        return -EFAULT;
    irqflags_t f = spin_lock(&p->lock);
    old = p->rlimits[res];
    spin_unlock(&p->lock, f);
    if (new_lim) {
        long e = rlimit_apply(p, res, &n);
        if (e)
            return e;
    }
    if (old_lim && copy_to_user(old_lim, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

long sys_getrlimit(unsigned res, struct rlimit64 __user *lim)
{
    return sys_prlimit64(0, res, NULL, lim);
}

long sys_setrlimit(unsigned res, const struct rlimit64 __user *lim)
{
    return sys_prlimit64(0, res, lim, NULL);
}

/* ---- priorities ---- */

#define PRIO_PROCESS 0
#define PRIO_PGRP 1
#define PRIO_USER 2

long sys_getpriority(int which, int who)
{
    struct proc *p = proc_current();
    if (which < PRIO_PROCESS || which > PRIO_USER)
        return -EINVAL;
    if (who && who != p->pid && !(which == PRIO_PROCESS && proc_find_thread(p, who)) &&
        !(which == PRIO_USER && (uint32_t)who == p->uid))
        return -ESRCH;
    return 20 - p->nice; /* the syscall returns 20 - nice, as Linux */
}

long sys_setpriority(int which, int who, int prio)
{
    struct proc *p = proc_current();
    if (which < PRIO_PROCESS || which > PRIO_USER)
        return -EINVAL;
    if (who && who != p->pid && !(which == PRIO_PROCESS && proc_find_thread(p, who)) &&
        !(which == PRIO_USER && (uint32_t)who == p->uid))
        return -ESRCH;
    p->nice = prio < -20 ? -20 : prio > 19 ? 19 : prio; /* recorded; the scheduler treats all alike */
    return 0;
}
