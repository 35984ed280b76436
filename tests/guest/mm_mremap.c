/* Guest test: mremap(2) — growing in place, moving (the data follows),
 * shrinking, MREMAP_FIXED, MREMAP_DONTUNMAP, and the error cases. */
#include "check.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define PG 4096ul
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void *raw_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

static void fill(char *p, size_t pages, char base)
{
    for (size_t i = 0; i < pages; i++)
        memset(p + i * PG, base + (char)i, PG);
}

static bool holds(const char *p, size_t pages, char base)
{
    for (size_t i = 0; i < pages; i++)
        if (p[i * PG] != base + (char)i || p[i * PG + PG - 1] != base + (char)i)
            return false;
    return true;
}

/* Is [p, p+len) mapped at all? mincore fails with ENOMEM on holes. */
static bool mapped(void *p, size_t len)
{
    unsigned char vec[64];
    return mincore(p, len, vec) == 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* a reservation to work in, so nothing else lands next to our mappings */
    char *area = mmap(NULL, 256 * PG, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
    char *a = mmap(area, 4 * PG, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0);
    munmap(area + 4 * PG, 12 * PG);
    fill(a, 4, 'a');
    char *g = mremap(a, 4 * PG, 8 * PG, 0);
    CHECK(g == a && holds(a, 4, 'a'), "grow in place into free space");
    a[7 * PG] = 'z';
    CHECK(a[7 * PG] == 'z', "the new part is usable");
    mmap(area + 8 * PG, PG, PROT_READ, ANON | MAP_FIXED, -1, 0);
    errno = 0;
    CHECK(mremap(a, 8 * PG, 16 * PG, 0) == MAP_FAILED && errno == ENOMEM,
          "blocked and not allowed to move: ENOMEM");
    char *m = mremap(a, 8 * PG, 16 * PG, MREMAP_MAYMOVE);
    CHECK(m != MAP_FAILED && m != a && holds(m, 4, 'a') && m[7 * PG] == 'z', "MREMAP_MAYMOVE moves the data");
    CHECK(!mapped(a, PG), "the old place is unmapped");
    CHECK(m[12 * PG] == 0, "the grown part reads zeros");
    CHECK(mremap(m, 16 * PG, 2 * PG, 0) == m && !mapped(m + 2 * PG, PG) && holds(m, 2, 'a'),
          "shrinking unmaps the tail");
    char *fixed = area + 100 * PG;
    char *f = mremap(m, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, fixed);
    CHECK(f == fixed && holds(f, 2, 'a') && !mapped(m, PG), "MREMAP_FIXED moves to the given place, replacing the reservation");
    char *d = mremap(f, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL); /* glibc reads new_addr */
    if (d == MAP_FAILED && errno == EINVAL) {
        printf("skip MREMAP_DONTUNMAP (kernel older than 5.7)\n");
    } else {
        CHECK(d != MAP_FAILED && holds(d, 2, 'a'), "MREMAP_DONTUNMAP moves the data");
        CHECK(mapped(f, 2 * PG) && f[0] == 0, "and leaves the old range mapped, empty");
        munmap(d, 2 * PG);
    }
    errno = 0;
    CHECK(raw_mremap(f + 1, PG, PG, 0, 0) == MAP_FAILED && errno == EINVAL, "an unaligned address: EINVAL");
    CHECK(raw_mremap(f, PG, 0, MREMAP_MAYMOVE, 0) == MAP_FAILED && errno == EINVAL, "a new size of 0: EINVAL");
    CHECK(raw_mremap(f, PG, 2 * PG, MREMAP_FIXED, area) == MAP_FAILED && errno == EINVAL,
          "MREMAP_FIXED without MREMAP_MAYMOVE: EINVAL");
    CHECK(raw_mremap(f, PG, 2 * PG, 8, 0) == MAP_FAILED && errno == EINVAL, "an unknown flag: EINVAL");
    CHECK(raw_mremap(f, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, f - PG) == MAP_FAILED && errno == EINVAL,
          "overlapping old and new ranges: EINVAL");
    char *hole = area + 50 * PG;
    munmap(hole, PG);
    CHECK(raw_mremap(hole, PG, 2 * PG, MREMAP_MAYMOVE, 0) == MAP_FAILED && errno == EFAULT,
          "growing unmapped memory: EFAULT");
    CHECK(raw_mremap(f, 4 * PG, 8 * PG, MREMAP_MAYMOVE, 0) == MAP_FAILED && errno == EFAULT,
          "an old range past the end of its mapping: EFAULT");
    void *r = raw_mremap(f, PG, 0x7ffffffff000ul, MREMAP_MAYMOVE, 0);
    CHECK(r == MAP_FAILED && errno == ENOMEM, "no room anywhere: ENOMEM (%s)", strerror(errno));
    munmap(area, 256 * PG);
    munmap(f, 2 * PG);
    return check_exit();
}
