/* PCI configuration space access: memory-mapped ECAM windows from the ACPI
 * MCFG when there are any (one access, 4 KiB per function), else the legacy
 * 0xCF8/0xCFC port pair (two accesses under a lock, 256 bytes). */
#include "drivers/pci.h"
#include "arch/boot_info.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "arch/spinlock.h"
#include "core/log.h"
#include "drivers/acpi.h"
#include "lib/errno.h"
#include "lib/string.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define ECAM_BUS_SIZE (1u << 20)

static spinlock_t port_lock = SPINLOCK_INIT;
static struct pci_ecam ecam[PCI_MAX_ECAM];
static unsigned ecam_count;
/* A bus's 1 MiB window is mapped the first time it is touched: mapping all
 * 256 buses up front would cost 512 KiB of page tables. */
static volatile uint8_t *ecam_bus_virt[256];
static spinlock_t ecam_map_lock = SPINLOCK_INIT;

const char *pci_cfg_method(void)
{
    return ecam_count ? "ECAM" : "port 0xcf8";
}

static volatile uint8_t *ecam_addr(const struct pci_dev *d, unsigned off)
{
    if (!ecam_count || d->segment != 0 || off >= 4096)
        return NULL;
    for (unsigned i = 0; i < ecam_count; i++) {
        const struct pci_ecam *e = &ecam[i];
        if (d->bus < e->bus_start || d->bus > e->bus_end)
            continue;
        volatile uint8_t *bus = __atomic_load_n(&ecam_bus_virt[d->bus], __ATOMIC_ACQUIRE);
        if (!bus) {
            irqflags_t f = spin_lock(&ecam_map_lock);
            bus = ecam_bus_virt[d->bus];
            if (!bus) {
                bus = paging_map_mmio(e->base + (uint64_t)(d->bus - e->bus_start) * ECAM_BUS_SIZE,
                                      ECAM_BUS_SIZE);
                __atomic_store_n(&ecam_bus_virt[d->bus], bus, __ATOMIC_RELEASE);
            }
            spin_unlock(&ecam_map_lock, f);
            if (!bus)
                return NULL;
        }
        return bus + ((unsigned)d->dev << 15) + ((unsigned)d->fn << 12) + off;
    }
    return NULL;
}

static uint32_t port_address(const struct pci_dev *d, unsigned off)
{
    return 0x80000000u | ((uint32_t)d->bus << 16) | ((uint32_t)d->dev << 11) |
           ((uint32_t)d->fn << 8) | (off & 0xfc);
}

/* Port access reads the aligned dword and picks the bytes: some chipsets
 * answer sub-dword reads of 0xCFC+n badly, and QEMU handles both. */
static uint32_t port_read32(const struct pci_dev *d, unsigned off)
{
    if (d->segment != 0 || off >= 256)
        return 0xffffffff;
    irqflags_t f = spin_lock(&port_lock);
    outl(PCI_CONFIG_ADDRESS, port_address(d, off));
    uint32_t v = inl(PCI_CONFIG_DATA);
    spin_unlock(&port_lock, f);
    return v;
}

static void port_write(const struct pci_dev *d, unsigned off, uint32_t v, unsigned width)
{
    if (d->segment != 0 || off >= 256)
        return;
    irqflags_t f = spin_lock(&port_lock);
    outl(PCI_CONFIG_ADDRESS, port_address(d, off));
    uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (off & 3));
    if (width == 1)
        outb(port, (uint8_t)v);
    else if (width == 2)
        outw(port, (uint16_t)v);
    else
        outl(port, v);
    spin_unlock(&port_lock, f);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
    off &= ~3u;
    volatile uint8_t *p = ecam_addr(d, off);
    return p ? *(volatile uint32_t *)p : port_read32(d, off);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
    off &= ~1u;
    volatile uint8_t *p = ecam_addr(d, off);
    if (p)
        return *(volatile uint16_t *)p;
    return (uint16_t)(port_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
    volatile uint8_t *p = ecam_addr(d, off);
    if (p)
        return *p;
    return (uint8_t)(port_read32(d, off) >> ((off & 3) * 8));
}

void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
    off &= ~3u;
    volatile uint8_t *p = ecam_addr(d, off);
    if (p)
        *(volatile uint32_t *)p = v;
    else
        port_write(d, off, v, 4);
}

void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
    off &= ~1u;
    volatile uint8_t *p = ecam_addr(d, off);
    if (p)
        *(volatile uint16_t *)p = v;
    else
        port_write(d, off, v, 2);
}

void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t v)
{
    volatile uint8_t *p = ecam_addr(d, off);
    if (p)
        *p = v;
    else
        port_write(d, off, v, 1);
}

static const void *pci_acpi_map(uint64_t phys, size_t len)
{
    if (!len || phys >= (1ull << 52))
        return NULL;
    return paging_map_phys(phys, len);
}

int pci_ecam_init(void)
{
    /* Without ACPI (microvm, acpi=off) there is no MCFG, and searching the
     * BIOS area for an RSDP again would only cost boot time. */
    if (strcmp(platform.source, "acpi") != 0)
        return -ENOENT;
    uint64_t rsdp = acpi_rsdp_find(pci_acpi_map, boot_info.rsdp);
    if (!rsdp)
        return -ENOENT;
    static struct acpi_tables tables; /* big; only used here, once */
    if (acpi_tables_open(&tables, pci_acpi_map, rsdp) != 0)
        return -ENOENT;
    uint32_t len;
    const uint8_t *mcfg = acpi_tables_find(&tables, "MCFG", 0, &len);
    if (!mcfg)
        return -ENOENT;
    struct pci_ecam found[PCI_MAX_ECAM];
    int n = pci_mcfg_parse(mcfg, len, found, PCI_MAX_ECAM);
    unsigned kept = 0;
    for (int i = 0; i < n; i++) {
        if (found[i].segment != 0) {
            pr_info("pci: ignoring ECAM window of segment %u (only segment 0 is scanned)\n",
                    found[i].segment);
            continue;
        }
        pr_debug("pci: ECAM at %#lx for buses %u-%u\n", found[i].base, found[i].bus_start,
                 found[i].bus_end);
        ecam[kept++] = found[i];
    }
    ecam_count = kept;
    return kept ? 0 : -ENOENT;
}
