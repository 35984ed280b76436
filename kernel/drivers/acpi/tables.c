/* ACPI root: finding and validating the RSDP, the RSDT or XSDT and the tables
 * they list. Pure code (unit tested on the host): memory comes through acpi_map_fn. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
/* An EBDA lies just below 640 KiB; a pointer elsewhere is a BDA that was never set. */
#define EBDA_MIN 0x80000
#define EBDA_MAX 0xa0000

bool acpi_checksum_ok(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum == 0;
}

int acpi_rsdp_parse(const uint8_t *b, size_t avail, struct acpi_rsdp_info *out)
{
    if (avail < RSDP_V1_LEN || memcmp(b, "RSD PTR ", 8) != 0 || !acpi_checksum_ok(b, RSDP_V1_LEN))
        return -EINVAL;
    struct acpi_rsdp_info r = { b[RSDP_OFF_REVISION], false, fw_rd32(b + RSDP_OFF_RSDT), 0 };
    if (r.revision >= 2) {
        /* The v1 checksum vouches for the RSDT address; a bad extended part
         * costs only the XSDT. */
        uint32_t len = avail >= RSDP_V2_LEN ? fw_rd32(b + RSDP_OFF_LENGTH) : 0;
        if (len >= RSDP_V2_LEN && len <= avail && acpi_checksum_ok(b, len))
            r.xsdt = fw_rd64(b + RSDP_OFF_XSDT);
        else
            r.ext_bad = true;
    }
    if (!r.rsdt && !r.xsdt)
        return -EINVAL;
    *out = r;
    return 0;
}

/* A 36-byte map covers every v2 RSDP we accept; a longer declared length
 * (a future revision) needs the second map. */
static int rsdp_at(acpi_map_fn map, uint64_t phys, struct acpi_rsdp_info *out)
{
    const uint8_t *b = map(phys, RSDP_V2_LEN);
    if (!b)
        return -EFAULT;
    uint32_t len = fw_rd32(b + RSDP_OFF_LENGTH);
    if (b[RSDP_OFF_REVISION] >= 2 && len > RSDP_V2_LEN && len <= 4096)
        b = map(phys, len);
    else
        len = RSDP_V2_LEN;
    return b ? acpi_rsdp_parse(b, len, out) : -EFAULT;
}

static bool rsdp_match(const uint8_t *b, size_t avail)
{
    struct acpi_rsdp_info r;
    return avail >= 8 && memcmp(b, "RSD PTR ", 8) == 0 && acpi_rsdp_parse(b, avail, &r) == 0;
}

uint64_t acpi_scan_range(acpi_map_fn map, uint64_t start, size_t len,
                         bool (*match)(const uint8_t *buf, size_t avail))
{
    const uint8_t *b = map(start, len);
    if (!b)
        return 0;
    for (size_t off = 0; off + 16 <= len; off += 16) {
        if (match(b + off, len - off))
            return start + off;
    }
    return 0;
}

uint64_t acpi_ebda_phys(acpi_map_fn map)
{
    const uint8_t *seg = map(BIOS_EBDA_SEGMENT_PTR, 2);
    if (!seg)
        return 0;
    uint64_t ebda = (uint64_t)fw_rd16(seg) << 4;
    return ebda >= EBDA_MIN && ebda < EBDA_MAX ? ebda : 0;
}

uint64_t acpi_rsdp_find(acpi_map_fn map, uint64_t hint)
{
    struct acpi_rsdp_info r;
    if (hint) {
        if (rsdp_at(map, hint, &r) == 0)
            return hint;
        pr_warn("acpi: the loader's RSDP at %#lx is not valid; searching\n", hint);
    }
    uint64_t ebda = acpi_ebda_phys(map), found = 0;
    if (ebda)
        found = acpi_scan_range(map, ebda, 1024, rsdp_match);
    if (!found)
        found = acpi_scan_range(map, BIOS_ROM_START, BIOS_ROM_END - BIOS_ROM_START, rsdp_match);
    return found;
}

const uint8_t *acpi_table_map(acpi_map_fn map, uint64_t phys, const char *sig, uint32_t *len_out)
{
    char name[5];
    if (!phys)
        return NULL;
    const uint8_t *h = map(phys, ACPI_SDT_HEADER_LEN);
    if (!h) {
        pr_warn("acpi: table at %#lx is not readable\n", phys);
        return NULL;
    }
    fw_sig_str(h, name);
    if (sig && memcmp(h, sig, 4) != 0) {
        pr_warn("acpi: table at %#lx is \"%s\", expected %s\n", phys, name, sig);
        return NULL;
    }
    uint32_t len = fw_rd32(h + 4);
    if (len < ACPI_SDT_HEADER_LEN || len > ACPI_TABLE_MAX_LEN) {
        pr_warn("acpi: %s at %#lx has a bad length %u\n", name, phys, len);
        return NULL;
    }
    const uint8_t *t = map(phys, len);
    if (!t) {
        pr_warn("acpi: %s at %#lx: its %u bytes run past readable memory\n", name, phys, len);
        return NULL;
    }
    if (!acpi_checksum_ok(t, len)) {
        pr_warn("acpi: %s at %#lx has a bad checksum\n", name, phys);
        return NULL;
    }
    *len_out = len;
    return t;
}

/* Record each listed table's signature once, so lookups map only what they use. */
static void tables_index(struct acpi_tables *t, const uint8_t *root, uint32_t len, unsigned esize)
{
    unsigned n = (len - ACPI_SDT_HEADER_LEN) / esize;
    if (n > ACPI_MAX_TABLES) {
        pr_warn("acpi: root table lists %u tables; using the first %u\n", n, ACPI_MAX_TABLES);
        n = ACPI_MAX_TABLES;
    }
    t->count = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = root + ACPI_SDT_HEADER_LEN + i * esize;
        uint64_t phys = esize == 8 ? fw_rd64(e) : fw_rd32(e);
        const uint8_t *h = phys ? t->map(phys, 4) : NULL;
        if (!h)
            continue;
        memcpy(t->entry[t->count].sig, h, 4);
        t->entry[t->count].phys = phys;
        t->count++;
    }
}

static bool tables_open_root(struct acpi_tables *t, uint64_t phys, bool xsdt)
{
    uint32_t len;
    const uint8_t *root = acpi_table_map(t->map, phys, xsdt ? "XSDT" : "RSDT", &len);
    if (!root)
        return false;
    t->xsdt = xsdt;
    tables_index(t, root, len, xsdt ? 8 : 4);
    return true;
}

int acpi_tables_open(struct acpi_tables *t, acpi_map_fn map, uint64_t rsdp_phys)
{
    struct acpi_rsdp_info r;
    t->map = map;
    t->count = 0;
    if (rsdp_at(map, rsdp_phys, &r) != 0) {
        pr_warn("acpi: RSDP at %#lx is not valid\n", rsdp_phys);
        return -EINVAL;
    }
    if (r.ext_bad)
        pr_warn("acpi: RSDP extended checksum or length is bad; using the RSDT\n");
    /* The XSDT is ACPI 2.0's 64-bit RSDT and wins when both exist. */
    if (r.xsdt && tables_open_root(t, r.xsdt, true))
        return 0;
    if (r.rsdt && tables_open_root(t, r.rsdt, false))
        return 0;
    pr_warn("acpi: no valid RSDT or XSDT\n");
    return -EINVAL;
}

const uint8_t *acpi_tables_find(const struct acpi_tables *t, const char *sig, unsigned index,
                                uint32_t *len)
{
    for (unsigned i = 0; i < t->count; i++) {
        if (memcmp(t->entry[i].sig, sig, 4) != 0)
            continue;
        const uint8_t *table = acpi_table_map(t->map, t->entry[i].phys, sig, len);
        if (table && index-- == 0)
            return table;
    }
    return NULL;
}
