/* Intel MultiProcessor Specification 1.4 tables, for machines without ACPI
 * (QEMU microvm's qboot, Firecracker): CPUs, IOAPICs, ISA interrupt routing.
 * Pure code, host tested. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

/* Floating pointer structure */
#define FPS_LEN 16
#define FPS_OFF_CONFIG 4
#define FPS_OFF_LENGTH 8 /* in 16-byte units */
#define FPS_OFF_REVISION 9
#define FPS_OFF_FEATURE1 11 /* non-zero: a default configuration, no table */
#define FPS_OFF_FEATURE2 12
#define FPS_IMCR_PRESENT (1u << 7)

/* Configuration table header */
#define MPC_HEADER_LEN 44
#define MPC_OFF_LENGTH 4
#define MPC_OFF_LAPIC 36

enum mpc_type { MPC_CPU = 0, MPC_BUS = 1, MPC_IOAPIC = 2, MPC_IOINT = 3, MPC_LINT = 4 };
#define MPC_CPU_LEN 20
#define MPC_OTHER_LEN 8
#define MPC_CPU_ENABLED (1u << 0)
#define MPC_CPU_BSP (1u << 1)
#define MPC_IOAPIC_ENABLED (1u << 0)
#define MPC_INT_VECTORED 0 /* INT; NMI, SMI and ExtINT entries are not routes */
#define MPC_DEST_ALL_IOAPICS 0xff
#define ISA_IRQS 16

/* MP tables give no GSI bases. Pins are numbered consecutively over the
 * IOAPICs, as ACPI does, assuming 24 pins each: the pin count is an IOAPIC
 * register, not in the table, and every VMM's IOAPIC has 24. */
#define MPC_IOAPIC_PINS 24

static bool fps_valid(const uint8_t *b, size_t avail)
{
    if (avail < FPS_LEN || memcmp(b, "_MP_", 4) != 0)
        return false;
    size_t len = (size_t)b[FPS_OFF_LENGTH] * 16;
    uint8_t rev = b[FPS_OFF_REVISION];
    return len >= FPS_LEN && len <= avail && (rev == 1 || rev == 4) && acpi_checksum_ok(b, len);
}

uint64_t mptable_find(acpi_map_fn map)
{
    uint64_t ebda = acpi_ebda_phys(map), found = 0;
    if (ebda)
        found = acpi_scan_range(map, ebda, 1024, fps_valid);
    if (!found)
        found = acpi_scan_range(map, 639 * 1024, 1024, fps_valid);
    if (!found)
        found = acpi_scan_range(map, 0xf0000, 0x10000, fps_valid);
    return found;
}

struct mpc_state {
    struct platform_info *p;
    uint8_t isa_bus[256 / 8]; /* bitmap of bus IDs whose type is "ISA" */
    unsigned dropped;
};

static void mpc_cpu(struct mpc_state *s, const uint8_t *e)
{
    struct platform_info *p = s->p;
    if (!(e[3] & MPC_CPU_ENABLED))
        return;
    if (p->cpu_count == PLATFORM_MAX_CPUS) {
        s->dropped++;
        return;
    }
    unsigned at = p->cpu_count++;
    if (e[3] & MPC_CPU_BSP) { /* the boot CPU goes first */
        for (; at > 0; at--)
            p->cpus[at] = p->cpus[at - 1];
    }
    p->cpus[at].apic_id = e[1];
}

static void mpc_bus(struct mpc_state *s, const uint8_t *e)
{
    /* The type is a blank-padded string: "ISA   ". */
    if (memcmp(e + 2, "ISA", 3) == 0 && (e[5] == ' ' || e[5] == 0))
        s->isa_bus[e[1] / 8] |= (uint8_t)(1u << (e[1] % 8));
}

static void mpc_ioapic(struct mpc_state *s, const uint8_t *e)
{
    struct platform_info *p = s->p;
    if (!(e[3] & MPC_IOAPIC_ENABLED))
        return;
    if (p->ioapic_count == PLATFORM_MAX_IOAPICS) {
        s->dropped++;
        return;
    }
    struct platform_ioapic *a = &p->ioapics[p->ioapic_count];
    a->id = e[1];
    a->phys = fw_rd32(e + 4);
    a->gsi_base = p->ioapic_count * MPC_IOAPIC_PINS;
    p->ioapic_count++;
}

static const struct platform_ioapic *mpc_find_ioapic(const struct platform_info *p, uint8_t id)
{
    for (unsigned i = 0; i < p->ioapic_count; i++) {
        if (id == MPC_DEST_ALL_IOAPICS || p->ioapics[i].id == id)
            return &p->ioapics[i];
    }
    return NULL;
}

/* An ISA IRQ routed anywhere but its own pin, or with explicit polarity or
 * trigger, becomes an override, just as the MADT would state it. */
static void mpc_ioint(struct mpc_state *s, const uint8_t *e)
{
    struct platform_info *p = s->p;
    uint8_t bus = e[4], irq = e[5];
    if (e[1] != MPC_INT_VECTORED || !(s->isa_bus[bus / 8] & (1u << (bus % 8))) || irq >= ISA_IRQS)
        return;
    const struct platform_ioapic *a = mpc_find_ioapic(p, e[6]);
    if (!a)
        return;
    struct platform_irq_override o = { irq, a->gsi_base + e[7], fw_rd16(e + 2) };
    if (o.gsi == irq && o.flags == 0)
        return;
    for (unsigned i = 0; i < p->override_count; i++) {
        if (p->overrides[i].source == irq) {
            p->overrides[i] = o;
            return;
        }
    }
    if (p->override_count == PLATFORM_MAX_OVERRIDES) {
        s->dropped++;
        return;
    }
    p->overrides[p->override_count++] = o;
}

/* Two passes: interrupt entries name buses and IOAPICs, which the spec
 * orders first but a sloppy table might not. Entries are walked by the base
 * table's length, not its entry count, which qboot leaves at 0. */
static int mpc_walk(struct mpc_state *s, const uint8_t *t, uint32_t len, int pass)
{
    for (uint32_t off = MPC_HEADER_LEN; off < len;) {
        uint8_t type = t[off];
        uint32_t elen = type == MPC_CPU ? MPC_CPU_LEN : MPC_OTHER_LEN;
        if (type > MPC_LINT || elen > len - off) {
            pr_warn("mptable: entry at offset %u (type %u) is malformed\n", off, type);
            return -EINVAL;
        }
        const uint8_t *e = t + off;
        if (pass == 0 && type == MPC_CPU)
            mpc_cpu(s, e);
        else if (pass == 0 && type == MPC_BUS)
            mpc_bus(s, e);
        else if (pass == 0 && type == MPC_IOAPIC)
            mpc_ioapic(s, e);
        else if (pass == 1 && type == MPC_IOINT)
            mpc_ioint(s, e);
        /* Local interrupt entries (LINT0 ExtINT, LINT1 NMI) match how the
         * LAPIC driver programs LINT pins anyway. */
        off += elen;
    }
    return 0;
}

/* The configuration table: header, then the whole base table, checksummed. */
static const uint8_t *mpc_map(acpi_map_fn map, uint64_t phys, uint32_t *len)
{
    const uint8_t *h = phys ? map(phys, MPC_HEADER_LEN) : NULL;
    if (!h || memcmp(h, "PCMP", 4) != 0) {
        pr_warn("mptable: no configuration table at %#lx\n", phys);
        return NULL;
    }
    *len = fw_rd16(h + MPC_OFF_LENGTH);
    const uint8_t *t = *len >= MPC_HEADER_LEN ? map(phys, *len) : NULL;
    if (!t || !acpi_checksum_ok(t, *len)) {
        pr_warn("mptable: configuration table at %#lx has a bad length or checksum\n", phys);
        return NULL;
    }
    return t;
}

int mptable_parse(acpi_map_fn map, uint64_t fps_phys, struct platform_info *p)
{
    const uint8_t *f = map(fps_phys, FPS_LEN);
    size_t flen = f && f[FPS_OFF_LENGTH] > 1 ? (size_t)f[FPS_OFF_LENGTH] * 16 : FPS_LEN;
    if (f && flen > FPS_LEN)
        f = map(fps_phys, flen);
    if (!f || !fps_valid(f, flen)) {
        pr_warn("mptable: floating pointer at %#lx is not valid\n", fps_phys);
        return -EINVAL;
    }
    if (f[FPS_OFF_FEATURE1]) {
        pr_warn("mptable: default configuration %u is not supported\n", f[FPS_OFF_FEATURE1]);
        return -EINVAL;
    }
    uint32_t len;
    const uint8_t *t = mpc_map(map, fw_rd32(f + FPS_OFF_CONFIG), &len);
    if (!t)
        return -EINVAL;
    /* Work on a copy so that a bad table leaves `p` as it was. */
    struct platform_info out = *p;
    out.cpu_count = out.ioapic_count = out.override_count = 0;
    out.lapic_phys = fw_rd32(t + MPC_OFF_LAPIC) ? fw_rd32(t + MPC_OFF_LAPIC) : DEFAULT_LAPIC_PHYS;
    /* IMCR present: the machine can run in PIC mode, so it has 8259s. */
    out.has_8259 = f[FPS_OFF_FEATURE2] & FPS_IMCR_PRESENT;
    struct mpc_state s = { .p = &out };
    if (mpc_walk(&s, t, len, 0) != 0 || mpc_walk(&s, t, len, 1) != 0)
        return -EINVAL;
    if (s.dropped)
        pr_warn("mptable: %u entries beyond what is supported were dropped\n", s.dropped);
    if (!out.cpu_count) {
        pr_warn("mptable: no enabled CPU\n");
        return -ENODEV;
    }
    *p = out;
    p->source = "mptable";
    return 0;
}
