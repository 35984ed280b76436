/* osbench: one static program run natively, inside Osprey and as the /init of a
 * Linux guest; shared helpers. Results are "OSB ..." lines that bench/run parses. */
#ifndef OSBENCH_H
#define OSBENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* How long each measured run lasts, how many runs, where files go. */
struct micro_options {
    unsigned runs;
    unsigned run_ms;
    const char *dir;
    unsigned file_mib;
};

/* A micro-benchmark: `op` performs `iters` operations and returns 0, or -errno
 * when the operation is not available. */
struct micro {
    const char *name;
    const char *unit;      /* what one printed value counts */
    double scale;          /* value printed: seconds per op * scale ... */
    int rate;              /* ... or, when rate is 1, scale / seconds per op */
    int (*setup)(const struct micro_options *opt);
    int (*op)(uint64_t iters);
    void (*teardown)(void);
};

extern const struct micro micro_cpu[];
extern const unsigned micro_cpu_count;
extern const struct micro micro_file[];
extern const unsigned micro_file_count;

int micro_main(int argc, char **argv);
int disk_main(int argc, char **argv);
/* the Linux /init's options before the command (initsetup.c) */
int init_options(int argc, char **argv);

#endif
