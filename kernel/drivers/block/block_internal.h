/* Private to the block layer: raw transfers and the hooks that keep the
 * block cache coherent with byte-range I/O. */
#pragma once

#include "drivers/block.h"

#define BLOCKDEV_MAX_BLOCK 65536

/* Aligned transfer to or from the disk, bypassing the cache. */
int blockdev_io_raw(struct blockdev *dev, enum blockdev_op op, uint64_t off, void *buf, size_t len);
/* Submit without waiting / wait for a request submitted so. */
int blockdev_submit_async(struct blockdev *dev, struct blockdev_req *req);
int blockdev_wait(struct blockdev_req *req);

/* [off, off+len) was just read from the disk into buf: copy dirty cached
 * blocks over it. */
void bcache_overlay_dirty(struct blockdev *dev, uint64_t off, void *buf, size_t len);
/* [off, off+len) is being written with buf: cached copies take it. */
void bcache_update(struct blockdev *dev, uint64_t off, const void *buf, size_t len);
/* The disk range now reads as zeroes: so do cached copies (clean). */
void bcache_zero(struct blockdev *dev, uint64_t off, uint64_t len);
/* The disk range was discarded: cached copies are dropped or re-read. */
void bcache_invalidate(struct blockdev *dev, uint64_t off, uint64_t len);
