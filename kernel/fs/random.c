/* ChaCha20-based generator (fs/random.h). After every request the key is
 * replaced by fresh output, so a later compromise of the state does not
 * reveal earlier output. Entropy is folded into the key and stirred through
 * one block. */
#include "arch/cpu.h"
#include "arch/spinlock.h"
#include "core/clock.h"
#include "core/log.h"
#include "fs/random.h"
#include "lib/string.h"

#define CHUNK 256 /* bytes produced per lock hold */

static struct {
    spinlock_t lock;
    uint32_t key[8];
    uint64_t counter;
    bool seeded;
} rng = { .lock = SPINLOCK_INIT };

static inline uint32_t rotl(uint32_t v, int n)
{
    return v << n | v >> (32 - n);
}

#define QR(a, b, c, d)                                                   \
    do {                                                                 \
        a += b; d ^= a; d = rotl(d, 16);                                 \
        c += d; b ^= c; b = rotl(b, 12);                                 \
        a += b; d ^= a; d = rotl(d, 8);                                  \
        c += d; b ^= c; b = rotl(b, 7);                                  \
    } while (0)

static void chacha20_block(const uint32_t key[8], uint64_t counter, uint32_t out[16])
{
    uint32_t s[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }; /* "expand 32-byte k" */
    memcpy(&s[4], key, 32);
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = s[15] = 0;
    uint32_t x[16];
    memcpy(x, s, sizeof(x));
    for (int i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        out[i] = x[i] + s[i];
}

/* Replace the key with generator output; caller holds the lock. */
static void rekey_locked(void)
{
    uint32_t block[16];
    chacha20_block(rng.key, rng.counter++, block);
    memcpy(rng.key, block, 32);
    memset(block, 0, sizeof(block));
}

static void mix_locked(const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t n = MIN(len, (size_t)32);
        uint8_t *k = (uint8_t *)rng.key;
        for (size_t i = 0; i < n; i++)
            k[i] ^= p[i];
        rekey_locked();
        p += n;
        len -= n;
    }
}

void random_add_entropy(const void *data, size_t len)
{
    irqflags_t f = spin_lock(&rng.lock);
    mix_locked(data, len);
    spin_unlock(&rng.lock, f);
}

static bool hw_random(uint64_t *v, bool seed)
{
    for (int tries = 0; tries < 10; tries++) {
        uint8_t ok;
        if (seed)
            __asm__ __volatile__("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
        else
            __asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

/* Timing noise: the low bits of TSC deltas around memory traffic. */
static void tsc_jitter(uint64_t out[8])
{
    static volatile uint64_t scratch[64];
    for (int i = 0; i < 8; i++) {
        uint64_t acc = 0;
        for (int j = 0; j < 64; j++) {
            uint64_t t0 = rdtsc();
            scratch[(j * 7 + i) % 64] += t0;
            acc = (acc << 1 | acc >> 63) ^ (rdtsc() - t0) ^ t0;
        }
        out[i] = acc;
    }
}

void random_init(void)
{
    uint64_t seed[24] = { 0 };
    unsigned hw = 0;
    for (int i = 0; i < 8; i++) {
        if (cpu_features.rdseed && hw_random(&seed[i], true))
            hw++;
        else if (cpu_features.rdrand && hw_random(&seed[i], false))
            hw++;
    }
    tsc_jitter(&seed[8]);
    seed[16] = clock_realtime_ns();
    seed[17] = clock_monotonic_ns();
    seed[18] = rdtsc();
    irqflags_t f = spin_lock(&rng.lock);
    bool first = !rng.seeded;
    mix_locked(seed, sizeof(seed));
    rng.seeded = true;
    spin_unlock(&rng.lock, f);
    memset(seed, 0, sizeof(seed));
    if (first)
        pr_info("random: seeded from %s and TSC jitter\n",
                hw ? (cpu_features.rdseed ? "RDSEED" : "RDRAND") : "no hardware source");
}

void random_get_bytes(void *buf, size_t len)
{
    if (!READ_ONCE(rng.seeded))
        random_init();
    uint8_t *out = buf;
    while (len) {
        uint32_t block[16];
        size_t chunk = MIN(len, (size_t)CHUNK);
        irqflags_t f = spin_lock(&rng.lock);
        for (size_t done = 0; done < chunk; done += 64) {
            chacha20_block(rng.key, rng.counter++, block);
            memcpy(out + done, block, MIN((size_t)64, chunk - done));
        }
        rekey_locked();
        spin_unlock(&rng.lock, f);
        memset(block, 0, sizeof(block));
        out += chunk;
        len -= chunk;
    }
}

uint64_t random_u64(void)
{
    uint64_t v;
    random_get_bytes(&v, sizeof(v));
    return v;
}
