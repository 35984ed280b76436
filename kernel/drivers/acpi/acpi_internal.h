/* Helpers shared by the firmware-table parsers: little-endian reads at any
 * alignment (firmware packs its structures), bounds-checked field access. */
#pragma once

#include "lib/string.h"
#include "lib/types.h"

static inline uint16_t fw_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fw_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fw_rd64(const uint8_t *p)
{
    return (uint64_t)fw_rd32(p) | (uint64_t)fw_rd32(p + 4) << 32;
}

/* Fields past a table's length are absent (older revisions are shorter): read as 0. */
static inline uint8_t fw_field8(const uint8_t *t, uint32_t len, uint32_t off)
{
    return off + 1 <= len ? t[off] : 0;
}

static inline uint16_t fw_field16(const uint8_t *t, uint32_t len, uint32_t off)
{
    return off + 2 <= len ? fw_rd16(t + off) : 0;
}

static inline uint32_t fw_field32(const uint8_t *t, uint32_t len, uint32_t off)
{
    return off + 4 <= len ? fw_rd32(t + off) : 0;
}

static inline uint64_t fw_field64(const uint8_t *t, uint32_t len, uint32_t off)
{
    return off + 8 <= len ? fw_rd64(t + off) : 0;
}

/* A 4-character signature made safe to print. */
static inline void fw_sig_str(const uint8_t *sig, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
    out[4] = 0;
}

/* ACPI Generic Address Structure (12 bytes): space, bit width, bit offset,
 * access size, 64-bit address. */
#define ACPI_GAS_LEN 12

struct acpi_gas {
    uint8_t space;
    uint8_t bit_width;
    uint64_t addr;
};

static inline struct acpi_gas fw_gas(const uint8_t *t, uint32_t len, uint32_t off)
{
    struct acpi_gas g = { 0, 0, 0 };
    if (off + ACPI_GAS_LEN <= len) {
        g.space = t[off];
        g.bit_width = t[off + 1];
        g.addr = fw_rd64(t + off + 4);
    }
    return g;
}
