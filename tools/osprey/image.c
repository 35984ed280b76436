/* Reading and writing image files: a little-endian header with a section
 * table and a CRC-32 of both, sections at 4 KiB boundaries, each with its
 * own CRC-32 (docs/image-format.md). */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static bool pread_all(int fd, void *buf, size_t n, uint64_t off)
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

/* ---- writing ---- */

static char *unfinished; /* a half-written image, removed if osprey dies */

static void remove_unfinished(void)
{
    if (unfinished)
        unlink(unfinished);
}

void image_writer_begin(struct image_writer *iw, const char *path, unsigned nsections)
{
    memset(iw, 0, sizeof(*iw));
    iw->path = path;
    iw->tmp_path = xasprintf("%s.tmp.XXXXXX", path);
    iw->fd = mkstemp(iw->tmp_path);
    if (iw->fd < 0)
        die("cannot create %s: %s", path, strerror(errno));
    static bool registered;
    if (!registered)
        atexit(remove_unfinished);
    registered = true;
    unfinished = iw->tmp_path;
    iw->version = IMAGE_VERSION;
    wbuf_init(&iw->w, iw->fd, path);
    /* the header is written last; its space comes first */
    uint64_t first = IMAGE_FIXED_HEADER + (uint64_t)nsections * IMAGE_SECTION_ENTRY;
    wbuf_zeros(&iw->w, (size_t)((first + IMAGE_ALIGN - 1) / IMAGE_ALIGN * IMAGE_ALIGN));
}

void image_writer_section_begin(struct image_writer *iw, uint32_t type)
{
    if (iw->nsec == IMAGE_MAX_SECTIONS)
        die("too many image sections");
    uint64_t pad = (IMAGE_ALIGN - iw->w.count % IMAGE_ALIGN) % IMAGE_ALIGN;
    wbuf_zeros(&iw->w, (size_t)pad);
    iw->sec[iw->nsec] = (struct image_section){ .type = type, .offset = iw->w.count };
    iw->w.crc = 0;
}

void image_writer_section_end(struct image_writer *iw)
{
    struct image_section *s = &iw->sec[iw->nsec++];
    s->size = iw->w.count - s->offset;
    s->crc = iw->w.crc;
}

static void encode_header(const struct image_writer *iw, uint8_t *h, size_t hsize, uint64_t total)
{
    memset(h, 0, hsize);
    memcpy(h, IMAGE_MAGIC, 8);
    put_le32(h + 8, iw->version);
    put_le32(h + 12, (uint32_t)hsize);
    put_le32(h + 16, iw->nsec);
    put_le64(h + 24, total);
    for (unsigned i = 0; i < iw->nsec; i++) {
        uint8_t *e = h + IMAGE_FIXED_HEADER + i * IMAGE_SECTION_ENTRY;
        put_le32(e, iw->sec[i].type);
        put_le32(e + 4, iw->sec[i].flags);
        put_le64(e + 8, iw->sec[i].offset);
        put_le64(e + 16, iw->sec[i].size);
        put_le32(e + 24, iw->sec[i].crc);
    }
    put_le32(h + 32, crc32_update(0, h, hsize));
}

void image_writer_finish(struct image_writer *iw)
{
    uint64_t total = iw->w.count;
    wbuf_done(&iw->w);
    size_t hsize = IMAGE_FIXED_HEADER + iw->nsec * IMAGE_SECTION_ENTRY;
    uint8_t h[IMAGE_FIXED_HEADER + IMAGE_MAX_SECTIONS * IMAGE_SECTION_ENTRY];
    encode_header(iw, h, hsize, total);
    /* a section may end in a hole (wbuf_copy_file_sparse): the size is set */
    if (ftruncate(iw->fd, (off_t)total) != 0 || pwrite(iw->fd, h, hsize, 0) != (ssize_t)hsize || fsync(iw->fd) != 0)
        die("cannot write %s: %s", iw->path, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    fchmod(iw->fd, 0666 & ~mask);
    if (close(iw->fd) != 0 || rename(iw->tmp_path, iw->path) != 0)
        die("cannot write %s: %s", iw->path, strerror(errno));
    unfinished = NULL;
    free(iw->tmp_path);
}

/* ---- reading ---- */

static int fail(char *err, size_t errlen, const char *fmt, const char *path)
{
    snprintf(err, errlen, fmt, path);
    return -1;
}

static int read_table(struct image *im, const uint8_t *h, uint32_t nsec, char *err, size_t errlen)
{
    uint64_t first = IMAGE_FIXED_HEADER + (uint64_t)nsec * IMAGE_SECTION_ENTRY;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = h + IMAGE_FIXED_HEADER + i * IMAGE_SECTION_ENTRY;
        struct image_section s = { get_le32(e), get_le32(e + 4), get_le64(e + 8), get_le64(e + 16), get_le32(e + 24) };
        if (s.offset < first || s.offset > im->size || s.size > im->size - s.offset)
            return fail(err, errlen, "%s is corrupt: a section lies outside the file", im->path);
        struct image_section *slot = s.type == IMAGE_KERNEL ? &im->kernel : s.type == IMAGE_INITRD ? &im->initrd
                                   : s.type == IMAGE_CONFIG ? &im->config_section
                                   : s.type == IMAGE_EXT4 && im->version >= IMAGE_VERSION_EXT4 ? &im->ext4 : NULL;
        if (!slot)
            continue; /* a later version's section: not needed to boot */
        if (slot->type)
            return fail(err, errlen, "%s is corrupt: a section appears twice", im->path);
        *slot = s;
    }
    if (!im->kernel.type || !(im->initrd.type || im->ext4.type) || !im->config_section.type)
        return fail(err, errlen, "%s is corrupt: the kernel, root filesystem or settings section is missing", im->path);
    if (im->initrd.type && im->ext4.type)
        return fail(err, errlen, "%s is corrupt: it has two root filesystems (cpio and ext4)", im->path);
    return 0;
}

static int check_header(struct image *im, uint8_t *h, char *err, size_t errlen)
{
    if (!pread_all(im->fd, h, IMAGE_FIXED_HEADER, 0))
        return fail(err, errlen, "%s is not an Osprey image (too short)", im->path);
    if (memcmp(h, IMAGE_MAGIC, 8) != 0)
        return fail(err, errlen, "%s is not an Osprey image (no OSPREYIM magic; build one with osprey build)", im->path);
    im->version = get_le32(h + 8);
    if (im->version != IMAGE_VERSION && im->version != IMAGE_VERSION_EXT4) {
        snprintf(err, errlen, "%s is an Osprey image of format version %u; this osprey reads versions %u and %u",
                 im->path, im->version, IMAGE_VERSION, IMAGE_VERSION_EXT4);
        return -1;
    }
    uint32_t hsize = get_le32(h + 12), nsec = get_le32(h + 16);
    if (nsec > IMAGE_MAX_SECTIONS || hsize != IMAGE_FIXED_HEADER + nsec * IMAGE_SECTION_ENTRY)
        return fail(err, errlen, "%s is corrupt: bad header size", im->path);
    if (!pread_all(im->fd, h + IMAGE_FIXED_HEADER, hsize - IMAGE_FIXED_HEADER, IMAGE_FIXED_HEADER))
        return fail(err, errlen, "%s is truncated (the header is cut short)", im->path);
    uint32_t want = get_le32(h + 32);
    put_le32(h + 32, 0);
    if (crc32_update(0, h, hsize) != want)
        return fail(err, errlen, "%s is corrupt: header checksum mismatch", im->path);
    uint64_t total = get_le64(h + 24);
    if (total > im->size) {
        snprintf(err, errlen, "%s is truncated: %llu of %llu bytes", im->path,
                 (unsigned long long)im->size, (unsigned long long)total);
        return -1;
    }
    if (total < im->size)
        return fail(err, errlen, "%s is corrupt: bytes after the end of the image", im->path);
    return read_table(im, h, nsec, err, errlen);
}

int image_section_verify(const struct image *im, const struct image_section *s, char *err, size_t errlen)
{
    char *buf = xmalloc(1 << 20);
    uint32_t crc = 0;
    for (uint64_t done = 0; done < s->size;) {
        size_t n = s->size - done < (1 << 20) ? (size_t)(s->size - done) : 1 << 20;
        if (!pread_all(im->fd, buf, n, s->offset + done)) {
            free(buf);
            return fail(err, errlen, "cannot read %s", im->path);
        }
        crc = crc32_update(crc, buf, n);
        done += n;
    }
    free(buf);
    if (crc != s->crc)
        return fail(err, errlen, "%s is corrupt: checksum mismatch in a section", im->path);
    return 0;
}

int image_open(struct image *im, const char *path, char *err, size_t errlen)
{
    memset(im, 0, sizeof(*im));
    im->path = path;
    im->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (im->fd < 0 && errno == ENOENT)
        return fail(err, errlen, "image not found: %s (make one with osprey build; kernel arguments and "
                                 "the program go after --)", path);
    if (im->fd < 0 || fstat(im->fd, &st) != 0) {
        snprintf(err, errlen, "cannot open image %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return fail(err, errlen, "%s is a directory; boot a directory with --rootfs DIR", path);
    im->size = (uint64_t)st.st_size;
    uint8_t h[IMAGE_FIXED_HEADER + IMAGE_MAX_SECTIONS * IMAGE_SECTION_ENTRY];
    if (check_header(im, h, err, errlen) != 0)
        return -1;
    const struct image_section *c = &im->config_section;
    if (c->size > IMAGE_MAX_CONFIG)
        return fail(err, errlen, "%s is corrupt: the settings section is too large", path);
    char *buf = xmalloc((size_t)c->size + 1);
    if (!pread_all(im->fd, buf, (size_t)c->size, c->offset) || crc32_update(0, buf, (size_t)c->size) != c->crc) {
        free(buf);
        return fail(err, errlen, "%s is corrupt: checksum mismatch in the settings section", path);
    }
    char why[160];
    int r = image_config_decode(&im->config, buf, (size_t)c->size, why, sizeof(why));
    free(buf);
    if (r != 0)
        snprintf(err, errlen, "%s is corrupt: %s", path, why);
    return r;
}

void image_extract(const struct image *im, const struct image_section *s, int out_fd, const char *out_name)
{
    struct wbuf w;
    wbuf_init(&w, out_fd, out_name);
    char *buf = xmalloc(1 << 20);
    for (uint64_t done = 0; done < s->size;) {
        size_t n = s->size - done < (1 << 20) ? (size_t)(s->size - done) : 1 << 20;
        if (!pread_all(im->fd, buf, n, s->offset + done))
            die("cannot read %s: %s", im->path, strerror(errno));
        wbuf_write(&w, buf, n);
        done += n;
    }
    free(buf);
    if (w.crc != s->crc)
        die("%s is corrupt: checksum mismatch in its %s section", im->path,
            s->type == IMAGE_KERNEL ? "kernel" : "root filesystem");
    wbuf_done(&w);
}

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

void image_extract_sparse(const struct image *im, const struct image_section *s, int out_fd, const char *out_name)
{
    enum { CHUNK = 1 << 20, BLOCK = 4096 };
    char *buf = xmalloc(CHUNK);
    uint32_t crc = 0;
    for (uint64_t done = 0; done < s->size;) {
        size_t n = s->size - done < CHUNK ? (size_t)(s->size - done) : CHUNK;
        if (!pread_all(im->fd, buf, n, s->offset + done))
            die("cannot read %s: %s", im->path, strerror(errno));
        crc = crc32_update(crc, buf, n);
        for (size_t b = 0; b < n; b += BLOCK) {
            size_t k = n - b < BLOCK ? n - b : BLOCK;
            if (all_zero(buf + b, k))
                continue; /* a hole: the file is extended at the end */
            if (pwrite(out_fd, buf + b, k, (off_t)(done + b)) != (ssize_t)k)
                die("cannot write %s: %s", out_name, strerror(errno));
        }
        done += n;
    }
    free(buf);
    if (crc != s->crc)
        die("%s is corrupt: checksum mismatch in its root filesystem section", im->path);
    if (ftruncate(out_fd, (off_t)s->size) != 0)
        die("cannot write %s: %s", out_name, strerror(errno));
}

void image_close(struct image *im)
{
    if (im->fd >= 0)
        close(im->fd);
    im->fd = -1;
}
