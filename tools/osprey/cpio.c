/* The cpio "newc" format (cpio(5), magic 070701): a 110-byte ASCII header of
 * thirteen 8-digit hex fields, the NUL-terminated name padded to 4 bytes,
 * then the data padded to 4 bytes; TRAILER!!! ends the archive. Writing for
 * the image builder, reading for `osprey inspect` and the self-tests. */
#include "osprey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CPIO_MAGIC "070701"
#define CPIO_HEADER 110
#define CPIO_TRAILER "TRAILER!!!"

static size_t pad4(uint64_t n)
{
    return (size_t)((4 - (n & 3)) & 3);
}

void cpio_write_header(struct wbuf *w, const struct cpio_hdr *h)
{
    size_t namesize = strlen(h->name) + 1;
    if (h->size > 0xffffffffull)
        die("%s is %llu bytes; a cpio newc archive holds files below 4 GiB", h->name,
            (unsigned long long)h->size);
    uint32_t mtime = h->mtime < 0 ? 0 : h->mtime > 0xffffffffll ? 0xffffffffu : (uint32_t)h->mtime;
    uint32_t f[13] = { h->ino, h->mode, 0, 0, h->nlink, mtime, (uint32_t)h->size,
                       0, 0, 0, 0, (uint32_t)namesize, 0 };
    char head[CPIO_HEADER + 1];
    memcpy(head, CPIO_MAGIC, 6);
    for (int i = 0; i < 13; i++)
        snprintf(head + 6 + 8 * i, 9, "%08x", f[i]);
    wbuf_write(w, head, CPIO_HEADER);
    wbuf_write(w, h->name, namesize);
    wbuf_zeros(w, pad4(CPIO_HEADER + namesize));
}

void cpio_write_data_pad(struct wbuf *w, uint64_t size)
{
    wbuf_zeros(w, pad4(size));
}

void cpio_write_trailer(struct wbuf *w)
{
    struct cpio_hdr h = { .name = CPIO_TRAILER, .nlink = 1 };
    cpio_write_header(w, &h);
}

/* ---- reading ---- */

static bool read_at(int fd, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool hex8(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

static int rd_fail(struct cpio_reader *r, const char *what, uint64_t at)
{
    snprintf(r->err, sizeof(r->err), "%s at offset %llu", what, (unsigned long long)at);
    return -1;
}

/* 1: an entry in *e (name and, for a symlink, its target); 0: the trailer;
 * -1: a malformed archive, the reason in r->err. */
int cpio_read_next(struct cpio_reader *r, struct cpio_entry *e)
{
    char head[CPIO_HEADER];
    uint64_t at = r->off;
    if (r->end - r->off < CPIO_HEADER || !read_at(r->fd, at, head, CPIO_HEADER))
        return rd_fail(r, "truncated cpio header", at);
    uint32_t f[13];
    if (memcmp(head, CPIO_MAGIC, 6) != 0 && memcmp(head, "070702", 6) != 0)
        return rd_fail(r, "bad cpio magic", at);
    for (int i = 0; i < 13; i++)
        if (!hex8(head + 6 + 8 * i, &f[i]))
            return rd_fail(r, "bad hex digits in a cpio header", at);
    uint32_t namesize = f[11];
    uint64_t data = at + CPIO_HEADER + namesize + pad4(CPIO_HEADER + namesize);
    if (namesize == 0 || namesize > sizeof(e->name) || data > r->end || f[6] > r->end - data ||
        !read_at(r->fd, at + CPIO_HEADER, e->name, namesize) || e->name[namesize - 1] != '\0')
        return rd_fail(r, "bad cpio entry (name or size)", at);
    e->ino = f[0], e->mode = f[1], e->uid = f[2], e->gid = f[3], e->nlink = f[4];
    e->mtime = f[5], e->size = f[6];
    e->data_offset = data;
    e->target[0] = '\0';
    r->off = data + e->size + pad4(e->size);
    if (strcmp(e->name, CPIO_TRAILER) == 0)
        return 0;
    if ((e->mode & 0170000) == 0120000) {
        if (e->size >= sizeof(e->target) || !read_at(r->fd, data, e->target, (size_t)e->size))
            return rd_fail(r, "bad symlink target", at);
        e->target[e->size] = '\0';
    }
    return 1;
}
