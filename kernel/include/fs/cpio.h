/* cpio "newc" archives (magic 070701, and 070702 with checksums): the format
 * of Linux's initramfs and `cpio -H newc`. A pure parser: it checks every
 * field and bound, and never reads outside the buffer. */
#pragma once

#include "lib/types.h"

#define CPIO_HEADER_SIZE 110
#define CPIO_ERR_MAX 160

struct cpio_entry {
    const char *name;          /* as stored, NUL-terminated inside the archive */
    size_t namelen;            /* without the NUL */
    uint32_t ino, mode, uid, gid, nlink, mtime;
    uint32_t devmajor, devminor, rdevmajor, rdevminor;
    uint32_t check;
    uint64_t filesize;
    const uint8_t *data;       /* filesize bytes */
    size_t offset;             /* of the header, for messages */
};

struct cpio_reader {
    const uint8_t *base;
    size_t size, off;
    bool done;
    char err[CPIO_ERR_MAX];    /* why the last call failed */
};

void cpio_reader_init(struct cpio_reader *r, const void *buf, size_t size);
/* 1: *e is the next entry; 0: the end (after "TRAILER!!!", allowing several
 * archives one after another with zero padding between); -EINVAL: malformed,
 * with r->err set. */
int cpio_next(struct cpio_reader *r, struct cpio_entry *e);

/* Turn an entry name into a clean relative path: leading "/" and "./" and
 * "." components dropped, repeated slashes folded; "" stands for the root.
 * -EINVAL for a ".." component, -ENAMETOOLONG for a component over 255
 * bytes or a path of PATH_MAX or more. */
int cpio_normalize_name(const char *name, size_t len, char *out, size_t outsize);
