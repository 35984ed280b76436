/* Guest test: /proc/self/maps shows the truth in Linux's exact format
 * (anonymous, file, [heap], [stack]), and /proc/self/smaps counts the pages
 * that were touched. */
#include "check.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096ul

static char buf[1 << 18];

static const char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    size_t len = 0;
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    buf[len] = 0;
    return buf;
}

/* The line of `text` that starts with `prefix`, copied out, or NULL. */
static const char *line_starting(const char *text, const char *prefix)
{
    static char line[512];
    size_t n = strlen(prefix);
    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len >= n && !strncmp(l, prefix, n) && len < sizeof(line)) {
            memcpy(line, l, len);
            line[len] = 0;
            return line;
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char *a = mmap((void *)0x500000000ul, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *r = mmap((void *)0x500010000ul, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *s = mmap((void *)0x500020000ul, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(a == (void *)0x500000000ul && r == (void *)0x500010000ul && s == (void *)0x500020000ul, "mappings at the hinted places");
    a[0] = 1;
    a[PG] = 1;
    if (access("/proc/self/maps", R_OK) != 0) {
        printf("skip /proc/self/maps and smaps: no /proc (%s)\n", strerror(errno));
        return check_exit();
    }
    const char *maps = slurp("/proc/self/maps");
    const char *l = line_starting(maps, "500000000-");
    CHECK(l && !strcmp(l, "500000000-500003000 rw-p 00000000 00:00 0 "),
          "an anonymous mapping: \"%s\" (with the trailing space)", l ? l : "(missing)");
    l = line_starting(maps, "500010000-");
    CHECK(l && !strcmp(l, "500010000-500011000 r--p 00000000 00:00 0 "), "a read-only one: \"%s\"", l ? l : "(missing)");
    l = line_starting(maps, "500020000-");
    CHECK(l && !strncmp(l, "500020000-500021000 rw-s 00000000 ", 34) && strstr(l, "/dev/zero (deleted)"),
          "shared anonymous memory: \"%s\"", l ? l : "(missing)");
    CHECK(l && strlen(l) > 73 && l[72] == ' ' && l[73] == '/', "names start at column 73");
    CHECK(strstr(maps, "[stack]\n") != NULL, "the stack is named [stack]");
    void *brk_now = (void *)syscall(SYS_brk, 0);
    syscall(SYS_brk, (char *)brk_now + PG);
    maps = slurp("/proc/self/maps");
    CHECK(strstr(maps, "[heap]\n") != NULL, "a grown brk heap is named [heap]");
    syscall(SYS_brk, brk_now);

    char path[] = "/tmp/mm_maps_XXXXXX";
    int fd = mkstemp(path);
    char page[2 * PG];
    memset(page, 'f', sizeof(page));
    bool wrote = fd >= 0 && write(fd, page, sizeof(page)) == (ssize_t)sizeof(page);
    char *f = wrote ? mmap((void *)0x500030000ul, PG, PROT_READ, MAP_PRIVATE, fd, PG) : MAP_FAILED;
    maps = slurp("/proc/self/maps");
    l = line_starting(maps, "500030000-");
    CHECK(f != MAP_FAILED && l && !strncmp(l, "500030000-500031000 r--p 00001000 ", 34) && strstr(l, path),
          "a file mapping shows its offset and path: \"%s\"", l ? l : "(missing)");
    if (f != MAP_FAILED)
        munmap(f, PG);
    if (fd >= 0) {
        unlink(path);
        close(fd);
    }

    const char *smaps = slurp("/proc/self/smaps");
    const char *at = strstr(smaps, "500000000-500003000 ");
    const char *rss = at ? strstr(at, "\nRss:") : NULL;
    unsigned long kb = 0;
    CHECK(rss && sscanf(rss, "\nRss: %lu kB", &kb) == 1 && kb == 8, "smaps: Rss of the touched pages is 8 kB (%lu)", kb);
    const char *size = at ? strstr(at, "\nSize:") : NULL;
    CHECK(size && sscanf(size, "\nSize: %lu kB", &kb) == 1 && kb == 12, "smaps: Size 12 kB");
    const char *anon = at ? strstr(at, "\nAnonymous:") : NULL;
    CHECK(anon && sscanf(anon, "\nAnonymous: %lu kB", &kb) == 1 && kb == 8, "smaps: Anonymous 8 kB");
    munmap(a, 3 * PG);
    munmap(r, PG);
    munmap(s, PG);
    return check_exit();
}
