/* Guest test: madvise (DONTNEED really frees: zeros afterwards), mincore,
 * msync, the mlock family and brk, with their error cases. */
#include "check.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#define PG 4096ul
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static bool fails(long r, int err) { return r == -1 && errno == err; }

static void advice(void)
{
    char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    memset(p, 0x77, 8 * PG);
    CHECK(madvise(p + 2 * PG, 4 * PG, MADV_DONTNEED) == 0, "MADV_DONTNEED");
    CHECK(p[2 * PG] == 0 && p[6 * PG - 1] == 0 && p[PG] == 0x77 && p[6 * PG] == 0x77,
          "the pages read zeros afterwards, the others kept their data");
    memset(p, 0x66, 8 * PG);
    CHECK(madvise(p, 8 * PG, MADV_FREE) == 0, "MADV_FREE");
    p[0] = 1; /* a write after MADV_FREE keeps the page */
    CHECK(p[0] == 1, "memory written after MADV_FREE keeps the new data");
    static const int hints[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK,
                                 MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP };
    bool all = true;
    for (unsigned i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        all &= madvise(p, 8 * PG, hints[i]) == 0;
    CHECK(all, "the hints are accepted");
    CHECK(fails(madvise(p, PG, 12345), EINVAL), "an unknown advice: EINVAL");
    CHECK(fails(madvise(p + 1, PG, MADV_NORMAL), EINVAL), "an unaligned address: EINVAL");
    CHECK(madvise(p, 0, MADV_DONTNEED) == 0, "length 0 succeeds");
    munmap(p + 4 * PG, PG);
    CHECK(fails(madvise(p, 8 * PG, MADV_WILLNEED), ENOMEM), "a hole in the range: ENOMEM");
    munmap(p, 8 * PG);
    char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(fails(madvise(s, PG, MADV_FREE), EINVAL), "MADV_FREE on shared memory: EINVAL");
    munmap(s, PG);
}

static void residency(void)
{
    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    unsigned char vec[4] = { 9, 9, 9, 9 };
    p[PG] = 1;
    CHECK(mincore(p, 4 * PG, vec) == 0 && !(vec[0] & 1) && (vec[1] & 1), "mincore: touched pages are resident, others not");
    CHECK(fails(mincore(p + 1, PG, vec), EINVAL), "mincore of an unaligned address: EINVAL");
    CHECK(fails(mincore(p, 4 * PG, (unsigned char *)8), EFAULT), "mincore into a bad buffer: EFAULT");
    munmap(p + 3 * PG, PG);
    CHECK(fails(mincore(p, 4 * PG, vec), ENOMEM), "mincore over a hole: ENOMEM");
    CHECK(msync(p, 3 * PG, MS_SYNC) == 0 && msync(p, 3 * PG, MS_ASYNC) == 0, "msync of anonymous memory");
    CHECK(fails(msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL), "msync with MS_SYNC|MS_ASYNC: EINVAL");
    CHECK(fails(msync(p + 1, PG, MS_SYNC), EINVAL), "msync of an unaligned address: EINVAL");
    CHECK(fails(msync(p, PG, 8), EINVAL), "msync with an unknown flag: EINVAL");
    CHECK(fails(msync(p, 4 * PG, MS_SYNC), ENOMEM), "msync over a hole: ENOMEM");
    munmap(p, 3 * PG);
}

static void locking(void)
{
    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    unsigned char vec[4] = { 0 };
    CHECK(mlock(p + 10, PG) == 0, "mlock (an unaligned start is rounded)");
    CHECK(mincore(p, 4 * PG, vec) == 0 && (vec[0] & 1) && (vec[1] & 1), "mlock faults the pages in");
    CHECK(munlock(p, 4 * PG) == 0, "munlock");
    long r = syscall(SYS_mlock2, p, PG, MLOCK_ONFAULT);
    CHECK(r == 0, "mlock2(MLOCK_ONFAULT)");
    CHECK(fails(syscall(SYS_mlock2, p, PG, 2), EINVAL), "mlock2 with an unknown flag: EINVAL");
    munmap(p + PG, PG);
    CHECK(fails(mlock(p, 4 * PG), ENOMEM), "mlock over a hole: ENOMEM");
    CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0 && munlockall() == 0, "mlockall and munlockall");
    CHECK(fails(mlockall(0), EINVAL) && fails(mlockall(MCL_ONFAULT), EINVAL) && fails(mlockall(64), EINVAL),
          "mlockall with no or bad flags: EINVAL");
    munmap(p, 4 * PG);
}

static void heap(void)
{
    uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
    CHECK(cur != 0, "brk(0) returns the current break (%#lx)", (unsigned long)cur);
    uintptr_t want = cur + 3 * PG + 123;
    CHECK((uintptr_t)syscall(SYS_brk, want) == want, "brk grows the heap to any byte");
    char *h = (char *)cur;
    memset(h, 0x11, 3 * PG);
    CHECK(h[3 * PG - 1] == 0x11, "the new heap is usable");
    CHECK((uintptr_t)syscall(SYS_brk, cur + PG) == cur + PG, "brk shrinks it");
    CHECK((uintptr_t)syscall(SYS_brk, cur + 2 * PG) == cur + 2 * PG && h[PG + 10] == 0,
          "grown again, the freed part reads zeros");
    CHECK((uintptr_t)syscall(SYS_brk, 1) == cur + 2 * PG, "a break below the start fails: the current one");
    CHECK((uintptr_t)syscall(SYS_brk, 0x7ffffffff000ul) == cur + 2 * PG,
          "a break into the stack fails: the current one");
    syscall(SYS_brk, cur);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    advice();
    residency();
    locking();
    heap();
    return check_exit();
}
