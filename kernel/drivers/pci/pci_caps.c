/* Pure PCI parsing: the capability list, the MSI-X capability and the ACPI
 * MCFG table. Config space is read only through pci_cfg_read*, which the
 * host unit tests implement over a fake config space. */
#include "drivers/pci.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"

/* 256 bytes hold at most 48 capabilities of 4 bytes after the header. */
#define PCI_CAP_MAX_WALK 48
#define MCFG_ENTRIES_OFFSET 44
#define MCFG_ENTRY_SIZE 16

unsigned pci_cap_find(const struct pci_dev *d, uint8_t id, unsigned after)
{
    if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    unsigned off = after ? pci_cfg_read8(d, after + 1) : pci_cfg_read8(d, PCI_CAP_PTR);
    for (int i = 0; i < PCI_CAP_MAX_WALK; i++) {
        off &= 0xfc; /* the low two bits are reserved */
        if (off < 0x40)
            return 0; /* 0 ends the list; anything else inside the header is bogus */
        if (pci_cfg_read8(d, off) == id)
            return off;
        off = pci_cfg_read8(d, off + 1);
    }
    return 0;
}

void pci_msix_parse(struct pci_dev *d)
{
    memset(&d->msix, 0, sizeof(d->msix));
    unsigned cap = pci_cap_find(d, PCI_CAP_ID_MSIX, 0);
    if (!cap)
        return;
    uint16_t ctl = pci_cfg_read16(d, cap + 2);
    uint32_t table = pci_cfg_read32(d, cap + 4), pba = pci_cfg_read32(d, cap + 8);
    d->msix.size = (uint16_t)((ctl & 0x7ff) + 1);
    d->msix.table_bar = table & 7;
    d->msix.table_off = table & ~7u;
    d->msix.pba_bar = pba & 7;
    d->msix.pba_off = pba & ~7u;
    if (d->msix.table_bar >= PCI_MAX_BARS || d->msix.pba_bar >= PCI_MAX_BARS)
        return; /* BIR 6 and 7 are reserved: leave cap at 0 */
    d->msix.cap = (uint8_t)cap;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int pci_mcfg_parse(const uint8_t *tbl, uint32_t len, struct pci_ecam *out, unsigned max)
{
    if (len < MCFG_ENTRIES_OFFSET || memcmp(tbl, "MCFG", 4) != 0)
        return -EINVAL;
    unsigned n = 0;
    for (uint32_t off = MCFG_ENTRIES_OFFSET; off + MCFG_ENTRY_SIZE <= len && n < max;
         off += MCFG_ENTRY_SIZE) {
        const uint8_t *e = tbl + off;
        struct pci_ecam w = {
            .base = get_le64(e),
            .segment = (uint16_t)(e[8] | e[9] << 8),
            .bus_start = e[10],
            .bus_end = e[11],
        };
        /* The MCFG base is where bus 0 would be even when bus_start > 0;
         * we store the address of bus_start itself. */
        if (!w.base || w.bus_end < w.bus_start || (w.base & 0xfffff)) {
            pr_warn("pci: MCFG entry %u is invalid (base %#lx, buses %u-%u); skipped\n",
                    (off - MCFG_ENTRIES_OFFSET) / MCFG_ENTRY_SIZE, w.base, w.bus_start, w.bus_end);
            continue;
        }
        w.base += (uint64_t)w.bus_start << 20;
        out[n++] = w;
    }
    return (int)n;
}
