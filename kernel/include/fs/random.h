/* The kernel's random numbers: a ChaCha20 generator with fast key erasure,
 * seeded at boot from RDSEED/RDRAND when the CPU has them and from TSC
 * jitter; /dev/urandom, /dev/random and (later) getrandom(2) read it. */
#pragma once

#include "lib/types.h"

void random_init(void);
/* Fill buf; never blocks (the pool is seeded before anything can ask). */
void random_get_bytes(void *buf, size_t len);
/* Mix in bytes from an entropy source (virtio-rng, interrupt timings). */
void random_add_entropy(const void *data, size_t len);
uint64_t random_u64(void);
