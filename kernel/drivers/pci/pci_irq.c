/* Device interrupts: MSI-X table entries (a vector per entry, aimed at one
 * CPU's LAPIC), and IOAPIC lines (PCI INTx, virtio-mmio), which may be shared
 * by several devices. */
#include "drivers/pci.h"
#include "arch/ioapic.h"
#include "arch/platform.h"
#include "arch/spinlock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"

#define MSIX_ENTRY_SIZE 16
#define MSIX_CTL_ENABLE 0x8000
#define MSIX_CTL_FUNCTION_MASK 0x4000
#define MSIX_VECTOR_MASKED 1
#define MSI_ADDRESS_BASE 0xfee00000u
#define GSI_MAX_LINES 32

uint32_t pci_irq_apic_id(unsigned cpu)
{
    unsigned n = __atomic_load_n(&cpu_count, __ATOMIC_ACQUIRE);
    struct cpu *c = n ? cpus[cpu % n] : NULL;
    return c ? c->arch.apic_id : cpus[0]->arch.apic_id;
}

/* ---- MSI-X ---- */

static volatile uint32_t *msix_entry(struct pci_dev *d, unsigned entry)
{
    return d->msix.table + entry * (MSIX_ENTRY_SIZE / 4);
}

int pci_msix_enable(struct pci_dev *d)
{
    struct pci_msix *m = &d->msix;
    if (!m->cap)
        return -ENODEV;
    if (!m->table) {
        m->table = pci_bar_map(d, m->table_bar, m->table_off, (uint64_t)m->size * MSIX_ENTRY_SIZE);
        if (!m->table) {
            char name[16];
            pci_dev_name(d, name, sizeof(name));
            pr_warn("pci: %s: MSI-X table outside BAR %u; using INTx\n", name, m->table_bar);
            return -ENXIO;
        }
    }
    uint16_t ctl = pci_cfg_read16(d, m->cap + 2);
    /* The function mask holds every vector while the entries are masked one
     * by one, so no half-written entry can fire. */
    pci_cfg_write16(d, m->cap + 2, ctl | MSIX_CTL_ENABLE | MSIX_CTL_FUNCTION_MASK);
    for (unsigned i = 0; i < m->size; i++)
        msix_entry(d, i)[3] = MSIX_VECTOR_MASKED;
    pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
    pci_cfg_write16(d, m->cap + 2, (uint16_t)((ctl | MSIX_CTL_ENABLE) & ~MSIX_CTL_FUNCTION_MASK));
    m->enabled = true;
    return m->size;
}

void pci_msix_disable(struct pci_dev *d)
{
    struct pci_msix *m = &d->msix;
    if (!m->cap || !m->enabled)
        return;
    uint16_t ctl = pci_cfg_read16(d, m->cap + 2);
    pci_cfg_write16(d, m->cap + 2, ctl & (uint16_t)~MSIX_CTL_ENABLE);
    pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) & (uint16_t)~PCI_CMD_INTX_DISABLE);
    m->enabled = false;
}

void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked)
{
    if (!d->msix.enabled || entry >= d->msix.size)
        return;
    volatile uint32_t *e = msix_entry(d, entry);
    e[3] = masked ? (e[3] | MSIX_VECTOR_MASKED) : (e[3] & ~(uint32_t)MSIX_VECTOR_MASKED);
}

int pci_msix_set_handler(struct pci_dev *d, unsigned entry, irq_handler_t fn, void *ctx, unsigned cpu)
{
    if (!d->msix.enabled || entry >= d->msix.size)
        return -EINVAL;
    uint32_t apic = pci_irq_apic_id(cpu);
    if (apic > 0xff)
        apic = pci_irq_apic_id(0); /* without interrupt remapping MSI reaches only 8-bit ids */
    int vector = trap_alloc_vector();
    if (vector < 0)
        return -ENOSPC;
    trap_set_irq_handler((unsigned)vector, fn, ctx);
    volatile uint32_t *e = msix_entry(d, entry);
    e[3] = MSIX_VECTOR_MASKED;
    e[0] = MSI_ADDRESS_BASE | (apic << 12); /* physical destination, fixed delivery */
    e[1] = 0;
    e[2] = (uint32_t)vector;                /* edge triggered */
    e[3] = 0;
    return 0;
}

/* ---- IOAPIC lines ---- */

struct gsi_handler {
    irq_handler_t fn;
    void *ctx;
    struct gsi_handler *next;
};

struct gsi_line {
    uint32_t gsi;
    uint8_t vector;
    struct gsi_handler *handlers;
};

static struct gsi_line lines[GSI_MAX_LINES];
static unsigned line_count;
static spinlock_t lines_lock = SPINLOCK_INIT;

static void gsi_dispatch(struct trap_frame *f, void *ctx)
{
    struct gsi_line *l = ctx;
    for (struct gsi_handler *h = __atomic_load_n(&l->handlers, __ATOMIC_ACQUIRE); h; h = h->next)
        h->fn(f, h->ctx);
}

/* An ISA IRQ through the firmware's overrides: its GSI, and the polarity and
 * trigger the override gives (else `flags`). */
static uint32_t isa_to_gsi(unsigned irq, uint16_t *flags)
{
    for (unsigned i = 0; i < platform.override_count; i++) {
        const struct platform_irq_override *o = &platform.overrides[i];
        if (o->source != irq)
            continue;
        if ((o->flags & IRQ_POLARITY_MASK) != IRQ_POLARITY_CONFORMS)
            *flags = (uint16_t)((*flags & ~IRQ_POLARITY_MASK) | (o->flags & IRQ_POLARITY_MASK));
        if ((o->flags & IRQ_TRIGGER_MASK) != IRQ_TRIGGER_CONFORMS)
            *flags = (uint16_t)((*flags & ~IRQ_TRIGGER_MASK) | (o->flags & IRQ_TRIGGER_MASK));
        return o->gsi;
    }
    return irq;
}

int pci_gsi_attach(uint32_t gsi, bool isa, uint16_t flags, irq_handler_t fn, void *ctx)
{
    if (isa)
        gsi = isa_to_gsi(gsi, &flags);
    struct gsi_handler *h = kzalloc(sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->fn = fn;
    h->ctx = ctx;
    irqflags_t f = spin_lock(&lines_lock);
    struct gsi_line *l = NULL;
    for (unsigned i = 0; i < line_count; i++)
        if (lines[i].gsi == gsi)
            l = &lines[i];
    int err = 0;
    if (!l) {
        int vector = line_count < GSI_MAX_LINES ? trap_alloc_vector() : -1;
        if (vector < 0) {
            err = -ENOSPC;
        } else {
            l = &lines[line_count++];
            l->gsi = gsi;
            l->vector = (uint8_t)vector;
            trap_set_irq_handler((unsigned)vector, gsi_dispatch, l);
            err = ioapic_route_gsi(gsi, l->vector, pci_irq_apic_id(0), flags);
            if (err)
                line_count--; /* the vector is lost; there are plenty */
        }
    }
    if (!err) {
        h->next = l->handlers;
        __atomic_store_n(&l->handlers, h, __ATOMIC_RELEASE);
    }
    spin_unlock(&lines_lock, f);
    if (err) {
        kfree(h);
        pr_warn("irq: cannot route GSI %u: %d\n", gsi, err);
    }
    return err;
}

int pci_intx_attach(struct pci_dev *d, irq_handler_t fn, void *ctx)
{
    if (!d->irq_pin || d->irq_pin > 4 || d->irq_line == 0 || d->irq_line == 0xff)
        return -ENODEV;
    /* The firmware (SeaBIOS) routed the pin to an ISA IRQ and wrote it into
     * the interrupt line register; QEMU's MADT overrides those IRQs to level,
     * active high. Without an override PCI's own convention holds. */
    uint16_t flags = IRQ_TRIGGER_LEVEL | IRQ_POLARITY_LOW;
    bool isa = d->irq_line < 16;
    pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) & (uint16_t)~PCI_CMD_INTX_DISABLE);
    return pci_gsi_attach(d->irq_line, isa, flags, fn, ctx);
}
