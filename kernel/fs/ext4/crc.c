/* Checksums ext4 uses: crc32c (Castagnoli, reflected polynomial 0x82F63B78)
 * for metadata_csum, crc16 (polynomial 0x8005, reflected) for the older
 * gdt_csum. Table-driven in general-purpose registers (the kernel has no SSE). */
#include "ext4_internal.h"

static uint32_t crc32c_table[8][256];
static uint16_t crc16_table[256];
static volatile bool tables_ready;

/* The tables are computed on first use; two CPUs racing write the same values. */
static void crc_tables_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
        crc32c_table[0][i] = c;
        uint16_t s = (uint16_t)i;
        for (int k = 0; k < 8; k++)
            s = (uint16_t)((s >> 1) ^ (s & 1 ? 0xA001u : 0));
        crc16_table[i] = s;
    }
    /* slicing by 8: table[k][i] is the crc of byte i followed by k zero bytes */
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) {
            uint32_t prev = crc32c_table[k - 1][i];
            crc32c_table[k][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    __atomic_store_n(&tables_ready, true, __ATOMIC_RELEASE);
}

static inline void crc_tables(void)
{
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE))
        crc_tables_init();
}

uint32_t ext4_crc32c(uint32_t crc, const void *buf, size_t len)
{
    crc_tables();
    const uint8_t *p = buf;
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint32_t lo = (uint32_t)w ^ crc, hi = (uint32_t)(w >> 32);
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
              crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
              crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

uint16_t ext4_crc16(uint16_t crc, const void *buf, size_t len)
{
    crc_tables();
    const uint8_t *p = buf;
    while (len--)
        crc = (uint16_t)((crc >> 8) ^ crc16_table[(crc ^ *p++) & 0xff]);
    return crc;
}

/* metadata_csum structures that belong to an inode start from the file
 * system seed extended by the inode's number and generation. */
uint32_t ext4_csum_seed_inode(const struct ext4_fs *fs, uint32_t ino, uint32_t gen)
{
    uint8_t le[4];
    put_le32(le, ino);
    uint32_t c = ext4_crc32c(fs->csum_seed, le, 4);
    put_le32(le, gen);
    return ext4_crc32c(c, le, 4);
}
