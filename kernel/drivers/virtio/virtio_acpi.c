/* Pure: virtio-mmio devices described in AML (QEMU microvm with acpi=on,
 * Firecracker 1.8+): Device objects with _HID "LNRO0005" and a _CRS buffer
 * holding a memory window and an interrupt. No AML interpreter: a
 * bounds-checked scan for the _HID string, then the _CRS Name that follows
 * it, whose resource descriptors (ACPI 6.x section 6.4) are decoded. */
#include "drivers/virtio.h"
#include "lib/errno.h"
#include "lib/string.h"

#define AML_NAME_OP 0x08
#define AML_BUFFER_OP 0x11
#define AML_STRING_PREFIX 0x0d
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
/* How far after the _HID its _CRS may be: a Device's other names are short. */
#define CRS_SEARCH_WINDOW 512

#define RES_LARGE 0x80
#define RES_SMALL_IRQ 0x4
#define RES_SMALL_END 0xf
#define RES_LARGE_MEM32_FIXED 0x06
#define RES_LARGE_DWORD_ADDR 0x07
#define RES_LARGE_EXT_IRQ 0x09
#define RES_LARGE_QWORD_ADDR 0x0a
#define RES_ADDR_MEMORY 0

static const uint8_t hid[] = { AML_STRING_PREFIX, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0 };
static const uint8_t crs[] = { AML_NAME_OP, '_', 'C', 'R', 'S', AML_BUFFER_OP };

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static size_t find(const uint8_t *aml, size_t from, size_t to, const uint8_t *pat, size_t n)
{
    for (size_t i = from; i + n <= to; i++)
        if (aml[i] == pat[0] && memcmp(aml + i, pat, n) == 0)
            return i;
    return (size_t)-1;
}

/* PkgLength at p (bytes 1-4). 0 or -EINVAL. */
static int pkg_length(const uint8_t *p, size_t avail, size_t *len, size_t *enc)
{
    if (!avail)
        return -EINVAL;
    size_t follow = p[0] >> 6;
    if (avail < 1 + follow)
        return -EINVAL;
    size_t v = follow ? (p[0] & 0x0fu) : (p[0] & 0x3fu);
    for (size_t i = 0; i < follow; i++)
        v |= (size_t)p[1 + i] << (4 + 8 * i);
    *len = v;
    *enc = 1 + follow;
    return 0;
}

/* Decode a resource template; 0 when it gave a memory window and an IRQ. */
static int parse_resources(const uint8_t *r, size_t len, struct virtio_mmio_desc *d)
{
    bool mem = false, irq = false;
    size_t i = 0;
    while (i < len) {
        uint8_t tag = r[i];
        if (!(tag & RES_LARGE)) {
            unsigned type = (tag >> 3) & 0xf, n = tag & 7;
            if (type == RES_SMALL_END || i + 1 + n > len)
                break;
            uint16_t mask = n >= 2 ? (uint16_t)le(r + i + 1, 2) : 0;
            if (type == RES_SMALL_IRQ && mask && !irq) {
                d->irq = (uint32_t)__builtin_ctz(mask);
                irq = true;
            }
            i += 1 + n;
            continue;
        }
        if (i + 3 > len)
            break;
        size_t n = le(r + i + 1, 2);
        const uint8_t *b = r + i + 3;
        if (i + 3 + n > len)
            break;
        unsigned type = tag & 0x7f;
        if (type == RES_LARGE_MEM32_FIXED && n >= 9 && !mem) {
            d->base = le(b + 1, 4);
            d->size = le(b + 5, 4);
            mem = true;
        } else if (type == RES_LARGE_EXT_IRQ && n >= 6 && b[1] >= 1 && !irq) {
            d->irq = (uint32_t)le(b + 2, 4);
            irq = true;
        } else if (type == RES_LARGE_DWORD_ADDR && n >= 23 && b[0] == RES_ADDR_MEMORY && !mem) {
            d->base = le(b + 7, 4);
            d->size = le(b + 19, 4);
            mem = true;
        } else if (type == RES_LARGE_QWORD_ADDR && n >= 43 && b[0] == RES_ADDR_MEMORY && !mem) {
            d->base = le(b + 11, 8);
            d->size = le(b + 35, 8);
            mem = true;
        }
        i += 3 + n;
    }
    return mem && irq && d->size ? 0 : -EINVAL;
}

/* The _CRS buffer starting at `at` (its NameOp). */
static int parse_crs(const uint8_t *aml, size_t len, size_t at, struct virtio_mmio_desc *d)
{
    size_t p = at + sizeof(crs), pkg, enc;
    if (pkg_length(aml + p, len - p, &pkg, &enc) || pkg > len - p)
        return -EINVAL;
    size_t end = p + pkg, q = p + enc;
    if (q >= end)
        return -EINVAL;
    /* BufferSize: an integer, which AML writes with the smallest prefix */
    switch (aml[q]) {
    case AML_BYTE_PREFIX: q += 2; break;
    case AML_WORD_PREFIX: q += 3; break;
    case AML_DWORD_PREFIX: q += 5; break;
    case 0x00: case 0x01: q += 1; break;
    default: return -EINVAL;
    }
    if (q > end)
        return -EINVAL;
    return parse_resources(aml + q, end - q, d);
}

int virtio_acpi_find_mmio(const uint8_t *aml, size_t len, struct virtio_mmio_desc *out, unsigned max)
{
    unsigned n = 0;
    size_t at = find(aml, 0, len, hid, sizeof(hid));
    while (at != (size_t)-1 && n < max) {
        size_t next = find(aml, at + sizeof(hid), len, hid, sizeof(hid));
        size_t limit = MIN(next == (size_t)-1 ? len : next, MIN(len, at + CRS_SEARCH_WINDOW));
        size_t c = find(aml, at + sizeof(hid), limit, crs, sizeof(crs));
        struct virtio_mmio_desc d = { 0 };
        if (c != (size_t)-1 && parse_crs(aml, len, c, &d) == 0)
            out[n++] = d;
        at = next;
    }
    return (int)n;
}
