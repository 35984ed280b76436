/* The glibc dynamic linker's cache, /etc/ld.so.cache, in its current format
 * ("glibc-ld.so.cache" version "1.1", possibly after an old "ld.so-1.7.0"
 * table): a 48-byte header, 24-byte entries (flags, key and value string
 * offsets, OS version, hwcap), then strings. Offsets count from the start of
 * the new-format header. We want the baseline entry (hwcap 0) of an x86-64
 * libc6 library, as the dynamic linker would pick on any x86-64 CPU. */
#include "elfdeps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define OLD_MAGIC "ld.so-1.7.0"
#define NEW_HEADER 48
#define NEW_ENTRY 24
#define OLD_HEADER 16 /* magic and version (11 bytes), padding, nlibs */
#define OLD_ENTRY 12
#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_REQUIRED_MASK 0xff00
#define FLAG_X8664_LIB64 0x0300

static uint32_t le32(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static int cache_fail(struct ldcache *c, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "/etc/ld.so.cache is malformed: %s (run ldconfig)", why);
    free(c->data);
    memset(c, 0, sizeof(*c));
    return -1;
}

int ldcache_parse(struct ldcache *c, char *data, size_t size, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->data = data;
    c->size = size;
    size_t base = 0;
    if (size >= OLD_HEADER && memcmp(data, OLD_MAGIC, strlen(OLD_MAGIC)) == 0) {
        uint64_t nold = le32(data + 12);
        if (nold > size / OLD_ENTRY)
            return cache_fail(c, err, errlen, "old-format table larger than the file");
        base = (size_t)((OLD_HEADER + nold * OLD_ENTRY + 7) & ~7ull); /* new header: 8-aligned */
    }
    if (size < base + NEW_HEADER || memcmp(data + base, NEW_MAGIC, strlen(NEW_MAGIC)) != 0)
        return cache_fail(c, err, errlen, "no glibc-ld.so.cache1.1 header");
    uint64_t nlibs = le32(data + base + 20);
    if (nlibs > (size - base - NEW_HEADER) / NEW_ENTRY)
        return cache_fail(c, err, errlen, "more entries than the file holds");
    c->strings_base = base;
    c->entries = base + NEW_HEADER;
    c->nlibs = (size_t)nlibs;
    return 0;
}

int ldcache_load(struct ldcache *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > (64 << 20)) {
        close(fd);
        snprintf(err, errlen, "%s: unreadable or larger than 64 MiB", path);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    char *data = xmalloc(size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(data);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    return ldcache_parse(c, data, size, err, errlen);
}

/* The NUL-terminated string at offset off from the strings base, or NULL. */
static const char *cache_string(const struct ldcache *c, uint32_t off)
{
    uint64_t at = (uint64_t)c->strings_base + off;
    if (at >= c->size)
        return NULL;
    const char *s = c->data + at;
    return memchr(s, '\0', c->size - (size_t)at) ? s : NULL;
}

const char *ldcache_lookup(const struct ldcache *c, const char *soname)
{
    for (size_t i = 0; i < c->nlibs; i++) {
        const char *e = c->data + c->entries + i * NEW_ENTRY;
        uint32_t flags = le32(e);
        uint64_t hwcap = (uint64_t)le32(e + 16) | (uint64_t)le32(e + 20) << 32;
        if ((flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 || (flags & FLAG_REQUIRED_MASK) != FLAG_X8664_LIB64 || hwcap)
            continue;
        const char *key = cache_string(c, le32(e + 4)), *value = cache_string(c, le32(e + 8));
        if (key && value && value[0] == '/' && strcmp(key, soname) == 0)
            return value;
    }
    return NULL;
}
