/* Tests of the ld.so.cache reader on a generated cache (new format alone and
 * after an old-format table) and on the host's own cache when it has one. */
#include "selftest.h"
#include "elfdeps.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cache_ent {
    int32_t flags;
    const char *key, *value;
    uint64_t hwcap;
};

static void le32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
}

/* old_entries: how many old-format entries come first (0: new format only) */
static char *make_cache(const struct cache_ent *e, unsigned n, unsigned old_entries, size_t *size)
{
    size_t base = old_entries ? ((16 + old_entries * 12 + 7) & ~(size_t)7) : 0;
    size_t strings = base + 48 + n * 24, len = strings;
    for (unsigned i = 0; i < n; i++)
        len += strlen(e[i].key) + strlen(e[i].value) + 2;
    char *c = calloc(1, len);
    if (old_entries) {
        memcpy(c, "ld.so-1.7.0", 11);
        le32(c + 12, old_entries);
    }
    memcpy(c + base, "glibc-ld.so.cache1.1", 20);
    le32(c + base + 20, n);
    size_t s = strings;
    for (unsigned i = 0; i < n; i++) {
        char *ent = c + base + 48 + i * 24;
        le32(ent, (uint32_t)e[i].flags);
        le32(ent + 4, (uint32_t)(s - base));
        strcpy(c + s, e[i].key), s += strlen(e[i].key) + 1;
        le32(ent + 8, (uint32_t)(s - base));
        strcpy(c + s, e[i].value), s += strlen(e[i].value) + 1;
        le32(ent + 16, (uint32_t)e[i].hwcap);
        le32(ent + 20, (uint32_t)(e[i].hwcap >> 32));
    }
    *size = len;
    return c;
}

static const struct cache_ent entries[] = {
    { 0x0303, "libz.so.1", "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1", 1ull << 62 },
    { 0x0303, "libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", 0 },
    { 0x0003, "libc.so.6", "/lib32/libc.so.6", 0 },           /* i386 */
    { 0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0 },
    { 0x0303, "libweird.so", "relative/path.so", 0 },
};

void st_ldcache(void)
{
    for (unsigned old = 0; old <= 3; old += 3) {
        size_t size;
        char *data = make_cache(entries, 5, old, &size);
        struct ldcache c;
        char err[256];
        CHECK(ldcache_parse(&c, data, size, err, sizeof(err)) == 0);
        const char *z = ldcache_lookup(&c, "libz.so.1"), *libc = ldcache_lookup(&c, "libc.so.6");
        CHECK(z && !strcmp(z, "/usr/lib/x86_64-linux-gnu/libz.so.1"));
        CHECK(libc && !strcmp(libc, "/lib/x86_64-linux-gnu/libc.so.6"));
        CHECK(!ldcache_lookup(&c, "libweird.so") && !ldcache_lookup(&c, "libnone.so"));
        free(c.data);
    }
    /* more entries than the file holds, and no header */
    size_t size;
    char *data = make_cache(entries, 5, 0, &size);
    le32(data + 20, 100000);
    struct ldcache c;
    char err[256];
    CHECK(ldcache_parse(&c, data, size, err, sizeof(err)) == -1 && strstr(err, "malformed"));
    data = make_cache(entries, 5, 0, &size);
    data[0] = 'X';
    CHECK(ldcache_parse(&c, data, size, err, sizeof(err)) == -1);
    /* a missing cache is empty, not an error */
    CHECK(ldcache_load(&c, "/nonexistent/ld.so.cache", err, sizeof(err)) == 0 && !ldcache_lookup(&c, "libc.so.6"));
    if (access("/etc/ld.so.cache", R_OK) == 0) {
        CHECK(ldcache_load(&c, "/etc/ld.so.cache", err, sizeof(err)) == 0);
        const char *libc = ldcache_lookup(&c, "libc.so.6");
        CHECK(libc && strstr(libc, "/libc.so.6"));
        free(c.data);
    }
}
