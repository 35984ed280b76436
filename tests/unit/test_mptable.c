/* Host tests of the Intel MP table parser on synthetic tables in a fake
 * physical memory: the floating pointer search, CPUs, IOAPICs, ISA interrupt
 * entries, and corrupt tables. Layouts follow MPS 1.4's byte offsets. */
#include "unit.h"
#include <string.h>

#include "drivers/acpi.h"
#include "lib/errno.h"

/* Fake physical memory; every map is an exact-size copy so that ASan flags
 * reads past what the parser mapped. */
#define MEM_SIZE 0x110000
static uint8_t mem[MEM_SIZE];
static void *maps[1024];
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

static struct platform_info plat;

static void setup(void)
{
    for (unsigned i = 0; i < nmaps; i++)
        free(maps[i]);
    nmaps = 0;
    memset(mem, 0, sizeof(mem));
    memset(&plat, 0, sizeof(plat));
    plat.source = "default";
    plat.cpu_count = 1;
    plat.lapic_phys = DEFAULT_LAPIC_PHYS;
    plat.ioapic_count = 1;
    plat.ioapics[0].phys = DEFAULT_IOAPIC_PHYS;
    plat.has_8259 = true;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
    uint8_t s = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    p[at] = (uint8_t)-s;
}

static void put_fps(uint64_t phys, uint32_t config, uint8_t feature1, uint8_t feature2)
{
    uint8_t *f = mem + phys;
    memcpy(f, "_MP_", 4);
    put32(f + 4, config);
    f[8] = 1;
    f[9] = 4;
    f[11] = feature1;
    f[12] = feature2;
    fix_sum(f, 16, 10);
}

/* Configuration table under construction. */
struct mpc {
    uint64_t phys;
    uint16_t len;
};

static struct mpc mpc_begin(uint64_t phys)
{
    uint8_t *h = mem + phys;
    memcpy(h, "PCMP", 4);
    h[6] = 4;
    memcpy(h + 8, "OSPREY  ", 8);
    memcpy(h + 16, "TEST        ", 12);
    put32(h + 36, 0xfee00000);
    return (struct mpc){ phys, 44 };
}

static uint8_t *mpc_add(struct mpc *c, uint8_t type)
{
    uint16_t n = type == 0 ? 20 : 8;
    uint8_t *e = mem + c->phys + c->len;
    memset(e, 0, n);
    e[0] = type;
    c->len = (uint16_t)(c->len + n);
    return e;
}

static void mpc_cpu(struct mpc *c, uint8_t apic_id, uint8_t flags)
{
    uint8_t *e = mpc_add(c, 0);
    e[1] = apic_id;
    e[2] = 0x14;
    e[3] = flags;
}

static void mpc_bus(struct mpc *c, uint8_t id, const char *type6)
{
    uint8_t *e = mpc_add(c, 1);
    e[1] = id;
    memcpy(e + 2, type6, 6);
}

static void mpc_ioapic(struct mpc *c, uint8_t id, uint8_t flags, uint32_t addr)
{
    uint8_t *e = mpc_add(c, 2);
    e[1] = id;
    e[2] = 0x11;
    e[3] = flags;
    put32(e + 4, addr);
}

static void mpc_ioint(struct mpc *c, uint8_t kind, uint16_t flags, uint8_t bus, uint8_t irq,
                      uint8_t apic, uint8_t pin)
{
    uint8_t *e = mpc_add(c, 3);
    e[1] = kind;
    put16(e + 2, flags);
    e[4] = bus;
    e[5] = irq;
    e[6] = apic;
    e[7] = pin;
}

/* Entry count stays 0, as qboot writes it: the parser must walk by length. */
static void mpc_end(struct mpc *c)
{
    put16(mem + c->phys + 4, c->len);
    fix_sum(mem + c->phys, c->len, 7);
}

/* Two CPUs with the BSP listed second, a disabled third, ISA and PCI buses. */
static void put_typical(uint64_t fps, uint64_t cfg, uint8_t feature2)
{
    struct mpc c = mpc_begin(cfg);
    mpc_cpu(&c, 1, 1);
    mpc_cpu(&c, 0, 3);      /* enabled, boot processor */
    mpc_cpu(&c, 2, 0);      /* disabled */
    mpc_bus(&c, 0, "PCI   ");
    mpc_bus(&c, 1, "ISA   ");
    mpc_ioapic(&c, 5, 1, 0xfec00000);
    mpc_ioapic(&c, 6, 0, 0xfec10000); /* disabled */
    mpc_ioint(&c, 3, 0, 1, 0, 5, 0);  /* ExtINT: not a route */
    mpc_ioint(&c, 0, 0, 1, 0, 5, 2);  /* IRQ0 -> pin 2 */
    mpc_ioint(&c, 0, 0, 1, 1, 5, 1);  /* identity: no override */
    mpc_ioint(&c, 0, 0xf, 1, 9, 5, 9); /* level, active low */
    mpc_ioint(&c, 0, 0, 1, 4, 0xff, 4); /* to every IOAPIC: identity */
    mpc_ioint(&c, 0, 0xf, 0, 8, 5, 16); /* PCI bus: not ISA */
    mpc_ioint(&c, 0, 0, 1, 20, 5, 20); /* ISA IRQ beyond 15 */
    mpc_ioint(&c, 0, 0, 1, 7, 9, 7);  /* unknown IOAPIC */
    uint8_t *l = mpc_add(&c, 4);      /* local interrupt: ignored */
    l[1] = 3;
    l[6] = 0xff;
    mpc_end(&c);
    put_fps(fps, (uint32_t)cfg, 0, feature2);
}

UNIT_TEST(mptable_two_cpus_and_isa_routes)
{
    setup();
    put_typical(0x9fc00, 0x9fc10, 0x80);
    CHECK_EQ(mptable_find(fake_map), 0x9fc00);
    CHECK_EQ(mptable_parse(fake_map, 0x9fc00, &plat), 0);
    CHECK_STR(plat.source, "mptable");
    CHECK_EQ(plat.cpu_count, 2);
    CHECK_EQ(plat.cpus[0].apic_id, 0); /* the BSP comes first */
    CHECK_EQ(plat.cpus[1].apic_id, 1);
    CHECK_EQ(plat.lapic_phys, 0xfee00000);
    CHECK(plat.has_8259);
    CHECK_EQ(plat.ioapic_count, 1);
    CHECK_EQ(plat.ioapics[0].id, 5);
    CHECK_EQ(plat.ioapics[0].phys, 0xfec00000);
    CHECK_EQ(plat.ioapics[0].gsi_base, 0);
    CHECK_EQ(plat.override_count, 2);
    CHECK_EQ(plat.overrides[0].source, 0);
    CHECK_EQ(plat.overrides[0].gsi, 2);
    CHECK_EQ(plat.overrides[0].flags, 0);
    CHECK_EQ(plat.overrides[1].source, 9);
    CHECK_EQ(plat.overrides[1].gsi, 9);
    CHECK_EQ(plat.overrides[1].flags, IRQ_POLARITY_LOW | IRQ_TRIGGER_LEVEL);
}

UNIT_TEST(mptable_no_imcr_means_no_8259)
{
    setup();
    put_typical(0x9fc00, 0x9fc10, 0);
    CHECK_EQ(mptable_parse(fake_map, 0x9fc00, &plat), 0);
    CHECK(!plat.has_8259);
}

UNIT_TEST(mptable_search_order)
{
    setup();
    CHECK_EQ(mptable_find(fake_map), 0);
    /* BIOS ROM, 16-byte aligned only */
    put_typical(0xf5ba8, 0xf5c00, 0);
    CHECK_EQ(mptable_find(fake_map), 0);
    put_typical(0xf5ba0, 0xf5c00, 0);
    CHECK_EQ(mptable_find(fake_map), 0xf5ba0);
    /* the last KiB of base memory before the ROM */
    put_fps(0x9ffe0, 0xf5c00, 0, 0);
    CHECK_EQ(mptable_find(fake_map), 0x9ffe0);
    /* the EBDA first */
    put16(mem + 0x40e, 0x9000);
    put_fps(0x90100, 0xf5c00, 0, 0);
    CHECK_EQ(mptable_find(fake_map), 0x90100);
    /* beyond the EBDA's first KiB it is not looked for */
    memset(mem + 0x90100, 0, 16);
    put_fps(0x90400, 0xf5c00, 0, 0);
    CHECK_EQ(mptable_find(fake_map), 0x9ffe0);
    /* a floating pointer with a bad checksum or revision is skipped */
    mem[0x9ffe0 + 4] ^= 1;
    CHECK_EQ(mptable_find(fake_map), 0xf5ba0);
    put_fps(0x9ffe0, 0xf5c00, 0, 0);
    mem[0x9ffe0 + 9] = 2;
    fix_sum(mem + 0x9ffe0, 16, 10);
    CHECK_EQ(mptable_find(fake_map), 0xf5ba0);
}

UNIT_TEST(mptable_many_cpus)
{
    setup();
    struct mpc c = mpc_begin(0xf1000);
    for (unsigned i = 0; i < PLATFORM_MAX_CPUS + 4; i++)
        mpc_cpu(&c, (uint8_t)(i + 1), 1);
    mpc_cpu(&c, 0, 3); /* the BSP last, beyond the limit: still first */
    mpc_end(&c);
    put_fps(0xf0000, 0xf1000, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), 0);
    CHECK_EQ(plat.cpu_count, PLATFORM_MAX_CPUS);
    CHECK_EQ(plat.cpus[0].apic_id, 1); /* dropped: the table was full */
    CHECK_EQ(plat.ioapic_count, 0);
}

static void check_unchanged(void)
{
    CHECK_STR(plat.source, "default");
    CHECK_EQ(plat.cpu_count, 1);
    CHECK_EQ(plat.ioapic_count, 1);
    CHECK_EQ(plat.override_count, 0);
    CHECK(plat.has_8259);
}

UNIT_TEST(mptable_corrupt_tables)
{
    setup();
    put_typical(0xf0000, 0xf1000, 0);
    /* configuration table checksum */
    mem[0xf1000 + 50] ^= 1;
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    check_unchanged();
    mem[0xf1000 + 50] ^= 1;
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), 0);
    /* floating pointer checksum */
    setup();
    put_typical(0xf0000, 0xf1000, 0);
    mem[0xf0000 + 5] ^= 1;
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    check_unchanged();
    /* wrong signature */
    setup();
    put_typical(0xf0000, 0xf1000, 0);
    mem[0xf1000] = 'X';
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    /* no configuration table, or one outside memory */
    setup();
    put_fps(0xf0000, 0, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    put_fps(0xf0000, 0x7ffffff0, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    /* a default configuration (no table) is not supported */
    put_fps(0xf0000, 0, 5, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    check_unchanged();
    /* floating pointer at the very end of memory */
    CHECK_EQ(mptable_parse(fake_map, MEM_SIZE - 8, &plat), -EINVAL);
}

UNIT_TEST(mptable_corrupt_lengths_and_entries)
{
    setup();
    put_typical(0xf0000, 0xf1000, 0);
    uint8_t *h = mem + 0xf1000;
    uint16_t len = (uint16_t)(h[4] | h[5] << 8);
    /* base length shorter than the header */
    put16(h + 4, 40);
    fix_sum(h, 40, 7);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    /* base length past readable memory */
    setup();
    struct mpc c = mpc_begin(MEM_SIZE - 64);
    mpc_cpu(&c, 0, 3);
    mpc_end(&c);
    put_fps(0xf0000, MEM_SIZE - 64, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), 0);
    put16(mem + MEM_SIZE - 64 + 4, 0xfff0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    /* base length cutting an entry in half */
    setup();
    put_typical(0xf0000, 0xf1000, 0);
    put16(h + 4, (uint16_t)(len - 4));
    fix_sum(h, len - 4, 7);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    check_unchanged();
    /* an unknown entry type: its size is unknown, so the walk stops */
    setup();
    c = mpc_begin(0xf1000);
    mpc_cpu(&c, 0, 3);
    mpc_add(&c, 7);
    mpc_end(&c);
    put_fps(0xf0000, 0xf1000, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -EINVAL);
    /* no enabled CPU */
    setup();
    c = mpc_begin(0xf1000);
    mpc_cpu(&c, 0, 0);
    mpc_ioapic(&c, 1, 1, 0xfec00000);
    mpc_end(&c);
    put_fps(0xf0000, 0xf1000, 0, 0);
    CHECK_EQ(mptable_parse(fake_map, 0xf0000, &plat), -ENODEV);
    check_unchanged();
}

UNIT_TEST(mptable_fuzz_does_not_crash)
{
    uint32_t seed = 777;
    for (int round = 0; round < 500; round++) {
        setup();
        put_typical(0xf0000, 0xf1000, 0);
        uint8_t *h = mem + 0xf1000;
        uint16_t len = (uint16_t)(h[4] | h[5] << 8);
        for (int k = 0; k < 6; k++) {
            seed = seed * 1103515245 + 12345;
            h[44 + (seed >> 8) % (len - 44)] = (uint8_t)(seed >> 24);
        }
        fix_sum(h, len, 7);
        int rc = mptable_parse(fake_map, 0xf0000, &plat);
        CHECK(rc == 0 || plat.cpu_count == 1);
        CHECK(plat.cpu_count >= 1 && plat.cpu_count <= PLATFORM_MAX_CPUS);
        CHECK(plat.override_count <= PLATFORM_MAX_OVERRIDES);
    }
}
