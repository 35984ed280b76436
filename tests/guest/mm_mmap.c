/* Guest test: mmap(2) — anonymous and file mappings, hints, MAP_FIXED and
 * MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_32BIT, and the error cases. */
#include "check.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

#define PG 4096ul
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static bool fails_with(void *p, int err) { return p == MAP_FAILED && errno == err; }

/* The raw call, for the checks libc would make itself (length, offset). */
static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return (void *)r;
}

static void anonymous(void)
{
    unsigned char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, ANON, -1, 0);
    CHECK(p != MAP_FAILED && ((uintptr_t)p & (PG - 1)) == 0, "anonymous mmap returns a page-aligned address");
    bool zero = true;
    for (size_t i = 0; i < 16 * PG; i += 512)
        zero &= p[i] == 0;
    CHECK(zero, "anonymous memory reads as zeros");
    memset(p, 0x5a, 16 * PG);
    CHECK(p[16 * PG - 1] == 0x5a && p[0] == 0x5a, "and keeps what is written");
    CHECK(munmap(p, 16 * PG) == 0, "munmap");

    size_t big = 64ul << 20;
    unsigned char *b = mmap(NULL, big, PROT_READ | PROT_WRITE, ANON, -1, 0);
    bool ok = b != MAP_FAILED;
    for (size_t i = 0; ok && i < big; i += PG)
        b[i] = (unsigned char)(i >> 12);
    for (size_t i = 0; ok && i < big; i += PG)
        ok &= b[i] == (unsigned char)(i >> 12);
    CHECK(ok, "64 MiB touched page by page keeps every page's value");
    munmap(b, big);

    void *hint = (void *)0x300000000ul;
    void *h = mmap(hint, PG, PROT_READ, ANON, -1, 0);
    CHECK(h == hint, "a free hint is honoured (%p)", h);
    void *h2 = mmap(hint, PG, PROT_READ, ANON, -1, 0);
    CHECK(h2 != MAP_FAILED && h2 != hint, "an occupied hint is not (%p)", h2);
    CHECK(fails_with(mmap(hint, PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST),
          "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
    unsigned char *f = mmap(hint, PG, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0);
    CHECK(f == hint && f[5] == 0, "MAP_FIXED replaces it with fresh memory");
    f[5] = 1;
    munmap(h, PG);
    munmap(h2, PG);

    unsigned char *pop = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, ANON | MAP_POPULATE, -1, 0);
    unsigned char vec[8] = { 0 };
    CHECK(pop != MAP_FAILED && mincore(pop, 8 * PG, vec) == 0 && vec[0] && vec[7],
          "MAP_POPULATE maps every page at once");
    munmap(pop, 8 * PG);

    void *low = mmap(NULL, PG, PROT_READ, ANON | MAP_32BIT, -1, 0);
    CHECK(low != MAP_FAILED && (uintptr_t)low < 0x80000000ul, "MAP_32BIT stays below 2 GiB (%p)", low);
    munmap(low, PG);

    unsigned char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED && s[0] == 0, "shared anonymous memory");
    s[0] = 9;
    CHECK(madvise(s, 2 * PG, MADV_DONTNEED) == 0 && s[0] == 9, "keeps its contents through MADV_DONTNEED");
    munmap(s, 2 * PG);

    void *nr = mmap(NULL, 1ul << 40, PROT_READ | PROT_WRITE, ANON | MAP_NORESERVE, -1, 0);
    CHECK(nr != MAP_FAILED, "MAP_NORESERVE reserves 1 TiB");
    munmap(nr, 1ul << 40);
}

static void errors(void)
{
    CHECK(fails_with(mmap(NULL, 0, PROT_READ, ANON, -1, 0), EINVAL), "length 0: EINVAL");
    CHECK(fails_with(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL), "no MAP_PRIVATE/MAP_SHARED: EINVAL");
    CHECK(fails_with(raw_mmap(NULL, PG, PROT_READ, ANON, -1, 1), EINVAL), "unaligned offset: EINVAL");
    CHECK(fails_with(raw_mmap(NULL, 0, PROT_READ, MAP_PRIVATE, 1000, 0), EBADF),
          "a bad descriptor is checked before the length (EBADF)");
    CHECK(fails_with(raw_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 1000, 1), EINVAL),
          "the offset is checked before the descriptor (EINVAL)");
    CHECK(fails_with(mmap((void *)0x300000001ul, PG, PROT_READ, ANON | MAP_FIXED, -1, 0), EINVAL),
          "unaligned MAP_FIXED address: EINVAL");
    CHECK(fails_with(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), EINVAL),
          "MAP_SHARED_VALIDATE on anonymous memory: EINVAL");
    CHECK(fails_with(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 1000, 0), EBADF), "a closed descriptor: EBADF");
    CHECK(fails_with(raw_mmap(NULL, -PG, PROT_READ, ANON, -1, 0), ENOMEM), "a length near 2^64: ENOMEM");
    CHECK(fails_with(raw_mmap(NULL, -100ul, PROT_READ, ANON, -1, 0), ENOMEM), "a length that wraps when rounded: ENOMEM");
    void *huge = raw_mmap(NULL, 2ul << 20, PROT_READ, ANON | MAP_HUGETLB, -1, 0);
    CHECK(fails_with(huge, ENOMEM) || huge != MAP_FAILED, "MAP_HUGETLB: ENOMEM when no huge pages are reserved");
    if (huge != MAP_FAILED)
        munmap(huge, 2ul << 20);
    CHECK(fails_with(mmap((void *)0x7ffffffff000ul, 2 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0), ENOMEM),
          "MAP_FIXED past the top of user space: ENOMEM");
    CHECK(fails_with(mmap(NULL, 1ul << 46, PROT_READ | PROT_WRITE, ANON, -1, 0), ENOMEM),
          "64 TiB of writable private memory: ENOMEM (overcommit heuristic)");
}

static void files(void)
{
    char path[] = "/tmp/mm_mmap_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        CHECK(false, "cannot create a file in /tmp: %s", strerror(errno));
        return;
    }
    int ro = open(path, O_RDONLY);
    unlink(path);
    char data[3 * PG];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    CHECK(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data), "a 12 KiB file");
    char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED && memcmp(p, data, sizeof(data)) == 0, "a private file mapping shows the file");
    p[0] = 'X';
    char c;
    CHECK(pread(fd, &c, 1, 0) == 1 && c == 'a', "writes to it stay private (copy on write)");
    munmap(p, 3 * PG);
    char *q = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, PG);
    CHECK(q != MAP_FAILED && q[0] == data[PG], "an offset maps from that page");
    munmap(q, 2 * PG);
    char *s = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED, "a shared file mapping");
    if (s != MAP_FAILED) {
        s[1] = 'Y';
        CHECK(pread(fd, &c, 1, 1) == 1 && c == 'Y', "its writes reach the file");
        CHECK(pwrite(fd, "Z", 1, 2) == 1 && s[2] == 'Z', "the file's writes reach it");
        CHECK(msync(s, 3 * PG, MS_SYNC) == 0, "msync(MS_SYNC)");
        munmap(s, 3 * PG);
    }
    CHECK(fails_with(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0), EOPNOTSUPP),
          "MAP_SHARED_VALIDATE with an unknown flag: EOPNOTSUPP");
    CHECK(ro >= 0 && fails_with(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES),
          "a writable shared mapping of a read-only descriptor: EACCES");
    void *rop = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    CHECK(rop != MAP_FAILED, "a writable private one is fine");
    munmap(rop, PG);
    close(ro);
    char wpath[] = "/tmp/mm_mmap_w_XXXXXX";
    int w = mkstemp(wpath);
    int wo = w >= 0 ? open(wpath, O_WRONLY) : -1;
    CHECK(wo >= 0 && fails_with(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES),
          "a write-only descriptor: EACCES");
    if (w >= 0) {
        unlink(wpath);
        close(w);
        close(wo);
    }
    int pfd[2];
    if (pipe(pfd) != 0) {
        printf("skip mmap of a pipe: no pipes (%s)\n", strerror(errno));
    } else {
        CHECK(fails_with(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pfd[0], 0), ENODEV), "a pipe: ENODEV");
        close(pfd[0]);
        close(pfd[1]);
    }
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    anonymous();
    errors();
    files();
    return check_exit();
}
