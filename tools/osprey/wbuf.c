/* Buffered output to a file descriptor that counts the bytes and keeps a
 * CRC-32 of them: the cpio writer and the image writer stream through it. */
#include "osprey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WBUF_SIZE (256 * 1024)

void wbuf_init(struct wbuf *w, int fd, const char *path)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->path = path;
    w->buf = malloc(WBUF_SIZE);
    if (!w->buf)
        die("out of memory");
}

static void write_fully(struct wbuf *w, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("cannot write %s: %s", w->path, r < 0 ? strerror(errno) : "short write");
        p += r;
        n -= (size_t)r;
    }
}

void wbuf_flush(struct wbuf *w)
{
    write_fully(w, w->buf, w->len);
    w->len = 0;
}

void wbuf_write(struct wbuf *w, const void *p, size_t n)
{
    w->crc = crc32_update(w->crc, p, n);
    w->count += n;
    if (w->len + n <= WBUF_SIZE) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        return;
    }
    wbuf_flush(w);
    if (n >= WBUF_SIZE) {
        write_fully(w, p, n);
        return;
    }
    memcpy(w->buf, p, n);
    w->len = n;
}

void wbuf_zeros(struct wbuf *w, size_t n)
{
    static const char zero[512];
    while (n) {
        size_t k = n < sizeof(zero) ? n : sizeof(zero);
        wbuf_write(w, zero, k);
        n -= k;
    }
}

/* Exactly `size` bytes of a host file: a file that changes size while it is
 * copied would corrupt the archive, so that is an error. */
void wbuf_copy_file(struct wbuf *w, const char *host, uint64_t size)
{
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("cannot read %s: %s", host, strerror(errno));
    uint64_t left = size;
    while (left) {
        if (w->len == WBUF_SIZE)
            wbuf_flush(w);
        size_t room = WBUF_SIZE - w->len;
        ssize_t r = read(fd, w->buf + w->len, left < room ? (size_t)left : room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("cannot read %s: %s", host, strerror(errno));
        if (r == 0)
            die("%s shrank while it was being packed; try again", host);
        w->crc = crc32_update(w->crc, w->buf + w->len, (size_t)r);
        w->len += (size_t)r;
        w->count += (uint64_t)r;
        left -= (uint64_t)r;
    }
    char extra;
    if (read(fd, &extra, 1) > 0)
        die("%s grew while it was being packed; try again", host);
    close(fd);
}

void wbuf_done(struct wbuf *w)
{
    wbuf_flush(w);
    free(w->buf);
    w->buf = NULL;
}

/* A disk image into the stream: its all-zero 4 KiB blocks become holes in
 * the output (skipped with lseek; counted and in the CRC all the same). */
void wbuf_copy_file_sparse(struct wbuf *w, const char *host, uint64_t size)
{
    enum { BLOCK = 4096 };
    static const char zero[BLOCK];
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("cannot read %s: %s", host, strerror(errno));
    char *buf = malloc(BLOCK);
    if (!buf)
        die("out of memory");
    for (uint64_t left = size; left;) {
        size_t want = left < BLOCK ? (size_t)left : BLOCK, got = 0;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("cannot read %s: %s", host, r < 0 ? strerror(errno) : "it shrank");
            got += (size_t)r;
        }
        if (memcmp(buf, zero, want) == 0) {
            wbuf_flush(w);
            if (lseek(w->fd, (off_t)want, SEEK_CUR) < 0)
                die("cannot seek in %s: %s", w->path, strerror(errno));
            w->crc = crc32_update(w->crc, zero, want);
            w->count += want;
        } else {
            wbuf_write(w, buf, want);
        }
        left -= want;
    }
    free(buf);
    close(fd);
}
