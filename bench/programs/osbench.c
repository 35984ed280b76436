/* osbench: the benchmark program. `hello` reports when main began, `micro` runs
 * micro-benchmarks, `spawn` runs another program; `--init` makes it a Linux /init. */
#define _GNU_SOURCE
#include "osbench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

/* Taken first thing in main, before libc does anything on our behalf. */
static uint64_t main_tsc;
static uint64_t main_mono_ns;
static uint64_t main_boot_ns;

static int cmd_hello(void)
{
    printf("OSB boot tsc=%llu mono_ns=%llu boottime_ns=%llu\n", (unsigned long long)main_tsc,
           (unsigned long long)main_mono_ns, (unsigned long long)main_boot_ns);
    printf("hello, world\n");
    return 0;
}

/* The TSC rate against CLOCK_MONOTONIC over about 200 ms. */
static int cmd_tsc_khz(void)
{
    uint64_t t0 = now_ns(), c0 = rdtsc();
    struct timespec nap = { 0, 200 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    uint64_t t1 = now_ns(), c1 = rdtsc();
    printf("OSB tsc khz=%llu\n", (unsigned long long)((c1 - c0) * 1000000ull / (t1 - t0)));
    return 0;
}

/* Run a program to completion, as an init would. */
static int cmd_spawn(char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("osbench: fork");
        return 125;
    }
    if (pid == 0) {
        execv(argv[0], argv);
        perror("osbench: exec");
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 125;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* As Linux's PID 1: the file systems the benchmarks expect. The initramfs
 * itself is the root, so /tmp gets a tmpfs of its own, as in Osprey. */
static void init_mounts(void)
{
    mkdir("/tmp", 01777);
    if (mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") != 0)
        perror("osbench: mount /tmp");
    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", 0, NULL) != 0)
        perror("osbench: mount /proc");
}

/* PID 1 must not return: leave through QEMU's isa-debug-exit, which makes
 * QEMU exit with (status << 1) | 1. */
static void init_power_off(int status)
{
    printf("OSB exit status=%d\n", status);
    fflush(stdout);
    fflush(stderr);
    /* the serial driver sends what was written by interrupt: let it finish
     * before QEMU ends, or the last lines (often the telling ones) are lost */
    tcdrain(STDOUT_FILENO);
    tcdrain(STDERR_FILENO);
    if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
        outb((unsigned char)status, DEBUG_EXIT_PORT);
    perror("osbench: isa-debug-exit");
    for (;;)
        pause();
}

static int usage(void)
{
    fprintf(stderr, "usage: osbench [--init [INIT-OPTIONS]] hello | tsc-khz | "
                    "micro [OPTIONS] [NAME...] | disk [OPTIONS] seq|random FILE | "
                    "spawn PROGRAM [ARGS...]\n");
    return 2;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 1)
        return usage();
    if (strcmp(argv[0], "hello") == 0)
        return cmd_hello();
    if (strcmp(argv[0], "tsc-khz") == 0)
        return cmd_tsc_khz();
    if (strcmp(argv[0], "micro") == 0)
        return micro_main(argc, argv);
    if (strcmp(argv[0], "disk") == 0)
        return disk_main(argc, argv);
    if (strcmp(argv[0], "spawn") == 0 && argc > 1)
        return cmd_spawn(argv + 1);
    return usage();
}

int main(int argc, char **argv)
{
    /* a nop that bench/qemu-plugin/insn_count.c recognises as "main begins" */
    __asm__ volatile(".byte 0x0f, 0x1f, 0x84, 0x00, 0x4f, 0x53, 0x42, 0x4d");
    main_tsc = rdtsc();
    main_mono_ns = clock_ns(CLOCK_MONOTONIC);
    main_boot_ns = clock_ns(CLOCK_BOOTTIME);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int as_init = argc > 1 && strcmp(argv[1], "--init") == 0;
    int skip = 1 + as_init, status = 125;
    if (as_init) {
        init_mounts();
        int used = init_options(argc - skip, argv + skip);
        if (used < 0)
            init_power_off(status);
        skip += used;
    }
    status = dispatch(argc - skip, argv + skip);
    fflush(stdout);
    if (as_init)
        init_power_off(status);
    return status;
}
