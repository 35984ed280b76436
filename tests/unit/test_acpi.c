/* Host tests of the ACPI parsers on synthetic tables in a fake physical
 * memory: RSDP search, RSDT/XSDT, MADT, FADT, HPET, AML \_S5_, and corrupt
 * input of every kind. Layouts are written from the spec's byte offsets. */
#include "unit.h"
#include <string.h>

#include "drivers/acpi.h"
#include "lib/errno.h"

/* Fake physical memory. Every map hands out an exact-size copy, so ASan
 * reports any read past what a parser mapped. */
#define MEM_SIZE 0x200000
static uint8_t mem[MEM_SIZE];
static void *maps[4096];
static unsigned nmaps;

static const void *fake_map(uint64_t phys, size_t len)
{
    if (phys > MEM_SIZE || len > MEM_SIZE - phys)
        return NULL;
    if (nmaps == sizeof(maps) / sizeof(maps[0])) {
        fprintf(stderr, "fake_map: too many maps\n");
        abort();
    }
    void *copy = malloc(len ? len : 1);
    memcpy(copy, mem + phys, len);
    maps[nmaps++] = copy;
    return copy;
}

static void mem_reset(void)
{
    for (unsigned i = 0; i < nmaps; i++)
        free(maps[i]);
    nmaps = 0;
    memset(mem, 0, sizeof(mem));
}

/* An exact-size copy of a table in fake memory, for the single-table parsers. */
static const uint8_t *exact(uint64_t phys, uint32_t len)
{
    return fake_map(phys, len);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
    uint8_t s = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    p[at] = (uint8_t)-s;
}

/* Tables: header at mem[phys], body appended with the add_* helpers. */
struct tbl {
    uint64_t phys;
    uint32_t len;
};

static struct tbl tbl_begin(uint64_t phys, const char *sig, uint8_t rev)
{
    uint8_t *t = mem + phys;
    memcpy(t, sig, 4);
    t[8] = rev;
    memcpy(t + 10, "OSPREY", 6);
    memcpy(t + 16, "TESTTBL ", 8);
    return (struct tbl){ phys, ACPI_SDT_HEADER_LEN };
}

static uint8_t *tbl_grow(struct tbl *t, uint32_t n)
{
    uint8_t *p = mem + t->phys + t->len;
    memset(p, 0, n);
    t->len += n;
    return p;
}

static uint32_t tbl_end(struct tbl *t)
{
    put32(mem + t->phys + 4, t->len);
    fix_sum(mem + t->phys, t->len, 9);
    return t->len;
}

static void put_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    uint8_t *r = mem + phys;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "OSPREY", 6);
    r[15] = rev;
    put32(r + 16, rsdt);
    fix_sum(r, 20, 8);
    if (rev >= 2) { /* the extended checksum covers the first one too */
        put32(r + 20, 36);
        put64(r + 24, xsdt);
        fix_sum(r, 36, 32);
    }
}

static uint32_t put_root(uint64_t phys, bool xsdt, const uint64_t *entries, unsigned n)
{
    struct tbl t = tbl_begin(phys, xsdt ? "XSDT" : "RSDT", 1);
    for (unsigned i = 0; i < n; i++) {
        if (xsdt)
            put64(tbl_grow(&t, 8), entries[i]);
        else
            put32(tbl_grow(&t, 4), (uint32_t)entries[i]);
    }
    return tbl_end(&t);
}

/* MADT entries */
static struct tbl madt_begin(uint64_t phys, uint32_t lapic, uint32_t flags)
{
    struct tbl t = tbl_begin(phys, "APIC", 5);
    uint8_t *h = tbl_grow(&t, 8);
    put32(h, lapic);
    put32(h + 4, flags);
    return t;
}

static uint8_t *madt_entry(struct tbl *t, uint8_t type, uint8_t len)
{
    uint8_t *e = tbl_grow(t, len);
    e[0] = type;
    e[1] = len;
    return e;
}

static void madt_lapic(struct tbl *t, uint8_t id, uint32_t flags)
{
    uint8_t *e = madt_entry(t, 0, 8);
    e[2] = id; /* processor UID */
    e[3] = id;
    put32(e + 4, flags);
}

static void madt_x2apic(struct tbl *t, uint32_t id, uint32_t flags)
{
    uint8_t *e = madt_entry(t, 9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, id);
}

static void madt_ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    uint8_t *e = madt_entry(t, 1, 12);
    e[2] = id;
    put32(e + 4, addr);
    put32(e + 8, gsi_base);
}

static void madt_override(struct tbl *t, uint8_t bus, uint8_t src, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = madt_entry(t, 2, 10);
    e[2] = bus;
    e[3] = src;
    put32(e + 4, gsi);
    put16(e + 8, flags);
}

static struct platform_info plat;

static void plat_reset(void)
{
    memset(&plat, 0, sizeof(plat));
    plat.source = "default";
    plat.cpu_count = 1;
    plat.lapic_phys = DEFAULT_LAPIC_PHYS;
    plat.ioapic_count = 1;
    plat.ioapics[0].phys = DEFAULT_IOAPIC_PHYS;
    plat.has_8259 = true;
}

static void setup(void)
{
    mem_reset();
    plat_reset();
}

UNIT_TEST(acpi_checksum)
{
    uint8_t b[5] = { 1, 2, 3, 4, 0 };
    CHECK(!acpi_checksum_ok(b, 5));
    fix_sum(b, 5, 4);
    CHECK_EQ(b[4], 246);
    CHECK(acpi_checksum_ok(b, 5));
    CHECK(acpi_checksum_ok(b, 0));
}

UNIT_TEST(acpi_rsdp_versions)
{
    setup();
    struct acpi_rsdp_info r;
    put_rsdp(0x1000, 0, 0x123456, 0);
    CHECK_EQ(acpi_rsdp_parse(exact(0x1000, 20), 20, &r), 0);
    CHECK_EQ(r.rsdt, 0x123456);
    CHECK_EQ(r.xsdt, 0);
    put_rsdp(0x2000, 2, 0x1000, 0x100000000ull);
    CHECK_EQ(acpi_rsdp_parse(exact(0x2000, 36), 36, &r), 0);
    CHECK_EQ(r.revision, 2);
    CHECK_EQ(r.xsdt, 0x100000000ull);
    CHECK(!r.ext_bad);
    /* v2 truncated to 20 readable bytes: the RSDT still counts */
    CHECK_EQ(acpi_rsdp_parse(exact(0x2000, 20), 20, &r), 0);
    CHECK_EQ(r.xsdt, 0);
    CHECK(r.ext_bad);
}

UNIT_TEST(acpi_rsdp_corrupt)
{
    setup();
    struct acpi_rsdp_info r = { 9, false, 9, 9 };
    put_rsdp(0x1000, 0, 0x4000, 0);
    mem[0x1000 + 16] ^= 1; /* RSDT address changed after the checksum */
    CHECK_EQ(acpi_rsdp_parse(exact(0x1000, 20), 20, &r), -EINVAL);
    CHECK_EQ(r.rsdt, 9); /* untouched */
    put_rsdp(0x1000, 0, 0x4000, 0);
    mem[0x1000] = 'r';
    CHECK_EQ(acpi_rsdp_parse(exact(0x1000, 20), 20, &r), -EINVAL);
    CHECK_EQ(acpi_rsdp_parse(exact(0x1000, 19), 19, &r), -EINVAL);
    /* bad extended checksum: only the XSDT is lost */
    put_rsdp(0x2000, 2, 0x4000, 0x5000);
    mem[0x2000 + 30] = 0x77;
    CHECK_EQ(acpi_rsdp_parse(exact(0x2000, 36), 36, &r), 0);
    CHECK_EQ(r.rsdt, 0x4000);
    CHECK_EQ(r.xsdt, 0);
    CHECK(r.ext_bad);
    /* extended length larger than what is readable */
    put_rsdp(0x3000, 2, 0x4000, 0x5000);
    put32(mem + 0x3000 + 20, 4000);
    fix_sum(mem + 0x3000, 36, 32);
    CHECK_EQ(acpi_rsdp_parse(exact(0x3000, 36), 36, &r), 0);
    CHECK_EQ(r.xsdt, 0);
    /* neither table */
    put_rsdp(0x1000, 0, 0, 0);
    CHECK_EQ(acpi_rsdp_parse(exact(0x1000, 20), 20, &r), -EINVAL);
}

UNIT_TEST(acpi_rsdp_search)
{
    setup();
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0);
    /* BIOS area, 16-byte aligned only */
    put_rsdp(0xf5a08, 0, 0x100000, 0);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0);
    put_rsdp(0xf59e0, 0, 0x100000, 0);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0xf59e0);
    /* the EBDA comes first */
    put16(mem + 0x40e, 0x9fc0);
    put_rsdp(0x9fc00 + 0x40, 2, 0x100000, 0x100100);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0x9fc40);
    /* a valid hint wins; a bad one falls back to the search */
    put_rsdp(0x7000, 0, 0x100000, 0);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0x7000), 0x7000);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0x7010), 0x9fc40);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0x7ffffff0), 0x9fc40); /* unreadable */
    /* a BDA pointer outside the EBDA window is ignored */
    put16(mem + 0x40e, 0x1000);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0xf59e0);
    /* a corrupt candidate does not stop the search */
    mem[0xf59e0 + 16] ^= 0xff;
    put_rsdp(0xfff00, 0, 0x100000, 0);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0xfff00);
    /* with that one gone too, nothing is left */
    memset(mem + 0xfff00, 0, 20);
    CHECK_EQ(acpi_rsdp_find(fake_map, 0), 0);
}

UNIT_TEST(acpi_table_map_checks)
{
    setup();
    uint32_t len = 0;
    struct tbl t = tbl_begin(0x100000, "TEST", 1);
    memset(tbl_grow(&t, 100), 0xab, 100);
    tbl_end(&t);
    CHECK(acpi_table_map(fake_map, 0x100000, "TEST", &len) != NULL);
    CHECK_EQ(len, 136);
    CHECK(acpi_table_map(fake_map, 0x100000, NULL, &len) != NULL);
    CHECK(acpi_table_map(fake_map, 0x100000, "APIC", &len) == NULL);
    CHECK(acpi_table_map(fake_map, 0, NULL, &len) == NULL);
    /* bad checksum */
    mem[0x100000 + 50] ^= 1;
    CHECK(acpi_table_map(fake_map, 0x100000, "TEST", &len) == NULL);
    mem[0x100000 + 50] ^= 1;
    /* truncated: shorter than a header */
    put32(mem + 0x100000 + 4, 20);
    CHECK(acpi_table_map(fake_map, 0x100000, "TEST", &len) == NULL);
    /* absurdly long */
    put32(mem + 0x100000 + 4, 0xffffffffu);
    CHECK(acpi_table_map(fake_map, 0x100000, "TEST", &len) == NULL);
    /* length runs past readable memory */
    t = tbl_begin(MEM_SIZE - 64, "TEST", 1);
    tbl_grow(&t, 28);
    tbl_end(&t);
    CHECK(acpi_table_map(fake_map, MEM_SIZE - 64, "TEST", &len) != NULL);
    put32(mem + MEM_SIZE - 64 + 4, 4096);
    fix_sum(mem + MEM_SIZE - 64, 64, 9);
    CHECK(acpi_table_map(fake_map, MEM_SIZE - 64, "TEST", &len) == NULL);
    /* header itself unreadable */
    CHECK(acpi_table_map(fake_map, MEM_SIZE - 8, NULL, &len) == NULL);
}

/* A MADT at `phys` listing `cpus` enabled CPUs from APIC ID `first`. */
static uint32_t put_madt_cpus(uint64_t phys, unsigned cpus, uint8_t first)
{
    struct tbl t = madt_begin(phys, 0xfee00000, 1);
    for (unsigned i = 0; i < cpus; i++)
        madt_lapic(&t, (uint8_t)(first + i), 1);
    madt_ioapic(&t, 0, 0xfec00000, 0);
    return tbl_end(&t);
}

UNIT_TEST(acpi_xsdt_preferred_over_rsdt)
{
    setup();
    struct acpi_tables tb;
    put_madt_cpus(0x101000, 1, 0);
    put_madt_cpus(0x102000, 2, 0);
    uint64_t via_rsdt = 0x101000, via_xsdt = 0x102000;
    put_root(0x100000, false, &via_rsdt, 1);
    put_root(0x100800, true, &via_xsdt, 1);
    put_rsdp(0xe0000, 2, 0x100000, 0x100800);
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), 0);
    CHECK(tb.xsdt);
    CHECK_EQ(tb.count, 1);
    struct acpi_poweroff off = { 0 };
    CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), 0);
    CHECK_EQ(plat.cpu_count, 2);
    /* a corrupt XSDT: the RSDT is used */
    mem[0x100800 + 36] ^= 0x10;
    plat_reset();
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), 0);
    CHECK(!tb.xsdt);
    CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), 0);
    CHECK_EQ(plat.cpu_count, 1);
    /* ACPI 1.0 RSDP: RSDT only, even with an XSDT around */
    mem[0x100800 + 36] ^= 0x10;
    put_rsdp(0xe0000, 0, 0x100000, 0);
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), 0);
    CHECK(!tb.xsdt);
    /* both corrupt: nothing */
    mem[0x100000 + 36] ^= 0x10;
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), -EINVAL);
    plat_reset();
    CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), -EINVAL);
    CHECK_STR(plat.source, "default");
    CHECK_EQ(plat.cpu_count, 1);
}

UNIT_TEST(acpi_root_skips_bad_entries)
{
    setup();
    struct acpi_tables tb;
    uint32_t len;
    put_madt_cpus(0x101000, 3, 0);
    uint64_t entries[] = { 0, 0x7fffffff0ull, 0x101000 };
    put_root(0x100000, true, entries, 3);
    put_rsdp(0xe0000, 2, 0, 0x100000);
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), 0);
    CHECK_EQ(tb.count, 1);
    CHECK(acpi_tables_find(&tb, "APIC", 0, &len) != NULL);
    CHECK(acpi_tables_find(&tb, "APIC", 1, &len) == NULL);
    CHECK(acpi_tables_find(&tb, "FACP", 0, &len) == NULL);
    /* a root table whose length runs past memory is refused */
    put32(mem + 0x100000 + 4, MEM_SIZE);
    CHECK_EQ(acpi_tables_open(&tb, fake_map, 0xe0000), -EINVAL);
}

UNIT_TEST(acpi_madt_four_cpus_overrides)
{
    setup();
    struct tbl t = madt_begin(0x100000, 0xfee00000, 1);
    madt_lapic(&t, 0, 1);
    madt_lapic(&t, 1, 1);
    madt_lapic(&t, 2, 0);    /* disabled */
    madt_lapic(&t, 3, 1);
    madt_lapic(&t, 4, 1);
    madt_lapic(&t, 5, 2);    /* online capable only: hot-plug, not started */
    madt_lapic(&t, 0xff, 1); /* invalid ID */
    madt_ioapic(&t, 7, 0xfec00000, 0);
    madt_override(&t, 0, 0, 2, 0);
    madt_override(&t, 0, 9, 9, 0xd);
    madt_override(&t, 1, 4, 20, 0); /* not ISA: ignored */
    madt_override(&t, 0, 9, 19, 0xf); /* restates IRQ 9 */
    uint8_t *nmi = madt_entry(&t, 4, 6); /* LAPIC NMI: ignored */
    nmi[2] = 0xff;
    nmi[5] = 1;
    uint32_t len = tbl_end(&t);
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), 0);
    CHECK_EQ(plat.cpu_count, 4);
    CHECK_EQ(plat.cpus[0].apic_id, 0);
    CHECK_EQ(plat.cpus[1].apic_id, 1);
    CHECK_EQ(plat.cpus[2].apic_id, 3);
    CHECK_EQ(plat.cpus[3].apic_id, 4);
    CHECK_EQ(plat.lapic_phys, 0xfee00000);
    CHECK(plat.has_8259);
    CHECK_EQ(plat.ioapic_count, 1);
    CHECK_EQ(plat.ioapics[0].id, 7);
    CHECK_EQ(plat.ioapics[0].phys, 0xfec00000);
    CHECK_EQ(plat.ioapics[0].gsi_base, 0);
    CHECK_EQ(plat.override_count, 2);
    CHECK_EQ(plat.overrides[0].source, 0);
    CHECK_EQ(plat.overrides[0].gsi, 2);
    CHECK_EQ(plat.overrides[0].flags, 0);
    CHECK_EQ(plat.overrides[1].source, 9);
    CHECK_EQ(plat.overrides[1].gsi, 19);
    CHECK_EQ(plat.overrides[1].flags, IRQ_POLARITY_LOW | IRQ_TRIGGER_LEVEL);
}

UNIT_TEST(acpi_madt_x2apic_and_address_override)
{
    setup();
    struct tbl t = madt_begin(0x100000, 0, 0); /* no PCAT_COMPAT, LAPIC address 0 */
    madt_lapic(&t, 0, 1);
    madt_x2apic(&t, 0, 1);           /* same CPU listed twice */
    madt_x2apic(&t, 300, 1);
    madt_x2apic(&t, 301, 0);         /* disabled */
    madt_x2apic(&t, 0xffffffffu, 1); /* invalid */
    madt_x2apic(&t, 70000, 1);
    madt_ioapic(&t, 1, 0xfec00000, 0);
    madt_ioapic(&t, 2, 0xfec10000, 24);
    uint8_t *e = madt_entry(&t, 5, 12);
    put64(e + 4, 0x1fee00000ull);
    uint32_t len = tbl_end(&t);
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), 0);
    CHECK_EQ(plat.cpu_count, 3);
    CHECK_EQ(plat.cpus[0].apic_id, 0);
    CHECK_EQ(plat.cpus[1].apic_id, 300);
    CHECK_EQ(plat.cpus[2].apic_id, 70000);
    CHECK(!plat.has_8259);
    CHECK_EQ(plat.lapic_phys, 0x1fee00000ull);
    CHECK_EQ(plat.ioapic_count, 2);
    CHECK_EQ(plat.ioapics[1].gsi_base, 24);
    CHECK_EQ(plat.override_count, 0);
}

UNIT_TEST(acpi_madt_limits)
{
    setup();
    struct tbl t = madt_begin(0x100000, 0xfee00000, 1);
    for (unsigned i = 0; i < PLATFORM_MAX_CPUS + 6; i++)
        madt_x2apic(&t, i, 1);
    for (unsigned i = 0; i < PLATFORM_MAX_IOAPICS + 2; i++)
        madt_ioapic(&t, (uint8_t)i, 0xfec00000 + i * 0x1000, i * 24);
    for (unsigned i = 0; i < PLATFORM_MAX_OVERRIDES + 3; i++)
        madt_override(&t, 0, (uint8_t)i, i, 0);
    uint32_t len = tbl_end(&t);
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), 0);
    CHECK_EQ(plat.cpu_count, PLATFORM_MAX_CPUS);
    CHECK_EQ(plat.cpus[PLATFORM_MAX_CPUS - 1].apic_id, PLATFORM_MAX_CPUS - 1);
    CHECK_EQ(plat.ioapic_count, PLATFORM_MAX_IOAPICS);
    CHECK_EQ(plat.override_count, PLATFORM_MAX_OVERRIDES);
}

UNIT_TEST(acpi_madt_malformed_leaves_platform_alone)
{
    setup();
    struct tbl t = madt_begin(0x100000, 0xfee00000, 0);
    madt_lapic(&t, 0, 1);
    madt_lapic(&t, 1, 1);
    uint8_t *e = madt_entry(&t, 0, 8);
    uint32_t len = tbl_end(&t);
    /* entry length 0 would loop forever */
    e[1] = 0;
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), -EINVAL);
    /* shorter than its type needs */
    e[1] = 4;
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), -EINVAL);
    /* runs past the table */
    e[1] = 9;
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), -EINVAL);
    /* a single stray byte at the end */
    e[1] = 8;
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len - 7), len - 7, &plat), -EINVAL);
    /* header only, or shorter */
    CHECK_EQ(acpi_madt_parse(exact(0x100000, 44), 44, &plat), -ENODEV);
    CHECK_EQ(acpi_madt_parse(exact(0x100000, 40), 40, &plat), -EINVAL);
    /* no enabled CPU */
    t = madt_begin(0x100000, 0xfee00000, 0);
    madt_lapic(&t, 0, 0);
    len = tbl_end(&t);
    CHECK_EQ(acpi_madt_parse(exact(0x100000, len), len, &plat), -ENODEV);
    CHECK_EQ(plat.cpu_count, 1);
    CHECK_EQ(plat.ioapic_count, 1);
    CHECK(plat.has_8259);
    CHECK_STR(plat.source, "default");
}

/* FADT of ACPI 6 size with the fields we read. */
#define FADT_LEN 276
static uint8_t *fadt_begin(uint64_t phys, struct tbl *t)
{
    *t = tbl_begin(phys, "FACP", 6);
    tbl_grow(t, FADT_LEN - ACPI_SDT_HEADER_LEN);
    return mem + phys;
}

static void put_gas(uint8_t *g, uint8_t space, uint8_t width, uint64_t addr)
{
    g[0] = space;
    g[1] = width;
    g[3] = width / 8;
    put64(g + 4, addr);
}

UNIT_TEST(acpi_fadt_legacy_fields)
{
    setup();
    struct tbl t;
    uint8_t *f = fadt_begin(0x100000, &t);
    put32(f + 40, 0x101000);  /* DSDT */
    put32(f + 64, 0x604);     /* PM1a_CNT_BLK */
    put32(f + 76, 0x608);     /* PM_TMR_BLK */
    f[91] = 4;                /* PM_TMR_LEN */
    put32(f + 112, 1u << 8 | 1u << 10); /* TMR_VAL_EXT, RESET_REG_SUP */
    put_gas(f + 116, 1, 8, 0xcf9);
    f[128] = 6;
    uint32_t len = tbl_end(&t);
    struct acpi_poweroff off = { 0 };
    uint64_t dsdt = 0;
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK_EQ(dsdt, 0x101000);
    CHECK_EQ(off.pm1a_cnt, 0x604);
    CHECK_EQ(off.pm1b_cnt, 0);
    CHECK(!off.hw_reduced);
    CHECK_EQ(plat.pm_timer_port, 0x608);
    CHECK(plat.pm_timer_32bit);
    CHECK_EQ(plat.reset_reg_space, 1);
    CHECK_EQ(plat.reset_reg_addr, 0xcf9);
    CHECK_EQ(plat.reset_value, 6);
    /* an ACPI 1.0 FADT (116 bytes) has no X_ fields and no reset register */
    plat_reset();
    put32(mem + 0x100000 + 4, 116);
    fix_sum(mem + 0x100000, 116, 9);
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, 116), 116, &plat, &off, &dsdt), 0);
    CHECK_EQ(dsdt, 0x101000);
    CHECK_EQ(off.pm1a_cnt, 0x604);
    CHECK_EQ(plat.pm_timer_port, 0x608);
    CHECK_EQ(plat.reset_reg_space, 0);
    /* shorter than ACPI 1.0: refused */
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, 112), 112, &plat, &off, &dsdt), -EINVAL);
}

UNIT_TEST(acpi_fadt_x_fields_preferred)
{
    setup();
    struct tbl t;
    uint8_t *f = fadt_begin(0x100000, &t);
    put32(f + 40, 0x101000);
    put64(f + 140, 0x2000000000ull); /* X_DSDT */
    put32(f + 64, 0x404);
    put32(f + 68, 0x405);
    put_gas(f + 172, 1, 16, 0xb004); /* X_PM1a_CNT_BLK */
    put_gas(f + 184, 0, 16, 0xfe000000); /* X_PM1b_CNT_BLK in memory: unsupported */
    put32(f + 76, 0x408);
    f[91] = 4;
    put_gas(f + 208, 1, 32, 0xb008); /* X_PM_TMR_BLK */
    put_gas(f + 116, 0, 8, 0xfed00000); /* memory reset register: not kept */
    put32(f + 112, 1u << 10);
    uint32_t len = tbl_end(&t);
    struct acpi_poweroff off = { 0 };
    uint64_t dsdt = 0;
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK_EQ(dsdt, 0x2000000000ull);
    CHECK_EQ(off.pm1a_cnt, 0xb004);
    CHECK_EQ(off.pm1b_cnt, 0);
    CHECK_EQ(plat.pm_timer_port, 0xb008);
    CHECK(!plat.pm_timer_32bit);
    CHECK_EQ(plat.reset_reg_space, 0);
    /* no PM timer when PM_TMR_LEN is 0; a port beyond 16 bits is garbage */
    plat_reset();
    f = mem + 0x100000;
    f[91] = 0;
    fix_sum(f, len, 9);
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK_EQ(plat.pm_timer_port, 0);
    f[91] = 4;
    put_gas(f + 208, 1, 32, 0x12345);
    fix_sum(f, len, 9);
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK_EQ(plat.pm_timer_port, 0);
}

UNIT_TEST(acpi_fadt_hardware_reduced)
{
    setup();
    struct tbl t;
    uint8_t *f = fadt_begin(0x100000, &t);
    put64(f + 140, 0x101000);
    put32(f + 64, 0x604); /* ignored in hardware-reduced mode */
    put32(f + 76, 0x608);
    f[91] = 4;
    put32(f + 112, 1u << 20);
    put_gas(f + 244, 1, 8, 0x3c0); /* Cloud Hypervisor's SLEEP_CONTROL_REG */
    uint32_t len = tbl_end(&t);
    struct acpi_poweroff off = { 0 };
    uint64_t dsdt = 0;
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK(off.hw_reduced);
    CHECK_EQ(off.pm1a_cnt, 0);
    CHECK_EQ(off.sleep_ctl_space, ACPI_SPACE_IO);
    CHECK_EQ(off.sleep_ctl_addr, 0x3c0);
    CHECK_EQ(plat.pm_timer_port, 0);
    CHECK_EQ(dsdt, 0x101000);
    /* in memory (QEMU microvm's GED) */
    put_gas(f + 244, 0, 8, 0xfea00001);
    fix_sum(f, len, 9);
    off = (struct acpi_poweroff){ 0 };
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, len), len, &plat, &off, &dsdt), 0);
    CHECK_EQ(off.sleep_ctl_space, ACPI_SPACE_MEMORY);
    CHECK_EQ(off.sleep_ctl_addr, 0xfea00001);
    /* a FADT too short to hold SLEEP_CONTROL_REG has none */
    off = (struct acpi_poweroff){ 0 };
    put32(f + 4, 244);
    fix_sum(f, 244, 9);
    CHECK_EQ(acpi_fadt_parse(exact(0x100000, 244), 244, &plat, &off, &dsdt), 0);
    CHECK(off.hw_reduced);
    CHECK_EQ(off.sleep_ctl_addr, 0);
}

UNIT_TEST(acpi_hpet_table)
{
    setup();
    struct tbl t = tbl_begin(0x100000, "HPET", 1);
    uint8_t *b = tbl_grow(&t, 20);
    put32(b, 0x8086a201);
    put_gas(b + 4, 0, 64, 0xfed00000);
    uint32_t len = tbl_end(&t);
    CHECK_EQ(acpi_hpet_parse(exact(0x100000, len), len, &plat), 0);
    CHECK_EQ(plat.hpet_phys, 0xfed00000);
    plat_reset();
    CHECK_EQ(acpi_hpet_parse(exact(0x100000, 50), 50, &plat), -EINVAL);
    put_gas(b + 4, 1, 64, 0x1234); /* I/O space makes no sense for an HPET */
    CHECK_EQ(acpi_hpet_parse(exact(0x100000, len), len, &plat), -EINVAL);
    CHECK_EQ(plat.hpet_phys, 0);
}

static int s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
    uint8_t *copy = malloc(len ? len : 1); /* exact size for ASan */
    memcpy(copy, aml, len);
    int rc = acpi_aml_find_s5(copy, len, a, b);
    free(copy);
    return rc;
}

#define S5(expect_rc, ea, eb, ...)                                            \
    do {                                                                      \
        static const uint8_t aml_[] = { __VA_ARGS__ };                        \
        uint8_t a_ = 0x55, b_ = 0x55;                                         \
        CHECK_EQ(s5(aml_, sizeof(aml_), &a_, &b_), expect_rc);                \
        if ((expect_rc) == 0) {                                               \
            CHECK_EQ(a_, ea);                                                 \
            CHECK_EQ(b_, eb);                                                 \
        }                                                                     \
    } while (0)

#define NAME_S5 0x08, '_', 'S', '5', '_'

UNIT_TEST(acpi_aml_s5_forms)
{
    /* QEMU pc/q35: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
    S5(0, 0, 0, NAME_S5, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00);
    /* BytePrefix values, root-prefixed name */
    S5(0, 5, 5, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);
    /* OneOp, WordPrefix */
    S5(0, 1, 7, NAME_S5, 0x12, 0x06, 0x02, 0x01, 0x0b, 0x07, 0x00);
    /* DWordPrefix and QWordPrefix */
    S5(0, 3, 4, NAME_S5, 0x12, 0x10, 0x02, 0x0c, 3, 0, 0, 0, 0x0e, 4, 0, 0, 0, 0, 0, 0, 0);
    /* one element (Cloud Hypervisor): SLP_TYPb is 0 */
    S5(0, 5, 0, NAME_S5, 0x12, 0x04, 0x01, 0x0a, 0x05);
    /* two-byte PkgLength: 0x47 0x00 is length 7 */
    S5(0, 2, 3, NAME_S5, 0x12, 0x47, 0x00, 0x02, 0x0a, 0x02, 0x0a, 0x03);
    /* parent prefix */
    S5(0, 6, 0, 0x08, '^', '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x06, 0x00);
    /* inside Scope (\) and after other objects */
    S5(0, 7, 7, 0x10, 0x15, '\\', 0x00, 0x08, 'X', 'Y', 'Z', '_', 0x0a, 0x01,
       NAME_S5, 0x12, 0x07, 0x03, 0x0a, 0x07, 0x0a, 0x07, 0x00);
}

UNIT_TEST(acpi_aml_s5_false_matches_and_corruption)
{
    /* not found */
    S5(-ENOENT, 0, 0, 0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x01, 0x00);
    S5(-ENOENT, 0, 0, '_', 'S', '5', '_');
    S5(-ENOENT, 0, 0, NAME_S5);
    /* in a string, then as a method (MethodOp 0x14, PkgLength, name), then the real one */
    S5(0, 5, 0, 0x0d, '_', 'S', '5', '_', 0x00,
       0x14, 0x06, '_', 'S', '5', '_', 0x00, 0xa4, 0x00,
       NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00);
    /* PkgLength past the end of the table */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x3f, 0x02, 0x0a, 0x05, 0x00);
    /* PkgLength lead byte promises bytes that are not there */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0xc0);
    /* PkgLength too small to hold NumElements */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x01, 0x02, 0x00, 0x00);
    /* package ends inside the second element */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x0b, 0x01, 0x00, 0x00);
    /* a prefix whose data runs past the table */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x05, 0x01, 0x0c, 0x05);
    /* no elements */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x02, 0x00);
    /* not a package, or not integers */
    S5(-ENOENT, 0, 0, NAME_S5, 0x0a, 0x05);
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x04, 0x01, 'A', 'B');
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x03, 0x01, 0xff);
    /* sleep type out of SLP_TYP's 3 bits */
    S5(-ENOENT, 0, 0, NAME_S5, 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00);
    /* empty input */
    uint8_t a, b;
    CHECK_EQ(acpi_aml_find_s5((const uint8_t *)"", 0, &a, &b), -ENOENT);
}

/* A whole firmware: RSDP -> XSDT -> FADT (-> DSDT), MADT, HPET, SSDT. */
static void put_dsdt(uint64_t phys, const char *sig, const uint8_t *aml, uint32_t n)
{
    struct tbl t = tbl_begin(phys, sig, 2);
    memcpy(tbl_grow(&t, n), aml, n);
    tbl_end(&t);
}

static void put_firmware(bool s5_in_ssdt)
{
    static const uint8_t s5[] = { 0x10, 0x0e, '\\', 0x00, 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02,
                                  0x0a, 0x05, 0x00 };
    static const uint8_t other[] = { 0x08, 'F', 'O', 'O', '_', 0x0a, 0x01 };
    struct tbl t;
    uint8_t *f = fadt_begin(0x110000, &t);
    put64(f + 140, 0x111000);
    put32(f + 64, 0x604);
    put32(f + 76, 0x608);
    f[91] = 4;
    put32(f + 112, 1u << 8);
    tbl_end(&t);
    put_dsdt(0x111000, "DSDT", s5_in_ssdt ? other : s5, s5_in_ssdt ? sizeof(other) : sizeof(s5));
    put_dsdt(0x112000, "SSDT", other, sizeof(other));
    put_dsdt(0x113000, "SSDT", s5, sizeof(s5));
    struct tbl m = madt_begin(0x114000, 0xfee00000, 1);
    for (unsigned i = 0; i < 4; i++)
        madt_lapic(&m, (uint8_t)i, 1);
    madt_lapic(&m, 4, 0);
    madt_ioapic(&m, 0, 0xfec00000, 0);
    madt_override(&m, 0, 0, 2, 0);
    tbl_end(&m);
    struct tbl h = tbl_begin(0x115000, "HPET", 1);
    put_gas(tbl_grow(&h, 20) + 4, 0, 64, 0xfed00000);
    tbl_end(&h);
    uint64_t entries[] = { 0x110000, 0x112000, 0x113000, 0x114000, 0x115000 };
    put_root(0x100000, true, entries, 5);
    put_rsdp(0xf59e0, 2, 0, 0x100000);
}

UNIT_TEST(acpi_whole_platform)
{
    for (int in_ssdt = 0; in_ssdt <= 1; in_ssdt++) {
        setup();
        put_firmware(in_ssdt);
        struct acpi_poweroff off = { 0 };
        CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), 0);
        CHECK_STR(plat.source, "acpi");
        CHECK_EQ(plat.cpu_count, 4);
        CHECK_EQ(plat.ioapic_count, 1);
        CHECK_EQ(plat.override_count, 1);
        CHECK_EQ(plat.hpet_phys, 0xfed00000);
        CHECK_EQ(plat.pm_timer_port, 0x608);
        CHECK(plat.pm_timer_32bit);
        CHECK(off.valid);
        CHECK_EQ(off.pm1a_cnt, 0x604);
        CHECK_EQ(off.slp_typa, 5);
        CHECK_EQ(off.slp_typb, 0);
        /* the loader's RSDP gives the same answer */
        plat_reset();
        CHECK_EQ(acpi_parse_platform(fake_map, 0xf59e0, &plat, &off), 0);
        CHECK_EQ(plat.cpu_count, 4);
    }
}

UNIT_TEST(acpi_whole_platform_bad_madt_keeps_the_rest)
{
    setup();
    put_firmware(false);
    mem[0x114000 + 50] ^= 0x40; /* MADT checksum broken */
    struct acpi_poweroff off = { 0 };
    CHECK(acpi_parse_platform(fake_map, 0, &plat, &off) != 0);
    CHECK_STR(plat.source, "default");
    CHECK_EQ(plat.cpu_count, 1);
    CHECK_EQ(plat.hpet_phys, 0xfed00000); /* timers and power-off still count */
    CHECK(off.valid);
    /* a DSDT pointer to garbage: no S5, but no crash either */
    setup();
    put_firmware(false);
    memset(mem + 0x111000, 0xff, 64);
    memset(mem + 0x113000, 0, 64);
    off = (struct acpi_poweroff){ 0 };
    CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), 0);
    CHECK(!off.valid);
    /* no ACPI at all */
    setup();
    CHECK_EQ(acpi_parse_platform(fake_map, 0, &plat, &off), -ENOENT);
    CHECK_STR(plat.source, "default");
}

UNIT_TEST(acpi_fuzz_tables_do_not_crash)
{
    /* Random bytes in every table of a valid firmware, checksums fixed up so
     * the parsers see them: whatever comes out, nothing reads out of bounds. */
    uint32_t seed = 12345;
    static const uint64_t tables[] = { 0x110000, 0x111000, 0x113000, 0x114000, 0x115000 };
    for (int round = 0; round < 300; round++) {
        setup();
        put_firmware(false);
        uint64_t phys = tables[round % 5];
        uint32_t len = get32(mem + phys + 4);
        for (int k = 0; k < 8; k++) {
            seed = seed * 1103515245 + 12345;
            uint32_t at = 36 + (seed >> 8) % (len - 36);
            mem[phys + at] = (uint8_t)(seed >> 24);
        }
        fix_sum(mem + phys, len, 9);
        struct acpi_poweroff off = { 0 };
        int rc = acpi_parse_platform(fake_map, 0, &plat, &off);
        CHECK(rc == 0 || plat.cpu_count == 1);
        CHECK(plat.cpu_count >= 1 && plat.cpu_count <= PLATFORM_MAX_CPUS);
    }
}
