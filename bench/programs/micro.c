/* osbench micro-benchmarks of the kernel interface: syscall, vDSO clock, /dev/zero
 * read, thread create+join, futex ping-pong, mmap+touch+munmap, page faults. */
#define _GNU_SOURCE
#include "osbench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* from linux/futex.h, which musl-gcc does not see */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define PAGE 4096ul
#define MAP_BYTES (64ul << 20)

static int op_getpid(uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++)
        syscall(SYS_getpid);
    return 0;
}

/* musl and glibc both call the vDSO's clock_gettime when AT_SYSINFO_EHDR has one. */
static int op_clock(uint64_t iters)
{
    struct timespec ts;
    for (uint64_t i = 0; i < iters; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return 0;
}

static int zero_fd = -1;

static int setup_zero(const struct micro_options *opt)
{
    (void)opt;
    zero_fd = open("/dev/zero", O_RDONLY);
    return zero_fd < 0 ? -errno : 0;
}

static int op_zero(uint64_t iters)
{
    char c;
    for (uint64_t i = 0; i < iters; i++)
        if (read(zero_fd, &c, 1) != 1)
            return -errno;
    return 0;
}

static void teardown_zero(void)
{
    close(zero_fd);
}

static void *thread_noop(void *arg)
{
    return arg;
}

static int op_thread(uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++) {
        pthread_t t;
        int err = pthread_create(&t, NULL, thread_noop, NULL);
        if (err)
            return -err;
        pthread_join(t, NULL);
    }
    return 0;
}

/* Futex ping-pong: the word says whose turn it is; each side sleeps in
 * FUTEX_WAIT until the other hands the turn over with FUTEX_WAKE, so every
 * round trip is two wake-ups and two context switches. */
static _Atomic int turn;
static uint64_t pong_iters;

static long futex(_Atomic int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);   /* best effort: reported by "cpus" */
}

static void wait_for(int want)
{
    int v;
    while ((v = atomic_load(&turn)) != want)
        futex(&turn, FUTEX_WAIT_PRIVATE, v);
}

static void hand_over(int to)
{
    atomic_store(&turn, to);
    futex(&turn, FUTEX_WAKE_PRIVATE, 1);
}

static void *ponger(void *arg)
{
    (void)arg;
    pin_to_cpu(1);
    for (uint64_t i = 0; i < pong_iters; i++) {
        wait_for(1);
        hand_over(0);
    }
    return NULL;
}

static int op_pingpong(uint64_t iters)
{
    pthread_t t;
    cpu_set_t saved;
    int have_saved = sched_getaffinity(0, sizeof(saved), &saved) == 0;
    pong_iters = iters;
    atomic_store(&turn, 0);
    pin_to_cpu(0);
    int err = pthread_create(&t, NULL, ponger, NULL);
    if (!err) {
        for (uint64_t i = 0; i < iters; i++) {
            hand_over(1);
            wait_for(0);
        }
        pthread_join(t, NULL);
    }
    if (have_saved)
        sched_setaffinity(0, sizeof(saved), &saved);
    return -err;
}

static void touch_pages(volatile char *p, size_t bytes)
{
    for (size_t off = 0; off < bytes; off += PAGE)
        p[off] = 1;
}

/* The system's default policy for a large anonymous mapping (2 MiB pages
 * where the kernel uses them): what an allocator-heavy application sees. */
static int op_mmap64(uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++) {
        char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -errno;
        touch_pages(p, MAP_BYTES);
        munmap(p, MAP_BYTES);
    }
    return 0;
}

/* One op = one 4 KiB demand fault: 2 MiB pages are refused with
 * MADV_NOHUGEPAGE; the mmap and munmap of each 64 MiB area are timed too,
 * spread over its 16384 faults. */
static char *fault_area;
static size_t fault_next;

static int setup_faults(const struct micro_options *opt)
{
    (void)opt;
    fault_area = NULL;
    fault_next = 0;
    return 0;
}

static int fault_area_new(void)
{
    if (fault_area)
        munmap(fault_area, MAP_BYTES);
    fault_area = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fault_area == MAP_FAILED) {
        fault_area = NULL;
        return -errno;
    }
    madvise(fault_area, MAP_BYTES, MADV_NOHUGEPAGE);
    fault_next = 0;
    return 0;
}

static int op_faults(uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++) {
        if (!fault_area || fault_next >= MAP_BYTES) {
            int err = fault_area_new();
            if (err)
                return err;
        }
        ((volatile char *)fault_area)[fault_next] = 1;
        fault_next += PAGE;
    }
    return 0;
}

static void teardown_faults(void)
{
    if (fault_area)
        munmap(fault_area, MAP_BYTES);
    fault_area = NULL;
}

const struct micro micro_cpu[] = {
    { "getpid", "ns", 1e9, 0, NULL, op_getpid, NULL },
    { "clock_gettime", "ns", 1e9, 0, NULL, op_clock, NULL },
    { "read_devzero", "ns", 1e9, 0, setup_zero, op_zero, teardown_zero },
    { "thread_create_join", "us", 1e6, 0, NULL, op_thread, NULL },
    { "futex_pingpong", "us", 1e6, 0, NULL, op_pingpong, NULL },
    { "mmap_touch_munmap_64m", "ms", 1e3, 0, NULL, op_mmap64, NULL },
    { "page_faults", "kfaults/s", 1e-3, 1, setup_faults, op_faults, teardown_faults },
};
const unsigned micro_cpu_count = sizeof(micro_cpu) / sizeof(micro_cpu[0]);

/* ---- the harness ---- */

static const struct micro *micro_find(const char *name)
{
    for (unsigned i = 0; i < micro_cpu_count; i++)
        if (strcmp(micro_cpu[i].name, name) == 0)
            return &micro_cpu[i];
    for (unsigned i = 0; i < micro_file_count; i++)
        if (strcmp(micro_file[i].name, name) == 0)
            return &micro_file[i];
    return NULL;
}

/* Seconds for `iters` operations, or a negative errno. */
static double timed(const struct micro *m, uint64_t iters, int *err)
{
    uint64_t t0 = now_ns();
    *err = m->op(iters);
    return (double)(now_ns() - t0) / 1e9;
}

/* Double the count until a batch takes a quarter of a run, then scale it. */
static uint64_t calibrate(const struct micro *m, double run_s, int *err)
{
    uint64_t iters = 1;
    for (;;) {
        double s = timed(m, iters, err);
        if (*err)
            return 0;
        if (s >= run_s / 4 || iters >= (1ull << 40)) {
            double per = s / (double)iters;
            uint64_t n = per > 0 ? (uint64_t)(run_s / per) : iters;
            return n ? n : 1;
        }
        iters *= 2;
    }
}

static void run_one(const struct micro *m, const struct micro_options *opt)
{
    int err = m->setup ? m->setup(opt) : 0;
    uint64_t iters = err ? 0 : calibrate(m, opt->run_ms / 1000.0, &err);
    if (err) {
        printf("OSB micro name=%s error=%s\n", m->name, strerror(-err));
        if (m->teardown)
            m->teardown();
        return;
    }
    for (unsigned r = 0; r < opt->runs && !err; r++) {
        double per = timed(m, iters, &err) / (double)iters;
        if (err)
            break;
        double value = m->rate ? m->scale / per : per * m->scale;
        printf("OSB micro name=%s unit=%s run=%u iters=%llu value=%.6g\n", m->name, m->unit, r,
               (unsigned long long)iters, value);
        fflush(stdout);
    }
    if (err)
        printf("OSB micro name=%s error=%s\n", m->name, strerror(-err));
    if (m->teardown)
        m->teardown();
}

static int usage(void)
{
    fprintf(stderr, "usage: osbench micro [-r RUNS] [-t MS] [-d DIR] [-f MIB] [NAME...]\nnames:");
    for (unsigned i = 0; i < micro_cpu_count; i++)
        fprintf(stderr, " %s", micro_cpu[i].name);
    for (unsigned i = 0; i < micro_file_count; i++)
        fprintf(stderr, " %s", micro_file[i].name);
    fprintf(stderr, "\n");
    return 2;
}

int micro_main(int argc, char **argv)
{
    struct micro_options opt = { .runs = 5, .run_ms = 100, .dir = "/tmp", .file_mib = 16 };
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-r") == 0)
            opt.runs = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-t") == 0)
            opt.run_ms = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-d") == 0)
            opt.dir = argv[i + 1];
        else if (strcmp(argv[i], "-f") == 0)
            opt.file_mib = (unsigned)atoi(argv[i + 1]);
        else
            return usage();
    }
    if (!opt.runs || !opt.run_ms || !opt.file_mib)
        return usage();
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : -1;
    printf("OSB micro-start cpus=%d online=%ld\n", cpus, sysconf(_SC_NPROCESSORS_ONLN));
    int status = 0;
    if (i == argc) {
        for (unsigned k = 0; k < micro_cpu_count; k++)
            run_one(&micro_cpu[k], &opt);
        for (unsigned k = 0; k < micro_file_count; k++)
            run_one(&micro_file[k], &opt);
    }
    for (; i < argc; i++) {
        const struct micro *m = micro_find(argv[i]);
        if (!m) {
            fprintf(stderr, "osbench: unknown benchmark %s\n", argv[i]);
            status = 2;
            continue;
        }
        run_one(m, &opt);
    }
    fflush(stdout);
    return status;
}
