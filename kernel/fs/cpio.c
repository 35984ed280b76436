/* cpio newc parser (fs/cpio.h). Each header is 110 ASCII bytes: the magic and
 * thirteen 8-digit hex fields; the name (with its NUL) follows, padded so the
 * data starts on a 4-byte boundary, and the data is padded likewise. */
#include "fs/cpio.h"
#include "fs/uapi.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

static const char *const field_names[13] = {
    "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
    "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

void cpio_reader_init(struct cpio_reader *r, const void *buf, size_t size)
{
    r->base = buf;
    r->size = size;
    r->off = 0;
    r->done = false;
    r->err[0] = '\0';
}

static int fail(struct cpio_reader *r, size_t at, const char *what)
{
    snprintf(r->err, sizeof(r->err), "%s (entry at offset %zu)", what, at);
    return -EINVAL;
}

static bool parse_hex8(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (d == 16)
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

static size_t pad4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

/* After a trailer: zero padding, then the end or another archive. */
static int after_trailer(struct cpio_reader *r)
{
    while (r->off < r->size && r->base[r->off] == 0)
        r->off++;
    if (r->off == r->size) {
        r->done = true;
        return 0;
    }
    if (r->size - r->off >= 6 && memcmp(r->base + r->off, "07070", 5) == 0)
        return 1; /* a concatenated archive */
    return fail(r, r->off, "unexpected bytes after TRAILER!!!");
}

static bool valid_type(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
    case S_IFBLK: case S_IFIFO: case S_IFSOCK:
        return true;
    default:
        return false;
    }
}

static int check_entry(struct cpio_reader *r, struct cpio_entry *e, bool crc)
{
    size_t at = e->offset;
    if (!valid_type(e->mode))
        return fail(r, at, "unknown file type in mode");
    if (S_ISDIR(e->mode) && e->filesize)
        return fail(r, at, "directory with data");
    if ((S_ISCHR(e->mode) || S_ISBLK(e->mode) || S_ISFIFO(e->mode) || S_ISSOCK(e->mode)) && e->filesize)
        return fail(r, at, "special file with data");
    if (S_ISLNK(e->mode)) {
        if (e->filesize == 0 || e->filesize >= PATH_MAX)
            return fail(r, at, "symlink target empty or too long");
        if (memchr(e->data, 0, (size_t)e->filesize))
            return fail(r, at, "symlink target contains NUL");
    }
    if (crc) {
        uint32_t sum = 0;
        for (uint64_t i = 0; i < e->filesize; i++)
            sum += e->data[i];
        if (sum != e->check)
            return fail(r, at, "checksum mismatch (070702 archive)");
    }
    return 0;
}

static int parse_header(struct cpio_reader *r, struct cpio_entry *e, uint32_t f[13], bool *crc)
{
    size_t at = r->off;
    if (r->size - r->off < CPIO_HEADER_SIZE)
        return fail(r, at, "truncated header");
    const uint8_t *h = r->base + r->off;
    if (memcmp(h, "070701", 6) == 0)
        *crc = false;
    else if (memcmp(h, "070702", 6) == 0)
        *crc = true;
    else
        return fail(r, at, memcmp(h, "070707", 6) == 0 ? "old binary/odc cpio format, need newc (cpio -H newc)"
                                                      : "bad magic, not a cpio newc archive");
    for (int i = 0; i < 13; i++)
        if (!parse_hex8(h + 6 + 8 * i, &f[i])) {
            char msg[64];
            snprintf(msg, sizeof(msg), "bad hex digits in field %s", field_names[i]);
            return fail(r, at, msg);
        }
    e->offset = at;
    return 0;
}

int cpio_next(struct cpio_reader *r, struct cpio_entry *e)
{
    for (;;) {
        if (r->done)
            return 0;
        if (r->off >= r->size)
            return fail(r, r->off, "archive ends without TRAILER!!! (truncated?)");
        uint32_t f[13];
        bool crc;
        int err = parse_header(r, e, f, &crc);
        if (err)
            return err;
        size_t at = r->off, namesize = f[11];
        e->ino = f[0], e->mode = f[1], e->uid = f[2], e->gid = f[3], e->nlink = f[4];
        e->mtime = f[5], e->filesize = f[6], e->devmajor = f[7], e->devminor = f[8];
        e->rdevmajor = f[9], e->rdevminor = f[10], e->check = f[12];
        if (namesize == 0)
            return fail(r, at, "empty name (namesize 0)");
        if (namesize > PATH_MAX)
            return fail(r, at, "name longer than PATH_MAX");
        size_t name_off = at + CPIO_HEADER_SIZE;
        if (r->size - name_off < namesize)
            return fail(r, at, "name runs past the end of the archive");
        e->name = (const char *)r->base + name_off;
        e->namelen = namesize - 1;
        if (e->name[namesize - 1] != '\0')
            return fail(r, at, "name not NUL-terminated");
        if (memchr(e->name, 0, e->namelen))
            return fail(r, at, "name contains a NUL before its end");
        size_t data_off = pad4(name_off + namesize);
        if (data_off > r->size || r->size - data_off < e->filesize)
            return fail(r, at, "file data runs past the end of the archive");
        e->data = r->base + data_off;
        size_t next = pad4(data_off + (size_t)e->filesize);
        r->off = next > r->size ? r->size : next;
        if (e->namelen == 10 && memcmp(e->name, "TRAILER!!!", 10) == 0) {
            int more = after_trailer(r);
            if (more <= 0)
                return more;
            continue;
        }
        err = check_entry(r, e, crc);
        return err ? err : 1;
    }
}

int cpio_normalize_name(const char *name, size_t len, char *out, size_t outsize)
{
    size_t o = 0, i = 0;
    while (i < len) {
        while (i < len && name[i] == '/')
            i++;
        size_t start = i;
        while (i < len && name[i] != '/')
            i++;
        size_t clen = i - start;
        if (clen == 0 || (clen == 1 && name[start] == '.'))
            continue;
        if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
            return -EINVAL;
        if (clen > NAME_MAX)
            return -ENAMETOOLONG;
        size_t need = o + (o ? 1 : 0) + clen + 1;
        if (need > outsize || need > PATH_MAX)
            return -ENAMETOOLONG;
        if (o)
            out[o++] = '/';
        memcpy(out + o, name + start, clen);
        o += clen;
    }
    if (outsize == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return 0;
}
