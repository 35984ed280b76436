/* The vDSO: clock_gettime, gettimeofday, time, getcpu and clock_getres in
 * ring 3, reading the kernel's [vvar] page, so the hot time calls never
 * enter the kernel. User-space code: built as a shared object and mapped
 * into the application; anything it cannot answer goes to the real syscall. */
#include "exec/vdso_data.h"

#include <stddef.h>

#define NSEC_PER_SEC 1000000000ull
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

struct timespec_abi { long tv_sec, tv_nsec; };
struct timeval_abi { long tv_sec, tv_usec; };
struct timezone_abi { int tz_minuteswest, tz_dsttime; };

/* Placed by the linker script just below the vDSO's first page. */
extern const struct vdso_data vvar_data __attribute__((visibility("hidden")));
extern const struct vdso_pvclock vvar_pvclock __attribute__((visibility("hidden")));

static long vdso_syscall2(long nr, long a, long b)
{
    long ret;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

static long vdso_syscall3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static inline uint64_t rdtsc_ordered(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t pvclock_ns(const volatile struct vdso_pvclock *pv)
{
    uint32_t version;
    uint64_t ns;
    do {
        version = pv->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t delta = rdtsc_ordered() - pv->tsc_timestamp;
        int8_t shift = pv->tsc_shift;
        delta = shift < 0 ? delta >> -shift : delta << shift;
        ns = pv->system_time + (uint64_t)(((unsigned __int128)delta * pv->tsc_to_system_mul) >> 32);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != pv->version);
    return ns;
}

/* Monotonic and realtime ns; 0 when user space cannot tell (use the syscall). */
static int vdso_now(uint64_t *mono, uint64_t *epoch)
{
    const volatile struct vdso_data *d = &vvar_data;
    uint32_t seq;
    do {
        seq = d->seq;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (d->mode == VDSO_MODE_TSC) {
            uint64_t tsc = rdtsc_ordered(), base = d->tsc_base;
            uint64_t delta = tsc > base ? tsc - base : 0;
            *mono = (uint64_t)(((unsigned __int128)delta * d->ns_per_tick_fp) >> 32);
        } else if (d->mode == VDSO_MODE_PVCLOCK) {
            *mono = pvclock_ns(&vvar_pvclock) - d->pvclock_offset_ns;
        } else {
            return 0;
        }
        *epoch = d->epoch_ns;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((seq & 1) || seq != d->seq);
    return 1;
}

static void ns_to_ts(uint64_t ns, struct timespec_abi *ts)
{
    ts->tv_sec = (long)(ns / NSEC_PER_SEC);
    ts->tv_nsec = (long)(ns % NSEC_PER_SEC);
}

int __vdso_clock_gettime(int clock, struct timespec_abi *ts)
{
    uint64_t mono, epoch;
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        if (!vdso_now(&mono, &epoch))
            break;
        ns_to_ts(mono + epoch, ts);
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        if (!vdso_now(&mono, &epoch))
            break;
        ns_to_ts(mono, ts);
        return 0;
    default:
        break;
    }
    return (int)vdso_syscall2(SYS_clock_gettime, clock, (long)ts);
}

int __vdso_gettimeofday(struct timeval_abi *tv, struct timezone_abi *tz)
{
    uint64_t mono, epoch;
    if (!vdso_now(&mono, &epoch))
        return (int)vdso_syscall2(SYS_gettimeofday, (long)tv, (long)tz);
    if (tv) {
        uint64_t ns = mono + epoch;
        tv->tv_sec = (long)(ns / NSEC_PER_SEC);
        tv->tv_usec = (long)(ns % NSEC_PER_SEC / 1000);
    }
    if (tz)
        tz->tz_minuteswest = tz->tz_dsttime = 0;
    return 0;
}

long __vdso_time(long *t)
{
    uint64_t mono, epoch;
    if (!vdso_now(&mono, &epoch))
        return vdso_syscall2(SYS_time, (long)t, 0);
    long s = (long)((mono + epoch) / NSEC_PER_SEC);
    if (t)
        *t = s;
    return s;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
    if (!vvar_data.have_rdtscp)
        return (int)vdso_syscall3(SYS_getcpu, (long)cpu, (long)node, (long)unused);
    uint32_t lo, hi, aux;
    __asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    if (cpu)
        *cpu = aux & 0xfff;
    if (node)
        *node = 0;
    return 0;
}

int __vdso_clock_getres(int clock, struct timespec_abi *res)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
        if (vvar_data.mode == VDSO_MODE_SYSCALL)
            break;
        if (res) {
            res->tv_sec = 0;
            res->tv_nsec = (long)vvar_data.resolution_ns;
        }
        return 0;
    default:
        break;
    }
    return (int)vdso_syscall2(SYS_clock_getres, clock, (long)res);
}

/* The unprefixed names, as Linux's vDSO also exports them. */
int clock_gettime(int, struct timespec_abi *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_abi *, struct timezone_abi *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(int, struct timespec_abi *) __attribute__((weak, alias("__vdso_clock_getres")));
