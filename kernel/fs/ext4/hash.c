/* Directory index hashes, written from the format's description: the
 * "legacy" multiplicative hash, half MD4 (three MD4 rounds as a compression
 * function over 32-byte pieces of the name) and TEA (16 rounds over 16-byte
 * pieces), each with signed or unsigned treatment of bytes >= 0x80. */
#include "ext4_internal.h"

static inline uint32_t rol32(uint32_t x, unsigned s)
{
    return x << s | x >> (32 - s);
}

static uint32_t hash_legacy(const char *name, size_t len, bool is_signed)
{
    uint32_t h0 = 0x12a3fe2d, h1 = 0x37abe8f9;
    for (size_t i = 0; i < len; i++) {
        int32_t c = is_signed ? (int32_t)(signed char)name[i] : (int32_t)(uint8_t)name[i];
        uint32_t h = h1 + (h0 ^ (uint32_t)(c * 7152373));
        if (h & 0x80000000u)
            h -= 0x7fffffff;
        h1 = h0;
        h0 = h;
    }
    return h0 << 1;
}

/* Pack up to 4*words bytes of the name into words, most significant byte
 * first; unused words (and the tail of a partial one) carry the length. */
static void name_to_words(const char *name, size_t len, uint32_t *out, unsigned words, bool is_signed)
{
    uint32_t pad = (uint32_t)len | (uint32_t)len << 8;
    pad |= pad << 16;
    uint32_t v = pad;
    size_t n = MIN(len, (size_t)words * 4);
    unsigned w = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = is_signed ? (int32_t)(signed char)name[i] : (int32_t)(uint8_t)name[i];
        v = (uint32_t)c + (v << 8);
        if (i % 4 == 3) {
            out[w++] = v;
            v = pad;
        }
    }
    if (w < words)
        out[w++] = v;
    while (w < words)
        out[w++] = pad;
}

#define MD4_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD4_G(x, y, z) (((x) & (y)) | (((x) | (y)) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD4_STEP(f, a, b, c, d, x, s) ((a) = rol32((a) + f((b), (c), (d)) + (x), (s)))

/* MD4's three rounds on a state of four words and an 8-word block. */
static void half_md4(uint32_t st[4], const uint32_t in[8])
{
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    static const unsigned r2_order[8] = { 1, 3, 5, 7, 0, 2, 4, 6 };
    static const unsigned r3_order[8] = { 3, 7, 2, 6, 1, 5, 0, 4 };
    const uint32_t k2 = 0x5A827999, k3 = 0x6ED9EBA1;
    for (unsigned i = 0; i < 8; i += 4) {
        MD4_STEP(MD4_F, a, b, c, d, in[i], 3);
        MD4_STEP(MD4_F, d, a, b, c, in[i + 1], 7);
        MD4_STEP(MD4_F, c, d, a, b, in[i + 2], 11);
        MD4_STEP(MD4_F, b, c, d, a, in[i + 3], 19);
    }
    for (unsigned i = 0; i < 8; i += 4) {
        MD4_STEP(MD4_G, a, b, c, d, in[r2_order[i]] + k2, 3);
        MD4_STEP(MD4_G, d, a, b, c, in[r2_order[i + 1]] + k2, 5);
        MD4_STEP(MD4_G, c, d, a, b, in[r2_order[i + 2]] + k2, 9);
        MD4_STEP(MD4_G, b, c, d, a, in[r2_order[i + 3]] + k2, 13);
    }
    for (unsigned i = 0; i < 8; i += 4) {
        MD4_STEP(MD4_H, a, b, c, d, in[r3_order[i]] + k3, 3);
        MD4_STEP(MD4_H, d, a, b, c, in[r3_order[i + 1]] + k3, 9);
        MD4_STEP(MD4_H, c, d, a, b, in[r3_order[i + 2]] + k3, 11);
        MD4_STEP(MD4_H, b, c, d, a, in[r3_order[i + 3]] + k3, 15);
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

/* TEA with the name piece as the key, the state's first two words as the text. */
static void tea(uint32_t st[4], const uint32_t k[4])
{
    uint32_t sum = 0, v0 = st[0], v1 = st[1];
    for (int i = 0; i < 16; i++) {
        sum += 0x9E3779B9u;
        v0 += ((v1 << 4) + k[0]) ^ (v1 + sum) ^ ((v1 >> 5) + k[1]);
        v1 += ((v0 << 4) + k[2]) ^ (v0 + sum) ^ ((v0 >> 5) + k[3]);
    }
    st[0] += v0;
    st[1] += v1;
}

void ext4_dx_hash(int version, const uint32_t seed[4], const char *name, size_t len, uint32_t *major,
                  uint32_t *minor)
{
    uint32_t st[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
    if (seed && (seed[0] | seed[1] | seed[2] | seed[3])) {
        for (int i = 0; i < 4; i++)
            st[i] = seed[i];
    }
    bool is_signed = version < EXT4_HASH_LEGACY_UNSIGNED;
    uint32_t h = 0, mi = 0, in[8];
    switch (version) {
    case EXT4_HASH_LEGACY:
    case EXT4_HASH_LEGACY_UNSIGNED:
        h = hash_legacy(name, len, is_signed);
        break;
    case EXT4_HASH_HALF_MD4:
    case EXT4_HASH_HALF_MD4_UNSIGNED:
        for (size_t off = 0; off < len; off += 32) {
            name_to_words(name + off, len - off, in, 8, is_signed);
            half_md4(st, in);
        }
        h = st[1];
        mi = st[2];
        break;
    case EXT4_HASH_TEA:
    case EXT4_HASH_TEA_UNSIGNED:
        for (size_t off = 0; off < len; off += 16) {
            name_to_words(name + off, len - off, in, 4, is_signed);
            tea(st, in);
        }
        h = st[0];
        mi = st[1];
        break;
    default:
        break;
    }
    h &= ~1u;
    if (h == 0xFFFFFFFEu) /* the end-of-directory marker is never a hash */
        h = 0xFFFFFFFCu;
    *major = h;
    *minor = mi;
}
