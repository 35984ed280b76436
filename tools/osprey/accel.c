/* Choosing the accelerator, and the host TSC frequency that software
 * emulation hands to the guest (whose TSC is then the host's). */
#include "osprey.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* KVM only with hardware virtualization: some hosts expose a /dev/kvm that
 * emulates the guest kernel instead of running it (e.g. PVM), far slower than
 * software emulation for a kernel that lives in ring 0 most of the time. */
bool host_has_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[8192];
    bool hw = false;
    while (!hw && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        hw = strstr(line, " vmx") || strstr(line, " svm");
    }
    fclose(f);
    return hw;
}

#if defined(__x86_64__)
static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of five 2 ms measurements against CLOCK_MONOTONIC_RAW. */
static uint64_t measure_tsc_khz(void)
{
    uint64_t khz[5];
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = now_ns(), c0 = rdtsc(), t1;
        while ((t1 = now_ns()) - t0 < 2000000)
            ;
        uint64_t c1 = rdtsc();
        khz[i] = (c1 - c0) * 1000000ull / (t1 - t0);
    }
    qsort(khz, 5, sizeof(khz[0]), cmp_u64);
    return khz[2];
}
#endif

static void read_boot_id(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (fgets(out, (int)size, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

static char *cache_path(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        return xasprintf("%s/osprey", xdg);
    if (home && *home)
        return xasprintf("%s/.cache/osprey", home);
    return NULL;
}

/* The TSC frequency is fixed for a host boot, so it is measured once per
 * boot and cached; a failing cache only costs a measurement. */
uint64_t host_tsc_khz(void)
{
#if defined(__x86_64__)
    char boot_id[64], cached_id[64];
    read_boot_id(boot_id, sizeof(boot_id));
    char *dir = cache_path();
    char *file = dir ? xasprintf("%s/tsc-khz", dir) : NULL;
    unsigned long long khz = 0;
    FILE *f = file && boot_id[0] ? fopen(file, "r") : NULL;
    if (f) {
        if (fscanf(f, "%63s %llu", cached_id, &khz) != 2 || strcmp(cached_id, boot_id) != 0)
            khz = 0;
        fclose(f);
    }
    if (!khz) {
        khz = measure_tsc_khz();
        if (file && boot_id[0]) {
            mkdir(dir, 0755);
            char *tmp = xasprintf("%s.%d", file, (int)getpid());
            f = fopen(tmp, "w");
            if (f) {
                fprintf(f, "%s %llu\n", boot_id, khz);
                if (fclose(f) == 0)
                    rename(tmp, file);
            }
            unlink(tmp);
            free(tmp);
        }
    }
    free(file);
    free(dir);
    return khz;
#else
    return 0; /* another host architecture: the guest calibrates itself */
#endif
}
