/* Unpacking a cpio newc archive (the initrd) into a ramfs instance. */
#pragma once

#include "fs/vfs.h"

struct cpio_unpack_stats {
    uint64_t entries, files, dirs, symlinks, hardlinks, bytes;
};

/* Fill sb (a fresh ramfs instance nobody else sees yet) from the archive.
 * The archive is checked completely before anything is created. 0, or
 * -errno with err saying what is wrong; sb then holds whatever was made
 * before the failure and should be destroyed. */
int cpio_unpack(const void *buf, size_t size, struct vfs_sb *sb, struct cpio_unpack_stats *stats,
                char *err, size_t errlen);
