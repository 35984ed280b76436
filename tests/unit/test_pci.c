/* Host tests of the pure PCI parsing (kernel/drivers/pci/pci_caps.c) and of
 * the virtio modern capability parser (virtio_pci_caps.c) over a fake
 * configuration space, and of the ACPI MCFG parser. */
#include "unit.h"
#include <string.h>

#include "drivers/pci.h"
#include "lib/errno.h"
#include "../../kernel/drivers/virtio/virtio_internal.h"

static uint8_t cfg[256];

/* Reads outside the 256 bytes answer all-ones, as a bus does. */
uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
    (void)d;
    return off < sizeof(cfg) ? cfg[off] : 0xff;
}

uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
    return (uint16_t)(pci_cfg_read8(d, off) | pci_cfg_read8(d, off + 1) << 8);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
    return pci_cfg_read16(d, off) | (uint32_t)pci_cfg_read16(d, off + 2) << 16;
}

static void put16(unsigned off, uint16_t v)
{
    cfg[off] = (uint8_t)v;
    cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(unsigned off, uint32_t v)
{
    put16(off, (uint16_t)v);
    put16(off + 2, (uint16_t)(v >> 16));
}

static void reset_cfg(void)
{
    memset(cfg, 0, sizeof(cfg));
    put16(PCI_VENDOR_ID, 0x1af4);
    put16(PCI_STATUS, PCI_STATUS_CAP_LIST);
}

/* A virtio capability at `off` of `type` in `bar`. */
static void virtio_cap(unsigned off, unsigned next, uint8_t type, uint8_t bar, uint32_t offset, uint32_t len,
                       uint8_t cap_len)
{
    cfg[off] = PCI_CAP_ID_VENDOR;
    cfg[off + 1] = (uint8_t)next;
    cfg[off + 2] = cap_len;
    cfg[off + 3] = type;
    cfg[off + 4] = bar;
    put32(off + 8, offset);
    put32(off + 12, len);
}

UNIT_TEST(pci_cap_list_walk)
{
    struct pci_dev d = { 0 };
    reset_cfg();
    cfg[PCI_CAP_PTR] = 0x40;
    cfg[0x40] = PCI_CAP_ID_VENDOR, cfg[0x41] = 0x50;
    cfg[0x50] = PCI_CAP_ID_MSIX, cfg[0x51] = 0x62; /* low bits reserved: 0x60 */
    cfg[0x60] = PCI_CAP_ID_VENDOR, cfg[0x61] = 0;
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_VENDOR, 0), 0x40);
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_VENDOR, 0x40), 0x60);
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_VENDOR, 0x60), 0);
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_MSIX, 0), 0x50);
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_MSI, 0), 0);
    put16(PCI_STATUS, 0);
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_VENDOR, 0), 0); /* no list without the status bit */
}

UNIT_TEST(pci_cap_list_bad_pointers_end_the_walk)
{
    struct pci_dev d = { 0 };
    reset_cfg();
    cfg[PCI_CAP_PTR] = 0x40;
    cfg[0x40] = PCI_CAP_ID_VENDOR, cfg[0x41] = 0x40; /* loops on itself */
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_MSIX, 0), 0);
    cfg[0x41] = 0x10; /* into the header */
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_MSIX, 0), 0);
    cfg[PCI_CAP_PTR] = 0xfc; /* last dword; its next byte is the last config byte */
    cfg[0xfc] = 0x01, cfg[0xfd] = 0xfc;
    CHECK_EQ(pci_cap_find(&d, PCI_CAP_ID_MSIX, 0), 0);
}

UNIT_TEST(pci_msix_capability)
{
    struct pci_dev d = { 0 };
    reset_cfg();
    cfg[PCI_CAP_PTR] = 0x98;
    cfg[0x98] = PCI_CAP_ID_MSIX, cfg[0x99] = 0;
    put16(0x9a, 0x0002);        /* 3 entries */
    put32(0x9c, 0x00000001);    /* table in BAR 1 at 0 */
    put32(0xa0, 0x00000801);    /* PBA in BAR 1 at 0x800 */
    pci_msix_parse(&d);
    CHECK_EQ(d.msix.cap, 0x98);
    CHECK_EQ(d.msix.size, 3);
    CHECK_EQ(d.msix.table_bar, 1);
    CHECK_EQ(d.msix.table_off, 0);
    CHECK_EQ(d.msix.pba_off, 0x800);
    put32(0x9c, 0x00002007);    /* BIR 7 is reserved */
    pci_msix_parse(&d);
    CHECK_EQ(d.msix.cap, 0);
    cfg[0x98] = PCI_CAP_ID_MSI;
    pci_msix_parse(&d);
    CHECK_EQ(d.msix.cap, 0);
}

UNIT_TEST(virtio_pci_modern_capabilities)
{
    struct pci_dev d = { 0 };
    reset_cfg();
    cfg[PCI_CAP_PTR] = 0x40;
    virtio_cap(0x40, 0x54, VIRTIO_PCI_CAP_COMMON, 4, 0x0000, 0x1000, 16);
    virtio_cap(0x54, 0x64, VIRTIO_PCI_CAP_ISR, 4, 0x1000, 0x1000, 16);
    virtio_cap(0x64, 0x74, VIRTIO_PCI_CAP_DEVICE, 4, 0x2000, 0x1000, 16);
    virtio_cap(0x74, 0x88, VIRTIO_PCI_CAP_NOTIFY, 4, 0x3000, 0x1000, 20);
    put32(0x74 + 16, 4);
    virtio_cap(0x88, 0x98, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 20);
    virtio_cap(0x98, 0, VIRTIO_PCI_CAP_COMMON, 2, 0x8000, 0x100, 16); /* a second one: ignored */
    struct virtio_pci_caps c;
    CHECK_EQ(virtio_pci_parse_caps(&d, &c), 0);
    CHECK(c.common.present && c.common.bar == 4 && c.common.offset == 0 && c.common.length == 0x1000);
    CHECK(c.isr.present && c.isr.offset == 0x1000);
    CHECK(c.device.present && c.device.offset == 0x2000);
    CHECK(c.notify.present && c.notify.offset == 0x3000);
    CHECK_EQ(c.notify_mult, 4);
    /* a notify capability too short to hold the multiplier is unusable */
    cfg[0x74 + 2] = 16;
    CHECK_EQ(virtio_pci_parse_caps(&d, &c), -ENOENT);
    CHECK(!c.notify.present);
    cfg[0x74 + 2] = 20;
    cfg[0x54 + 4] = 6; /* reserved BAR number */
    CHECK_EQ(virtio_pci_parse_caps(&d, &c), -ENOENT);
    cfg[0x54 + 4] = 4;
    CHECK_EQ(virtio_pci_parse_caps(&d, &c), 0);
    put16(PCI_STATUS, 0); /* legacy-only devices have no list */
    CHECK_EQ(virtio_pci_parse_caps(&d, &c), -ENOENT);
}

static void mcfg_entry(uint8_t *t, unsigned i, uint64_t base, uint16_t seg, uint8_t b0, uint8_t b1)
{
    uint8_t *e = t + 44 + 16 * i;
    for (int k = 0; k < 8; k++)
        e[k] = (uint8_t)(base >> (8 * k));
    e[8] = (uint8_t)seg, e[9] = (uint8_t)(seg >> 8);
    e[10] = b0, e[11] = b1;
}

UNIT_TEST(pci_mcfg_parse_windows)
{
    uint8_t t[44 + 16 * 3] = { 'M', 'C', 'F', 'G' };
    mcfg_entry(t, 0, 0xb0000000, 0, 0, 255);
    mcfg_entry(t, 1, 0xc0000000, 1, 16, 31);  /* starts at bus 16: its address is base + 16 MiB */
    mcfg_entry(t, 2, 0xd0000800, 0, 0, 0);    /* misaligned: skipped */
    struct pci_ecam w[4];
    CHECK_EQ(pci_mcfg_parse(t, sizeof(t), w, 4), 2);
    CHECK(w[0].base == 0xb0000000 && w[0].bus_start == 0 && w[0].bus_end == 255 && w[0].segment == 0);
    CHECK(w[1].base == 0xc0000000 + (16u << 20) && w[1].segment == 1 && w[1].bus_start == 16);
    CHECK_EQ(pci_mcfg_parse(t, sizeof(t), w, 1), 1);
    CHECK_EQ(pci_mcfg_parse(t, 40, w, 4), -EINVAL);
    t[0] = 'X';
    CHECK_EQ(pci_mcfg_parse(t, sizeof(t), w, 4), -EINVAL);
    uint8_t partial[44 + 10] = { 'M', 'C', 'F', 'G' }; /* a trailing fragment is no entry */
    CHECK_EQ(pci_mcfg_parse(partial, sizeof(partial), w, 4), 0);
}
