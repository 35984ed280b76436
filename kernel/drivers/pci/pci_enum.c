/* PCI enumeration: every function on bus 0 and on the buses behind PCI-to-PCI
 * bridges, with BARs sized and mapped on demand. Bus numbers and BAR
 * addresses are the firmware's (SeaBIOS, or the VMM itself): we never
 * reassign them. */
#include "drivers/pci.h"
#include "arch/paging.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* Mapping a BAR larger than this whole would cost page tables for nothing
 * (framebuffers): those are mapped piecewise, per request. */
#define PCI_BAR_MAP_WHOLE_MAX (1u << 20)
#define PCI_MAX_BRIDGE_DEPTH 16

struct list_node pci_devices = LIST_INIT(pci_devices);
static uint64_t buses_seen[256 / 64];
static int function_count;

void pci_dev_name(const struct pci_dev *d, char *buf, size_t len)
{
    snprintf(buf, len, "%04x:%02x:%02x.%u", d->segment, d->bus, d->dev, d->fn);
}

static void bar_size_one(struct pci_dev *d, unsigned i, unsigned *skip)
{
    struct pci_bar *b = &d->bar[i];
    unsigned off = PCI_BAR0 + 4 * i;
    uint32_t orig = pci_cfg_read32(d, off);
    pci_cfg_write32(d, off, 0xffffffff);
    uint32_t mask = pci_cfg_read32(d, off);
    pci_cfg_write32(d, off, orig);
    if (!mask || mask == 0xffffffff)
        return; /* not implemented (or the function went away) */
    if (orig & 1) {
        b->io = true;
        b->addr = orig & ~3u;
        mask &= ~3u;
        if (!(mask & 0xffff0000u))
            mask |= 0xffff0000u; /* I/O BARs may hardwire the upper half to 0 */
        b->size = (uint32_t)(~mask + 1);
        return;
    }
    b->prefetch = orig & 8;
    uint64_t addr = orig & ~0xfu, full_mask = 0xffffffff00000000ull | (mask & ~0xfu);
    if (((orig >> 1) & 3) == 2 && i + 1 < PCI_MAX_BARS) {
        b->is64 = true;
        uint32_t orig_hi = pci_cfg_read32(d, off + 4);
        pci_cfg_write32(d, off + 4, 0xffffffff);
        uint32_t mask_hi = pci_cfg_read32(d, off + 4);
        pci_cfg_write32(d, off + 4, orig_hi);
        addr |= (uint64_t)orig_hi << 32;
        full_mask = ((uint64_t)mask_hi << 32) | (mask & ~0xfu);
        *skip = 1;
    }
    b->addr = addr;
    b->size = ~full_mask + 1;
}

void pci_read_bars(struct pci_dev *d)
{
    unsigned n = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
    /* Decoding off while the BARs hold all-ones, so the device does not
     * answer at a bogus address meanwhile. */
    uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
    pci_cfg_write16(d, PCI_COMMAND, cmd & (uint16_t)~(PCI_CMD_IO | PCI_CMD_MEMORY));
    for (unsigned i = 0; i < n; i++) {
        unsigned skip = 0;
        bar_size_one(d, i, &skip);
        i += skip;
    }
    pci_cfg_write16(d, PCI_COMMAND, cmd);
    for (unsigned i = 0; i < n; i++)
        if (d->bar[i].size && !d->bar[i].addr)
            d->bar[i].size = 0; /* firmware left it unassigned: unusable */
}

volatile void *pci_bar_map(struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len)
{
    if (bar >= PCI_MAX_BARS)
        return NULL;
    struct pci_bar *b = &d->bar[bar];
    if (b->io || !b->size || off > b->size || len > b->size - off)
        return NULL;
    if (b->size > PCI_BAR_MAP_WHOLE_MAX)
        return paging_map_mmio(b->addr + off, len);
    if (!b->virt)
        b->virt = paging_map_mmio(b->addr, b->size);
    return b->virt ? (volatile uint8_t *)b->virt + off : NULL;
}

void pci_enable(struct pci_dev *d)
{
    uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND) | PCI_CMD_BUS_MASTER;
    for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
        if (d->bar[i].size)
            cmd |= d->bar[i].io ? PCI_CMD_IO : PCI_CMD_MEMORY;
    }
    pci_cfg_write16(d, PCI_COMMAND, cmd);
}

static void log_function(const struct pci_dev *d)
{
    char name[16];
    pci_dev_name(d, name, sizeof(name));
    pr_debug("pci: %s %04x:%04x class %02x.%02x.%02x%s irq pin %u line %u\n", name, d->vendor,
             d->device, d->class, d->subclass, d->prog_if, d->msix.cap ? " msi-x" : "", d->irq_pin,
             d->irq_line);
    for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (b->size)
            pr_debug("pci: %s   bar%u %s %#lx size %#lx%s\n", name, i, b->io ? "io " : "mem", b->addr,
                     b->size, b->is64 ? " 64-bit" : "");
    }
}

static void scan_bus(uint8_t bus, int depth);

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, int depth)
{
    struct pci_dev probe = { .bus = bus, .dev = dev, .fn = fn };
    uint32_t id = pci_cfg_read32(&probe, PCI_VENDOR_ID);
    if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
        return;
    struct pci_dev *d = kzalloc(sizeof(*d));
    if (!d) {
        pr_warn("pci: out of memory; stopping the scan\n");
        return;
    }
    *d = probe;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t class = pci_cfg_read32(d, PCI_REVISION);
    d->revision = (uint8_t)class;
    d->prog_if = (uint8_t)(class >> 8);
    d->subclass = (uint8_t)(class >> 16);
    d->class = (uint8_t)(class >> 24);
    d->header_type = pci_cfg_read8(d, PCI_HEADER_TYPE);
    if ((d->header_type & 0x7f) == 0) {
        d->subsys_vendor = pci_cfg_read16(d, PCI_SUBSYS_VENDOR);
        d->subsys_id = pci_cfg_read16(d, PCI_SUBSYS_ID);
    }
    d->irq_line = pci_cfg_read8(d, PCI_INTERRUPT_LINE);
    d->irq_pin = pci_cfg_read8(d, PCI_INTERRUPT_PIN);
    pci_read_bars(d);
    pci_msix_parse(d);
    list_add_tail(&pci_devices, &d->link);
    function_count++;
    log_function(d);
    if ((d->header_type & 0x7f) == PCI_HEADER_BRIDGE) {
        uint8_t secondary = pci_cfg_read8(d, PCI_SECONDARY_BUS);
        if (secondary <= bus)
            pr_info("pci: bridge at %02x:%02x.%u has no bus number assigned; not scanned\n", bus,
                    dev, fn);
        else
            scan_bus(secondary, depth + 1);
    }
}

static void scan_bus(uint8_t bus, int depth)
{
    if (depth > PCI_MAX_BRIDGE_DEPTH || (buses_seen[bus / 64] & (1ull << (bus % 64))))
        return; /* firmware numbering that loops must not hang the boot */
    buses_seen[bus / 64] |= 1ull << (bus % 64);
    for (uint8_t dev = 0; dev < 32; dev++) {
        struct pci_dev probe = { .bus = bus, .dev = dev };
        if (pci_cfg_read16(&probe, PCI_VENDOR_ID) == 0xffff)
            continue;
        bool multi = pci_cfg_read8(&probe, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION;
        for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++)
            add_function(bus, dev, fn, depth);
    }
}

int pci_enumerate(void)
{
    bool ecam = pci_ecam_init() == 0;
    scan_bus(0, 0);
    pr_info("pci: %d function%s (config access: %s)\n", function_count,
            function_count == 1 ? "" : "s", ecam ? "ECAM" : "port 0xcf8");
    return function_count;
}

struct pci_dev *pci_find_next(struct pci_dev *prev, uint16_t vendor)
{
    struct list_node *n = prev ? prev->link.next : pci_devices.next;
    for (; n != &pci_devices; n = n->next) {
        struct pci_dev *d = list_entry(n, struct pci_dev, link);
        if (!d->claimed && (vendor == 0xffff || d->vendor == vendor))
            return d;
    }
    return NULL;
}
