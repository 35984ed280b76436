/* Guest test: munmap and mprotect split and re-merge mappings (as
 * /proc/self/maps shows), and bad accesses raise SIGSEGV with the right
 * si_code and si_addr: SEGV_MAPERR for unmapped memory, SEGV_ACCERR for
 * PROT_NONE or a write to read-only memory. */
#include "check.h"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096ul
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* Mappings of /proc/self/maps that intersect [lo, hi), as "perms" strings.
 * Read with read(2) into a static buffer: stdio could allocate and the
 * allocation could land in the very hole being checked. */
static char maps_buf[1 << 16];

static int maps_in(uintptr_t lo, uintptr_t hi, char perms[][5], int max)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, maps_buf + len, sizeof(maps_buf) - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    maps_buf[len] = 0;
    int count = 0;
    for (char *line = maps_buf; *line;) {
        unsigned long s, e;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &s, &e, p) == 3 && s < hi && e > lo && count < max)
            memcpy(perms[count++], p, 5);
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return count;
}

static void splitting(void)
{
    char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    uintptr_t lo = (uintptr_t)p, hi = lo + 8 * PG;
    char perms[8][5];
    if (maps_in(lo, hi, perms, 8) < 0) {
        printf("skip splitting as /proc/self/maps shows it: no /proc (%s)\n", strerror(errno));
        munmap(p, 8 * PG);
        return;
    }
    CHECK(maps_in(lo, hi, perms, 8) == 1, "one mapping to start with");
    CHECK(mprotect(p + 2 * PG, 2 * PG, PROT_READ) == 0 && maps_in(lo, hi, perms, 8) == 3 &&
              !strcmp(perms[1], "r--p") && !strcmp(perms[0], "rw-p"),
          "mprotect of the middle splits it in three");
    CHECK(mprotect(p + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE) == 0 && maps_in(lo, hi, perms, 8) == 1,
          "and restoring the protection merges them again");
    p[5 * PG] = 7;
    CHECK(munmap(p + 4 * PG, PG) == 0 && maps_in(lo, hi, perms, 8) == 2, "munmap of one page leaves two");
    CHECK(p[5 * PG] == 7, "the data after the hole is intact");
    CHECK(munmap(p, 8 * PG) == 0 && maps_in(lo, hi, perms, 8) == 0, "munmap across the hole removes both");
}

static void argument_errors(void)
{
    char *p = mmap(NULL, 8 * PG, PROT_NONE, ANON, -1, 0);
    munmap(p, 8 * PG);
    CHECK(munmap(p, 8 * PG) == 0, "munmap of nothing succeeds");
    errno = 0;
    CHECK(munmap(p + 1, PG) == -1 && errno == EINVAL, "munmap of an unaligned address: EINVAL");
    CHECK(munmap(p, 0) == -1 && errno == EINVAL, "munmap of length 0: EINVAL");
    CHECK(mprotect(p, PG, PROT_READ) == -1 && errno == ENOMEM, "mprotect of unmapped memory: ENOMEM");
    /* the raw call: musl's mprotect rounds the address down */
    CHECK(syscall(SYS_mprotect, p + 1, PG, PROT_READ) == -1 && errno == EINVAL,
          "mprotect of an unaligned address: EINVAL");
    char *q = mmap(NULL, PG, PROT_READ, ANON, -1, 0);
    CHECK(mprotect(q, PG, 0x10) == -1 && errno == EINVAL, "mprotect with an unknown bit: EINVAL");
    CHECK(syscall(SYS_mprotect, q, PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP) == -1 && errno == EINVAL,
          "mprotect with PROT_GROWSDOWN|PROT_GROWSUP: EINVAL");
    CHECK(syscall(SYS_mprotect, q, PG, PROT_READ | PROT_GROWSDOWN) == -1 && errno == EINVAL,
          "PROT_GROWSDOWN on a mapping that does not grow down: EINVAL");
    CHECK(mprotect(q, 0, PROT_READ) == 0, "mprotect of length 0 succeeds");
    munmap(q, PG);
}

static sigjmp_buf jump;
static volatile siginfo_t last;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    last = *si;
    siglongjmp(jump, 1);
}

/* Run an access; true if it raised this signal with this code at this address. */
static bool raises(void (*access)(volatile char *), volatile char *addr, int sig, int code)
{
    memset((void *)&last, 0, sizeof(last));
    if (sigsetjmp(jump, 1) == 0) {
        access(addr);
        return false;
    }
    return last.si_signo == sig && last.si_code == code && last.si_addr == (void *)addr;
}

static bool faults(void (*access)(volatile char *), volatile char *addr, int code)
{
    return raises(access, addr, SIGSEGV, code);
}

static void do_read(volatile char *p) { (void)*p; }
static void do_write(volatile char *p) { *p = 1; }

static void signals(void)
{
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        CHECK(false, "sigaction: %s", strerror(errno));
        return;
    }
    char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    p[PG] = 42;
    mprotect(p + PG, PG, PROT_NONE);
    munmap(p + 2 * PG, PG);
    CHECK(faults(do_read, p + PG + 10, SEGV_ACCERR), "reading PROT_NONE memory: SIGSEGV/SEGV_ACCERR at the address");
    CHECK(faults(do_write, p + 2 * PG + 5, SEGV_MAPERR), "writing unmapped memory: SIGSEGV/SEGV_MAPERR");
    mprotect(p, PG, PROT_READ);
    CHECK(faults(do_write, p + 3, SEGV_ACCERR), "writing read-only memory: SEGV_ACCERR");
    CHECK(!faults(do_read, p + 3, 0), "reading it is fine");
    mprotect(p + PG, PG, PROT_READ);
    CHECK(p[PG] == 42, "PROT_NONE kept the data");
    CHECK(faults(do_read, (volatile char *)8, SEGV_MAPERR), "a NULL pointer: SEGV_MAPERR");
    munmap(p, 3 * PG);

    /* a file mapping longer than the file: the page past the end is SIGBUS */
    sigaction(SIGBUS, &sa, NULL);
    char path[] = "/tmp/mm_protect_XXXXXX";
    int fd = mkstemp(path);
    char *f = MAP_FAILED;
    if (fd >= 0 && write(fd, "0123456789", 10) == 10)
        f = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(f != MAP_FAILED && f[3] == '3' && f[10] == 0 && f[PG - 1] == 0,
          "a 10-byte file maps as a page: the rest of it reads zeros");
    if (f != MAP_FAILED) {
        CHECK(raises(do_read, f + PG + 7, SIGBUS, BUS_ADRERR), "the page past the end: SIGBUS/BUS_ADRERR at the address");
        munmap(f, 2 * PG);
    }
    if (fd >= 0) {
        unlink(path);
        close(fd);
    }
}

/* Deep recursion: the main stack grows on faults, well past its first pages. */
static unsigned burn_stack(unsigned depth)
{
    volatile char frame[16384];
    frame[0] = (char)depth;
    frame[sizeof(frame) - 1] = 1;
    if (depth == 0)
        return 1;
    return burn_stack(depth - 1) + (unsigned)frame[sizeof(frame) - 1];
}

static void stack_growth(void)
{
    CHECK(burn_stack(384) == 385, "the main stack grows to 6 MiB on faults");
    char *area = mmap(NULL, 64 * PG, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
    munmap(area, 64 * PG);
    char *g = mmap(area + 60 * PG, 4 * PG, PROT_READ | PROT_WRITE, ANON | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
    CHECK(g == area + 60 * PG, "a MAP_GROWSDOWN mapping");
    if (sigsetjmp(jump, 1) == 0) {
        g[-1] = 5;
        g[-(long)PG - 1] = 6;
        unsigned char vec[2];
        CHECK(g[-1] == 5 && mincore(g - 2 * PG, 2 * PG, vec) == 0, "touching below it grows it");
    } else {
        CHECK(0, "touching below a MAP_GROWSDOWN mapping raised signal %d", last.si_signo);
    }
    munmap(area, 64 * PG);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    splitting();
    argument_errors();
    signals();
    stack_growth();
    return check_exit();
}
