/* Host tests of the cpio newc parser: archives built here entry by entry,
 * every kind of malformation, every truncation point of a good archive, and
 * name normalisation. */
#include "unit.h"
#include <string.h>

#include "fs/cpio.h"
#include <limits.h>
#include <sys/stat.h> /* the host's S_IF* values are Linux's */
#include "lib/errno.h"

struct arch {
    unsigned char buf[65536];
    size_t len;
};

static void put(struct arch *a, const void *p, size_t n)
{
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void pad(struct arch *a)
{
    while (a->len % 4)
        a->buf[a->len++] = 0;
}

/* One entry; namesize/extra let tests lie about the name. */
static void entry_raw(struct arch *a, const char *magic, const char *name, size_t namesize, uint32_t mode,
                      uint32_t ino, uint32_t nlink, const void *data, size_t size, uint32_t check)
{
    char h[CPIO_HEADER_SIZE + 1];
    snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, ino, mode, 0u,
             0u, nlink, 1700000000u, (unsigned)size, 0u, 0u, 1u, 3u, (unsigned)namesize, check);
    put(a, h, CPIO_HEADER_SIZE);
    put(a, name, namesize);
    pad(a);
    put(a, data, size);
    pad(a);
}

static void entry(struct arch *a, const char *name, uint32_t mode, const void *data, size_t size)
{
    entry_raw(a, "070701", name, strlen(name) + 1, mode, 0, 1, data, size, 0);
}

static void trailer(struct arch *a)
{
    entry(a, "TRAILER!!!", 0, "", 0);
}

static void good_archive(struct arch *a)
{
    a->len = 0;
    entry(a, ".", S_IFDIR | 0755, "", 0);
    entry(a, "bin", S_IFDIR | 0755, "", 0);
    entry(a, "bin/hello", S_IFREG | 0755, "hello world\n", 12);
    entry(a, "bin/sh", S_IFLNK | 0777, "hello", 5);
    entry_raw(a, "070701", "bin/link1", 10, S_IFREG | 0644, 42, 2, "", 0, 0);
    entry_raw(a, "070701", "bin/link2", 10, S_IFREG | 0644, 42, 2, "shared", 6, 0);
    entry(a, "dev/null", S_IFCHR | 0666, "", 0);
    trailer(a);
}

/* Parse everything; the number of entries, or the error. */
static int parse_all(const void *buf, size_t len, struct cpio_reader *r)
{
    struct cpio_entry e;
    int n = 0, rc;
    cpio_reader_init(r, buf, len);
    while ((rc = cpio_next(r, &e)) == 1)
        n++;
    return rc < 0 ? rc : n;
}

UNIT_TEST(cpio_good_archive)
{
    static struct arch a;
    good_archive(&a);
    struct cpio_reader r;
    struct cpio_entry e;
    cpio_reader_init(&r, a.buf, a.len);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_STR(e.name, ".");
    CHECK_EQ(e.mode, S_IFDIR | 0755);
    CHECK_EQ(e.mtime, 1700000000);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_STR(e.name, "bin");
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_STR(e.name, "bin/hello");
    CHECK_EQ(e.filesize, 12);
    CHECK(memcmp(e.data, "hello world\n", 12) == 0);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_STR(e.name, "bin/sh");
    CHECK(S_ISLNK(e.mode));
    CHECK(memcmp(e.data, "hello", 5) == 0);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_EQ(e.ino, 42);
    CHECK_EQ(e.nlink, 2);
    CHECK_EQ(e.filesize, 0);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK_STR(e.name, "bin/link2");
    CHECK_EQ(e.filesize, 6);
    CHECK_EQ(cpio_next(&r, &e), 1);
    CHECK(S_ISCHR(e.mode));
    CHECK_EQ(e.rdevmajor, 1);
    CHECK_EQ(e.rdevminor, 3);
    CHECK_EQ(cpio_next(&r, &e), 0);
    CHECK_EQ(cpio_next(&r, &e), 0); /* stays at the end */
}

UNIT_TEST(cpio_concatenated_and_padded)
{
    static struct arch a;
    a.len = 0;
    entry(&a, "a", S_IFREG | 0644, "1", 1);
    trailer(&a);
    memset(a.buf + a.len, 0, 512); /* the kernel's initramfs pads to 512 */
    a.len += 512;
    entry(&a, "b", S_IFREG | 0644, "2", 1);
    trailer(&a);
    struct cpio_reader r;
    CHECK_EQ(parse_all(a.buf, a.len, &r), 2);
}

UNIT_TEST(cpio_crc_format)
{
    static struct arch a;
    a.len = 0;
    unsigned sum = 'a' + 'b' + 'c';
    entry_raw(&a, "070702", "f", 2, S_IFREG | 0644, 1, 1, "abc", 3, sum);
    trailer(&a);
    struct cpio_reader r;
    CHECK_EQ(parse_all(a.buf, a.len, &r), 1);
    a.len = 0;
    entry_raw(&a, "070702", "f", 2, S_IFREG | 0644, 1, 1, "abc", 3, sum + 1);
    trailer(&a);
    CHECK_EQ(parse_all(a.buf, a.len, &r), -EINVAL);
    CHECK(strstr(r.err, "checksum") != NULL);
}

/* A one-entry archive that must be refused with `why` in the message. */
static void refuse(struct arch *a, const char *why)
{
    struct cpio_reader r;
    CHECK_EQ(parse_all(a->buf, a->len, &r), -EINVAL);
    if (!strstr(r.err, why))
        fprintf(stderr, "  message was: %s (wanted %s)\n", r.err, why);
    CHECK(strstr(r.err, why) != NULL);
}

UNIT_TEST(cpio_malformed_headers)
{
    static struct arch a;
    a.len = 0;
    entry(&a, "x", S_IFREG | 0644, "", 0);
    memcpy(a.buf, "070707", 6);
    refuse(&a, "odc");
    memcpy(a.buf, "ABCDEF", 6);
    refuse(&a, "bad magic");
    memcpy(a.buf, "070701", 6);
    a.buf[6 + 8 + 3] = 'g'; /* in mode */
    refuse(&a, "field mode");
    a.len = 50;
    refuse(&a, "truncated header");
    a.len = 0;
    refuse(&a, "without TRAILER");
    entry(&a, "x", S_IFREG | 0644, "", 0);
    refuse(&a, "without TRAILER");
}

UNIT_TEST(cpio_malformed_names)
{
    static struct arch a;
    a.len = 0;
    entry_raw(&a, "070701", "", 0, S_IFREG, 0, 1, "", 0, 0);
    trailer(&a);
    refuse(&a, "empty name");
    a.len = 0;
    entry_raw(&a, "070701", "abc", 3, S_IFREG, 0, 1, "", 0, 0); /* no NUL counted */
    trailer(&a);
    refuse(&a, "not NUL-terminated");
    a.len = 0;
    entry_raw(&a, "070701", "a\0b", 4, S_IFREG, 0, 1, "", 0, 0);
    trailer(&a);
    refuse(&a, "contains a NUL");
    a.len = 0;
    static char big[5000] = "a";
    entry_raw(&a, "070701", big, sizeof(big), S_IFREG, 0, 1, "", 0, 0);
    a.len = CPIO_HEADER_SIZE + 2;
    refuse(&a, "PATH_MAX");
    a.len = 0;
    entry_raw(&a, "070701", "abcdefgh", 9, S_IFREG, 0, 1, "", 0, 0);
    a.len = CPIO_HEADER_SIZE + 4;
    refuse(&a, "name runs past");
}

UNIT_TEST(cpio_malformed_data)
{
    static struct arch a;
    a.len = 0;
    entry(&a, "f", S_IFREG | 0644, "0123456789", 10);
    a.len -= 8;
    refuse(&a, "data runs past");
    a.len = 0;
    entry(&a, "d", S_IFDIR | 0755, "xx", 2);
    trailer(&a);
    refuse(&a, "directory with data");
    a.len = 0;
    entry(&a, "l", S_IFLNK | 0777, "", 0);
    trailer(&a);
    refuse(&a, "symlink target empty");
    a.len = 0;
    entry(&a, "l", S_IFLNK | 0777, "a\0b", 3);
    trailer(&a);
    refuse(&a, "symlink target contains NUL");
    a.len = 0;
    entry(&a, "w", 0170000 | 0644, "", 0);
    trailer(&a);
    refuse(&a, "unknown file type");
    a.len = 0;
    entry(&a, "c", S_IFCHR | 0644, "zz", 2);
    trailer(&a);
    refuse(&a, "special file with data");
    a.len = 0;
    entry(&a, "f", S_IFREG | 0644, "", 0);
    trailer(&a);
    put(&a, "junk", 4);
    refuse(&a, "after TRAILER");
}

UNIT_TEST(cpio_every_truncation_fails_cleanly)
{
    static struct arch a;
    good_archive(&a);
    struct cpio_reader r;
    CHECK_EQ(parse_all(a.buf, a.len, &r), 7);
    for (size_t len = 0; len < a.len; len++) {
        /* an exact copy of the prefix, so AddressSanitizer sees any overread */
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, a.buf, len);
        int rc = parse_all(copy, len, &r);
        CHECK(rc == -EINVAL);
        CHECK(r.err[0] != '\0');
        free(copy);
    }
}

static int norm(const char *in, char *out)
{
    return cpio_normalize_name(in, strlen(in), out, PATH_MAX);
}

static bool norm_is(const char *in, const char *expect)
{
    char *out = malloc(PATH_MAX);
    bool ok = norm(in, out) == 0 && strcmp(out, expect) == 0;
    if (!ok)
        fprintf(stderr, "  normalize(%s) gave \"%s\", wanted \"%s\"\n", in, out, expect);
    free(out);
    return ok;
}

UNIT_TEST(cpio_normalize)
{
    static char out[PATH_MAX];
    CHECK(norm_is("a/b", "a/b"));
    CHECK(norm_is("/usr/bin//env", "usr/bin/env"));
    CHECK(norm_is("./etc/./passwd/", "etc/passwd"));
    CHECK(norm_is(".", ""));
    CHECK(norm_is("/", ""));
    CHECK_EQ(norm("..", out), -EINVAL);
    CHECK_EQ(norm("a/../b", out), -EINVAL);
    CHECK_EQ(norm("../etc", out), -EINVAL);
    CHECK(norm_is("a/..b/c..", "a/..b/c.."));
    static char longname[400];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    CHECK_EQ(norm(longname, out), -ENAMETOOLONG);
    longname[255] = '\0';
    CHECK_EQ(norm(longname, out), 0);
    static char longpath[PATH_MAX + 10];
    for (int i = 0; i < PATH_MAX + 8; i += 2)
        longpath[i] = 'a', longpath[i + 1] = '/';
    longpath[PATH_MAX + 8] = '\0';
    CHECK_EQ(norm(longpath, out), -ENAMETOOLONG);
    char small[4];
    CHECK_EQ(cpio_normalize_name("abcd", 4, small, sizeof(small)), -ENAMETOOLONG);
    CHECK_EQ(cpio_normalize_name("abc", 3, small, sizeof(small)), 0);
}
