/* MADT ("APIC") parsing: processors (local APIC and x2APIC entries), IOAPICs,
 * ISA interrupt source overrides, the LAPIC address. Pure code, host tested. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

#define MADT_OFF_LAPIC_ADDR 36
#define MADT_OFF_FLAGS 40
#define MADT_OFF_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0)

enum madt_type {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_NMI_SOURCE = 3,
    MADT_LAPIC_NMI = 4,
    MADT_LAPIC_ADDR = 5,
    MADT_X2APIC = 9,
    MADT_X2APIC_NMI = 10,
};

#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
#define MADT_BUS_ISA 0
#define XAPIC_ID_INVALID 0xff
#define X2APIC_ID_INVALID 0xffffffffu

/* Smallest length of each entry type we read; shorter ones are corrupt. */
static uint8_t madt_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC: return 8;
    case MADT_IOAPIC: return 12;
    case MADT_OVERRIDE: return 10;
    case MADT_LAPIC_ADDR: return 12;
    case MADT_X2APIC: return 16;
    default: return 2;
    }
}

struct madt_state {
    struct platform_info *p;
    unsigned cpus_dropped, ioapics_dropped, overrides_dropped, cpus_hotplug;
};

/* Firmware may list a CPU both as a local APIC and as an x2APIC: once is enough. */
static void madt_add_cpu(struct madt_state *s, uint32_t apic_id, uint32_t flags)
{
    struct platform_info *p = s->p;
    if (!(flags & MADT_CPU_ENABLED)) {
        /* Online-capable but not enabled: a CPU that could be hot-added later.
         * It is not there at boot and we do not do CPU hotplug, so it is not
         * started (an INIT-SIPI to it would only time out). */
        if (flags & MADT_CPU_ONLINE_CAPABLE)
            s->cpus_hotplug++;
        return;
    }
    for (unsigned i = 0; i < p->cpu_count; i++) {
        if (p->cpus[i].apic_id == apic_id)
            return;
    }
    if (p->cpu_count == PLATFORM_MAX_CPUS) {
        s->cpus_dropped++;
        return;
    }
    p->cpus[p->cpu_count++].apic_id = apic_id;
}

static void madt_add_ioapic(struct madt_state *s, const uint8_t *e)
{
    struct platform_info *p = s->p;
    if (p->ioapic_count == PLATFORM_MAX_IOAPICS) {
        s->ioapics_dropped++;
        return;
    }
    struct platform_ioapic *a = &p->ioapics[p->ioapic_count++];
    a->id = e[2];
    a->phys = fw_rd32(e + 4);
    a->gsi_base = fw_rd32(e + 8);
}

static void madt_add_override(struct madt_state *s, const uint8_t *e)
{
    struct platform_info *p = s->p;
    if (e[2] != MADT_BUS_ISA)
        return; /* the spec defines bus 0 (ISA) only */
    struct platform_irq_override o = { e[3], fw_rd32(e + 4), fw_rd16(e + 8) };
    for (unsigned i = 0; i < p->override_count; i++) {
        if (p->overrides[i].source == o.source) { /* a later entry restates it */
            p->overrides[i] = o;
            return;
        }
    }
    if (p->override_count == PLATFORM_MAX_OVERRIDES) {
        s->overrides_dropped++;
        return;
    }
    p->overrides[p->override_count++] = o;
}

static void madt_entry(struct madt_state *s, const uint8_t *e)
{
    switch (e[0]) {
    case MADT_LAPIC:
        if (e[3] != XAPIC_ID_INVALID)
            madt_add_cpu(s, e[3], fw_rd32(e + 4));
        break;
    case MADT_X2APIC:
        if (fw_rd32(e + 4) != X2APIC_ID_INVALID)
            madt_add_cpu(s, fw_rd32(e + 4), fw_rd32(e + 8));
        break;
    case MADT_IOAPIC:
        madt_add_ioapic(s, e);
        break;
    case MADT_OVERRIDE:
        madt_add_override(s, e);
        break;
    case MADT_LAPIC_ADDR: /* a 64-bit address replacing the header's */
        if (fw_rd64(e + 4))
            s->p->lapic_phys = fw_rd64(e + 4);
        break;
    default:
        /* NMI sources (types 3, 4 and 10) are ignored: the LAPIC driver wires
         * LINT1 as NMI on every CPU, which is what each VMM we target
         * describes, and no IOAPIC input is an NMI there. Other types
         * (GIC, SAPIC, wakeup mailboxes...) do not apply to us. */
        break;
    }
}

static void madt_log_dropped(const struct madt_state *s)
{
    if (s->cpus_dropped)
        pr_warn("acpi: MADT lists %u CPUs more than the %u supported\n", s->cpus_dropped,
                PLATFORM_MAX_CPUS);
    if (s->ioapics_dropped)
        pr_warn("acpi: MADT lists %u IOAPICs more than the %u supported\n", s->ioapics_dropped,
                PLATFORM_MAX_IOAPICS);
    if (s->overrides_dropped)
        pr_warn("acpi: MADT lists %u interrupt overrides too many\n", s->overrides_dropped);
    if (s->cpus_hotplug)
        pr_info("acpi: %u hot-pluggable CPUs not started\n", s->cpus_hotplug);
}

int acpi_madt_parse(const uint8_t *t, uint32_t len, struct platform_info *p)
{
    if (len < MADT_OFF_ENTRIES || memcmp(t, "APIC", 4) != 0) {
        pr_warn("acpi: not a valid MADT (%u bytes)\n", len);
        return -EINVAL;
    }
    /* Work on a copy so that a bad table leaves `p` as it was. */
    struct platform_info out = *p;
    out.cpu_count = out.ioapic_count = out.override_count = 0;
    out.lapic_phys = fw_rd32(t + MADT_OFF_LAPIC_ADDR);
    if (!out.lapic_phys)
        out.lapic_phys = DEFAULT_LAPIC_PHYS;
    out.has_8259 = fw_rd32(t + MADT_OFF_FLAGS) & MADT_PCAT_COMPAT;
    struct madt_state s = { &out, 0, 0, 0, 0 };
    for (uint32_t off = MADT_OFF_ENTRIES; off < len;) {
        uint8_t type = off + 2 <= len ? t[off] : 0, elen = off + 2 <= len ? t[off + 1] : 0;
        if (elen < madt_min_len(type) || elen > len - off) {
            pr_warn("acpi: MADT entry at offset %u (type %u, length %u) is malformed\n", off,
                    type, elen);
            return -EINVAL;
        }
        madt_entry(&s, t + off);
        off += elen;
    }
    madt_log_dropped(&s);
    if (!out.cpu_count) {
        pr_warn("acpi: MADT lists no enabled CPU\n");
        return -ENODEV;
    }
    *p = out;
    return 0;
}
