/* I/O requests over segments of application or kernel memory: file systems
 * copy through these so one read op serves read, readv, pread and the
 * kernel's own reads, with bad application addresses caught per copy. */
#include "arch/uaccess.h"
#include "fs/vfs.h"
#include "lib/string.h"

void uio_init_iov(struct uio *u, const struct iovec *iov, unsigned iovcnt, size_t total, bool user)
{
    u->iov = iov;
    u->iovcnt = iovcnt;
    u->iov_off = 0;
    u->resid = total;
    u->user = user;
    u->fault = false;
}

void uio_init_kernel(struct uio *u, void *buf, size_t len)
{
    u->one = (struct iovec){ buf, len };
    uio_init_iov(u, &u->one, 1, len, false);
}

void uio_init_user(struct uio *u, void *buf, size_t len)
{
    u->one = (struct iovec){ buf, len };
    uio_init_iov(u, &u->one, 1, len, true);
}

/* The current segment's next chunk of at most n bytes; 0 at the end. */
static size_t uio_chunk(struct uio *u, size_t n, char **where)
{
    while (u->iovcnt && u->iov_off == u->iov[0].iov_len) {
        u->iov++;
        u->iovcnt--;
        u->iov_off = 0;
    }
    if (!u->iovcnt || !u->resid || u->fault)
        return 0;
    *where = (char *)u->iov[0].iov_base + u->iov_off;
    return MIN(MIN(n, u->iov[0].iov_len - u->iov_off), u->resid);
}

static void uio_advance(struct uio *u, size_t n)
{
    u->iov_off += n;
    u->resid -= n;
}

size_t uio_copy_out(struct uio *u, const void *src, size_t n)
{
    size_t done = 0;
    char *dst;
    size_t c;
    while (done < n && (c = uio_chunk(u, n - done, &dst)) > 0) {
        if (u->user) {
            if (copy_to_user(dst, (const char *)src + done, c) != 0) {
                u->fault = true;
                break;
            }
        } else {
            memcpy(dst, (const char *)src + done, c);
        }
        uio_advance(u, c);
        done += c;
    }
    return done;
}

size_t uio_copy_in(struct uio *u, void *dstbuf, size_t n)
{
    size_t done = 0;
    char *src;
    size_t c;
    while (done < n && (c = uio_chunk(u, n - done, &src)) > 0) {
        if (u->user) {
            if (copy_from_user((char *)dstbuf + done, src, c) != 0) {
                u->fault = true;
                break;
            }
        } else {
            memcpy((char *)dstbuf + done, src, c);
        }
        uio_advance(u, c);
        done += c;
    }
    return done;
}

size_t uio_zero(struct uio *u, size_t n)
{
    size_t done = 0;
    char *dst;
    size_t c;
    while (done < n && (c = uio_chunk(u, n - done, &dst)) > 0) {
        if (u->user) {
            if (clear_user(dst, c) != 0) {
                u->fault = true;
                break;
            }
        } else {
            memset(dst, 0, c);
        }
        uio_advance(u, c);
        done += c;
    }
    return done;
}

size_t uio_skip(struct uio *u, size_t n)
{
    size_t done = 0;
    char *where;
    size_t c;
    while (done < n && (c = uio_chunk(u, n - done, &where)) > 0) {
        uio_advance(u, c);
        done += c;
    }
    return done;
}
