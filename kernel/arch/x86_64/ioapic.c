/* I/O APIC driver: indirect register access through IOREGSEL/IOWIN; one
 * redirection entry (two 32-bit registers) per input pin. */
#include "arch/ioapic.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "core/log.h"
#include "lib/errno.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define REDIR_MASKED (1u << 16)
#define REDIR_LEVEL (1u << 15)
#define REDIR_ACTIVE_LOW (1u << 13)

struct ioapic {
    volatile uint8_t *regs;
    uint32_t gsi_base, pins;
};

static struct ioapic ioapics[PLATFORM_MAX_IOAPICS];
static unsigned ioapic_count;

static uint32_t ioapic_read(struct ioapic *a, uint32_t reg)
{
    mmio_write32(a->regs + IOAPIC_REGSEL, reg);
    return mmio_read32(a->regs + IOAPIC_WINDOW);
}

static void ioapic_write(struct ioapic *a, uint32_t reg, uint32_t v)
{
    mmio_write32(a->regs + IOAPIC_REGSEL, reg);
    mmio_write32(a->regs + IOAPIC_WINDOW, v);
}

void ioapic_init(void)
{
    for (unsigned i = 0; i < platform.ioapic_count; i++) {
        struct ioapic *a = &ioapics[ioapic_count];
        a->regs = paging_map_mmio(platform.ioapics[i].phys, 4096);
        if (!a->regs) {
            pr_warn("ioapic: cannot map %#lx\n", platform.ioapics[i].phys);
            continue;
        }
        a->gsi_base = platform.ioapics[i].gsi_base;
        a->pins = ((ioapic_read(a, IOAPIC_VER) >> 16) & 0xff) + 1;
        for (uint32_t pin = 0; pin < a->pins; pin++) {
            ioapic_write(a, IOAPIC_REDIR(pin), REDIR_MASKED);
            ioapic_write(a, IOAPIC_REDIR(pin) + 1, 0);
        }
        ioapic_count++;
    }
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi, uint32_t *pin)
{
    for (unsigned i = 0; i < ioapic_count; i++) {
        if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].pins) {
            *pin = gsi - ioapics[i].gsi_base;
            return &ioapics[i];
        }
    }
    return NULL;
}

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id, uint16_t flags)
{
    uint32_t pin;
    struct ioapic *a = ioapic_for_gsi(gsi, &pin);
    if (!a)
        return -ENODEV;
    uint32_t low = vector;
    if ((flags & IRQ_TRIGGER_MASK) == IRQ_TRIGGER_LEVEL)
        low |= REDIR_LEVEL;
    if ((flags & IRQ_POLARITY_MASK) == IRQ_POLARITY_LOW)
        low |= REDIR_ACTIVE_LOW;
    ioapic_write(a, IOAPIC_REDIR(pin) + 1, apic_id << 24);
    ioapic_write(a, IOAPIC_REDIR(pin), low);
    return 0;
}

int ioapic_route_isa_irq(unsigned irq, uint8_t vector, uint32_t apic_id)
{
    uint32_t gsi = irq;
    uint16_t flags = IRQ_POLARITY_HIGH | IRQ_TRIGGER_EDGE; /* ISA default */
    for (unsigned i = 0; i < platform.override_count; i++) {
        if (platform.overrides[i].source == irq) {
            gsi = platform.overrides[i].gsi;
            uint16_t f = platform.overrides[i].flags;
            if ((f & IRQ_POLARITY_MASK) != IRQ_POLARITY_CONFORMS)
                flags = (uint16_t)((flags & ~IRQ_POLARITY_MASK) | (f & IRQ_POLARITY_MASK));
            if ((f & IRQ_TRIGGER_MASK) != IRQ_TRIGGER_CONFORMS)
                flags = (uint16_t)((flags & ~IRQ_TRIGGER_MASK) | (f & IRQ_TRIGGER_MASK));
        }
    }
    return ioapic_route_gsi(gsi, vector, apic_id, flags);
}

void ioapic_mask_gsi(uint32_t gsi)
{
    uint32_t pin;
    struct ioapic *a = ioapic_for_gsi(gsi, &pin);
    if (a)
        ioapic_write(a, IOAPIC_REDIR(pin), REDIR_MASKED);
}
