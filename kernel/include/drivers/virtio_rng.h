/* virtio-rng: entropy from the host. At boot it seeds the kernel's random
 * pool (fs/random.h); later reads feed the pool too. */
#pragma once

#include "lib/types.h"

/* True when an entropy device was found and works. */
bool virtio_rng_present(void);
/* Up to len bytes from the device (also mixed into the pool), waiting at
 * most timeout_ns. Returns the bytes read or -errno (-ENODEV: no device,
 * -ETIMEDOUT). Threads only. */
ssize_t virtio_rng_read(void *buf, size_t len, uint64_t timeout_ns);
/* Mix `len` more device bytes into the random pool now (at most 256). */
int virtio_rng_reseed(size_t len);
