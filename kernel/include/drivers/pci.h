/* PCI: configuration space (port 0xCF8/0xCFC, or ECAM from the ACPI MCFG),
 * enumeration of bus 0 and the buses behind bridges, BARs, capabilities,
 * MSI-X and INTx interrupts. */
#pragma once

#include "arch/trap.h"
#include "lib/list.h"
#include "lib/types.h"

/* Configuration space registers (type 0 and 1 headers). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0a
#define PCI_CLASS 0x0b
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_PRIMARY_BUS 0x18   /* type 1 */
#define PCI_SECONDARY_BUS 0x19 /* type 1 */
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_SUBSYS_VENDOR 0x2c /* type 0 */
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_CMD_IO 0x1
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_BUS_MASTER 0x4
#define PCI_CMD_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_BRIDGE 0x01

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11

#define PCI_MAX_BARS 6

struct pci_bar {
    uint64_t addr;  /* bus address (physical memory address or I/O port) */
    uint64_t size;  /* 0: not implemented or not assigned */
    bool io, is64, prefetch;
    void *virt;     /* memory BARs: uncached mapping, made on first pci_bar_map */
};

struct pci_msix {
    uint8_t cap;          /* offset of the capability, 0 if none */
    uint16_t size;        /* table entries */
    uint8_t table_bar, pba_bar;
    uint32_t table_off, pba_off;
    volatile uint32_t *table; /* mapped when enabled */
    bool enabled;
};

struct pci_dev {
    uint16_t segment;
    uint8_t bus, dev, fn;
    uint16_t vendor, device, subsys_vendor, subsys_id;
    uint8_t class, subclass, prog_if, revision, header_type;
    uint8_t irq_line, irq_pin;
    struct pci_bar bar[PCI_MAX_BARS];
    struct pci_msix msix;
    bool claimed;          /* a driver owns it */
    struct list_node link; /* pci_devices */
};

extern struct list_node pci_devices;

/* ---- Configuration space (any offset below 4096 with ECAM, 256 without) ---- */
uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off);
void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t v);
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* ECAM windows, from the ACPI MCFG table. */
struct pci_ecam {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start, bus_end;
};
#define PCI_MAX_ECAM 8
/* Parse an MCFG table (header included); returns the number of windows
 * stored (at most max) or -EINVAL. Windows that make no sense are skipped. */
int pci_mcfg_parse(const uint8_t *tbl, uint32_t len, struct pci_ecam *out, unsigned max);
/* Kernel: use the MCFG's windows for segment 0 from now on (0 or -ENOENT). */
int pci_ecam_init(void);
const char *pci_cfg_method(void);

/* ---- Capabilities (pure: only pci_cfg_read*) ---- */
/* Offset of the first capability with `id` after `after` (0: from the start
 * of the list), or 0. The walk stops at 48 entries, so a looping list ends. */
unsigned pci_cap_find(const struct pci_dev *d, uint8_t id, unsigned after);
/* Read the MSI-X capability into d->msix (cap 0 when absent or malformed). */
void pci_msix_parse(struct pci_dev *d);

/* ---- Enumeration ---- */
/* Scan bus 0 and every bus behind a PCI-to-PCI bridge; fills pci_devices.
 * Returns the number of functions found. */
int pci_enumerate(void);
/* The next unclaimed device after `prev` (NULL: the first) with vendor id
 * `vendor` (0xffff: any). */
struct pci_dev *pci_find_next(struct pci_dev *prev, uint16_t vendor);
/* "0000:00:03.0" */
void pci_dev_name(const struct pci_dev *d, char *buf, size_t len);

/* ---- BARs ---- */
/* Sizes every BAR of d (decoding off while probing); called by enumeration. */
void pci_read_bars(struct pci_dev *d);
/* The virtual address of [off, off+len) inside memory BAR `bar`, mapped
 * uncached on first use; NULL if the BAR is not memory or too small. */
volatile void *pci_bar_map(struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len);
/* Turn on memory/I/O decoding and bus mastering (DMA). */
void pci_enable(struct pci_dev *d);

/* ---- Interrupts ---- */
/* Enable MSI-X with every entry masked; returns the table size or -errno
 * (-ENODEV when the device has no MSI-X). INTx is disabled meanwhile. */
int pci_msix_enable(struct pci_dev *d);
void pci_msix_disable(struct pci_dev *d);
/* Give table entry `entry` a fresh vector delivering to `cpu` that calls
 * fn(frame, ctx), and unmask it. 0 or -errno. */
int pci_msix_set_handler(struct pci_dev *d, unsigned entry, irq_handler_t fn, void *ctx, unsigned cpu);
void pci_msix_mask(struct pci_dev *d, unsigned entry, bool masked);
/* Legacy INTx: the line firmware wrote into the interrupt line register,
 * through the IOAPIC (ISA overrides applied). Lines may be shared: every
 * handler on the line is called. 0 or -errno. */
int pci_intx_attach(struct pci_dev *d, irq_handler_t fn, void *ctx);

/* A (possibly shared) interrupt line on an IOAPIC pin: one vector per GSI,
 * delivered to the boot CPU; flags are IRQ_POLARITY_* | IRQ_TRIGGER_*.
 * isa: apply the firmware's ISA overrides (gsi is then an ISA IRQ).
 * Used by PCI INTx and by virtio-mmio. 0 or -errno. */
int pci_gsi_attach(uint32_t gsi, bool isa, uint16_t flags, irq_handler_t fn, void *ctx);

/* The CPU's APIC id for interrupt delivery (cpu wraps around the online ones). */
uint32_t pci_irq_apic_id(unsigned cpu);
