/* The virtio-mmio transport (virtio 1.x section 4.2): version 2 and the
 * legacy version 1 (QEMU's default, force-legacy=on), each device a register
 * window with one interrupt line. Devices come from the kernel command line
 * (virtio_mmio.device=, QEMU microvm with acpi=off, Firecracker) or ACPI. */
#include "drivers/virtio.h"
#include "virtio_internal.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "core/bootopts.h"
#include "arch/boot_info.h"
#include "core/log.h"
#include "drivers/acpi.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define MMIO_MAGIC 0x000
#define MMIO_VERSION 0x004
#define MMIO_DEVICE_ID 0x008
#define MMIO_VENDOR_ID 0x00c
#define MMIO_DEVICE_FEATURES 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_GUEST_PAGE_SIZE 0x028 /* v1 */
#define MMIO_QUEUE_SEL 0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM 0x038
#define MMIO_QUEUE_ALIGN 0x03c /* v1 */
#define MMIO_QUEUE_PFN 0x040   /* v1 */
#define MMIO_QUEUE_READY 0x044 /* v2 */
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_INTERRUPT_STATUS 0x060
#define MMIO_INTERRUPT_ACK 0x064
#define MMIO_STATUS 0x070
#define MMIO_QUEUE_DESC_LOW 0x080
#define MMIO_QUEUE_DESC_HIGH 0x084
#define MMIO_QUEUE_DRIVER_LOW 0x090
#define MMIO_QUEUE_DRIVER_HIGH 0x094
#define MMIO_QUEUE_DEVICE_LOW 0x0a0
#define MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define MMIO_CONFIG_GENERATION 0x0fc
#define MMIO_CONFIG 0x100

#define MMIO_MAGIC_VALUE 0x74726976 /* "virt" */
#define MMIO_MAX_DEVICES 32

struct virtio_mmio_dev {
    struct virtio_device vdev;
    volatile uint8_t *regs;
    uint64_t base, size;
    uint32_t gsi, version;
    char irq_mode[16];
};

static uint64_t known_bases[MMIO_MAX_DEVICES];
static unsigned known_count;

static inline struct virtio_mmio_dev *to_vm(struct virtio_device *vdev)
{
    return vdev->transport_priv;
}

static inline uint32_t rd(struct virtio_mmio_dev *vm, unsigned off)
{
    return *(volatile uint32_t *)(vm->regs + off);
}

static inline void wr(struct virtio_mmio_dev *vm, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(vm->regs + off) = v;
}

static uint64_t mmio_get_features(struct virtio_device *vdev)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    wr(vm, MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t lo = rd(vm, MMIO_DEVICE_FEATURES);
    wr(vm, MMIO_DEVICE_FEATURES_SEL, 1);
    return lo | (uint64_t)rd(vm, MMIO_DEVICE_FEATURES) << 32;
}

static void mmio_set_features(struct virtio_device *vdev, uint64_t f)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    wr(vm, MMIO_DRIVER_FEATURES_SEL, 0);
    wr(vm, MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(vm, MMIO_DRIVER_FEATURES_SEL, 1);
    wr(vm, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint8_t mmio_get_status(struct virtio_device *vdev)
{
    return (uint8_t)rd(to_vm(vdev), MMIO_STATUS);
}

static void mmio_set_status(struct virtio_device *vdev, uint8_t s)
{
    wr(to_vm(vdev), MMIO_STATUS, s);
}

static void mmio_reset(struct virtio_device *vdev)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    wr(vm, MMIO_STATUS, 0);
    if (vm->version == 1)
        wr(vm, MMIO_GUEST_PAGE_SIZE, 4096); /* queue PFNs count 4 KiB pages */
}

static uint32_t mmio_generation(struct virtio_device *vdev)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    return vm->version == 1 ? 0 : rd(vm, MMIO_CONFIG_GENERATION);
}

static void mmio_read_config(struct virtio_device *vdev, unsigned off, void *buf, unsigned len)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    if (MMIO_CONFIG + (uint64_t)off + len > vm->size) {
        __builtin_memset(buf, 0xff, len);
        return;
    }
    virtio_window_read(vm->regs + MMIO_CONFIG, off, buf, len);
}

static void mmio_write_config(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    if (MMIO_CONFIG + (uint64_t)off + len <= vm->size)
        virtio_window_write(vm->regs + MMIO_CONFIG, off, buf, len);
}

static uint16_t mmio_queue_max_size(struct virtio_device *vdev, unsigned index, bool *fixed)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    *fixed = false;
    wr(vm, MMIO_QUEUE_SEL, index);
    uint32_t max = rd(vm, MMIO_QUEUE_NUM_MAX);
    return (uint16_t)MIN(max, 32768u);
}

static int mmio_queue_activate(struct virtio_device *vdev, struct virtqueue *vq)
{
    struct virtio_mmio_dev *vm = to_vm(vdev);
    wr(vm, MMIO_QUEUE_SEL, vq->index);
    if (vm->version == 1) {
        if (rd(vm, MMIO_QUEUE_PFN))
            return -EBUSY;
        wr(vm, MMIO_QUEUE_NUM, vq->num);
        wr(vm, MMIO_QUEUE_ALIGN, VIRTQ_LEGACY_ALIGN);
        uint64_t pfn = vq->desc_phys >> 12;
        if (pfn >> 32)
            return -EINVAL;
        wr(vm, MMIO_QUEUE_PFN, (uint32_t)pfn);
        return 0;
    }
    if (rd(vm, MMIO_QUEUE_READY))
        return -EBUSY;
    wr(vm, MMIO_QUEUE_NUM, vq->num);
    wr(vm, MMIO_QUEUE_DESC_LOW, (uint32_t)vq->desc_phys);
    wr(vm, MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->desc_phys >> 32));
    wr(vm, MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->avail_phys);
    wr(vm, MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(vq->avail_phys >> 32));
    wr(vm, MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->used_phys);
    wr(vm, MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->used_phys >> 32));
    wr(vm, MMIO_QUEUE_READY, 1);
    return 0;
}

static void mmio_notify(struct virtqueue *vq)
{
    wr(to_vm(vq->vdev), MMIO_QUEUE_NOTIFY, vq->index);
}

/* Acknowledge first, then look at the queues: a buffer used after the
 * acknowledgement raises the line again, so none is missed even on an
 * edge-triggered pin. */
static void mmio_interrupt(struct trap_frame *f, void *ctx)
{
    (void)f;
    struct virtio_mmio_dev *vm = ctx;
    uint32_t isr = rd(vm, MMIO_INTERRUPT_STATUS);
    if (!isr)
        return;
    wr(vm, MMIO_INTERRUPT_ACK, isr);
    virtio_isr_interrupt(&vm->vdev, (uint8_t)isr);
}

static int mmio_setup_irqs(struct virtio_device *vdev, unsigned n, struct virtqueue **vqs)
{
    (void)n;
    (void)vqs;
    struct virtio_mmio_dev *vm = to_vm(vdev);
    /* Edge, active high: QEMU holds the line while InterruptStatus is set,
     * Firecracker pulses it (irqfd); an edge pin works with both. */
    int err = pci_gsi_attach(vm->gsi, false, IRQ_TRIGGER_EDGE | IRQ_POLARITY_HIGH, mmio_interrupt, vm);
    if (err)
        return err;
    snprintf(vm->irq_mode, sizeof(vm->irq_mode), "gsi %u", vm->gsi);
    vdev->irq_mode = vm->irq_mode;
    return 0;
}

static const struct virtio_transport mmio_transport = {
    .name = "mmio",
    .legacy = false,
    .get_features = mmio_get_features,
    .set_features = mmio_set_features,
    .get_status = mmio_get_status,
    .set_status = mmio_set_status,
    .reset = mmio_reset,
    .config_generation = mmio_generation,
    .read_config = mmio_read_config,
    .write_config = mmio_write_config,
    .queue_max_size = mmio_queue_max_size,
    .setup_irqs = mmio_setup_irqs,
    .queue_activate = mmio_queue_activate,
    .notify = mmio_notify,
};

static const struct virtio_transport mmio_legacy_transport = {
    .name = "mmio-legacy",
    .legacy = true,
    .get_features = mmio_get_features,
    .set_features = mmio_set_features,
    .get_status = mmio_get_status,
    .set_status = mmio_set_status,
    .reset = mmio_reset,
    .config_generation = mmio_generation,
    .read_config = mmio_read_config,
    .write_config = mmio_write_config,
    .queue_max_size = mmio_queue_max_size,
    .setup_irqs = mmio_setup_irqs,
    .queue_activate = mmio_queue_activate,
    .notify = mmio_notify,
};

static bool already_known(uint64_t base)
{
    for (unsigned i = 0; i < known_count; i++)
        if (known_bases[i] == base)
            return true;
    return false;
}

int virtio_mmio_probe(uint64_t base, uint64_t size, uint32_t gsi)
{
    if (already_known(base))
        return -EEXIST;
    if (size < MMIO_CONFIG || known_count == MMIO_MAX_DEVICES) {
        pr_warn("virtio: mmio window %#lx size %#lx refused\n", base, size);
        return -EINVAL;
    }
    volatile uint8_t *regs = paging_map_mmio(base, size);
    if (!regs)
        return -ENOMEM;
    uint32_t magic = *(volatile uint32_t *)(regs + MMIO_MAGIC);
    uint32_t version = *(volatile uint32_t *)(regs + MMIO_VERSION);
    uint32_t id = *(volatile uint32_t *)(regs + MMIO_DEVICE_ID);
    if (magic != MMIO_MAGIC_VALUE || (version != 1 && version != 2)) {
        pr_warn("virtio: mmio@%#lx: no virtio device (magic %#x, version %u)\n", base, magic, version);
        return -ENODEV;
    }
    known_bases[known_count++] = base;
    if (!id)
        return -ENODEV; /* an empty slot: QEMU microvm has many */
    struct virtio_mmio_dev *vm = kzalloc(sizeof(*vm));
    if (!vm)
        return -ENOMEM;
    vm->regs = regs;
    vm->base = base;
    vm->size = size;
    vm->gsi = gsi;
    vm->version = version;
    vm->vdev.transport = version == 1 ? &mmio_legacy_transport : &mmio_transport;
    vm->vdev.transport_priv = vm;
    vm->vdev.id = (uint16_t)id;
    vm->vdev.vendor = (uint16_t)*(volatile uint32_t *)(regs + MMIO_VENDOR_ID);
    snprintf(vm->vdev.location, sizeof(vm->vdev.location), "mmio@%#lx irq %u", base, gsi);
    virtio_add_device(&vm->vdev);
    return 0;
}

void virtio_mmio_probe_cmdline(void)
{
    for (unsigned i = 0; i < boot_options.mmio_count; i++) {
        struct virtio_mmio_desc d;
        if (virtio_mmio_parse_desc(boot_options.virtio_mmio[i], &d) != 0) {
            pr_warn("virtio: cannot parse virtio_mmio.device=%s (want SIZE@BASE:IRQ[:ID]); skipped\n",
                    boot_options.virtio_mmio[i]);
            continue;
        }
        virtio_mmio_probe(d.base, d.size, d.irq);
    }
}

static const void *acpi_map(uint64_t phys, size_t len)
{
    if (!len || phys >= (1ull << 52))
        return NULL;
    return paging_map_phys(phys, len);
}

#define FADT_DSDT 40
#define FADT_X_DSDT 140

static void probe_aml(const uint8_t *tbl, uint32_t len)
{
    struct virtio_mmio_desc found[MMIO_MAX_DEVICES];
    int n = virtio_acpi_find_mmio(tbl + ACPI_SDT_HEADER_LEN, len - ACPI_SDT_HEADER_LEN, found,
                                  MMIO_MAX_DEVICES);
    for (int i = 0; i < n; i++)
        virtio_mmio_probe(found[i].base, found[i].size, found[i].irq);
}

void virtio_mmio_probe_acpi(void)
{
    if (strcmp(platform.source, "acpi") != 0)
        return; /* the firmware-table pass found no usable ACPI */
    uint64_t rsdp = acpi_rsdp_find(acpi_map, boot_info.rsdp);
    static struct acpi_tables tables;
    if (!rsdp || acpi_tables_open(&tables, acpi_map, rsdp) != 0)
        return;
    uint32_t len;
    const uint8_t *fadt = acpi_tables_find(&tables, "FACP", 0, &len);
    if (fadt && len >= FADT_DSDT + 4) {
        uint64_t dsdt = len >= FADT_X_DSDT + 8 ? *(const uint64_t *)(fadt + FADT_X_DSDT) : 0;
        if (!dsdt)
            dsdt = *(const uint32_t *)(fadt + FADT_DSDT);
        const uint8_t *aml = dsdt ? acpi_table_map(acpi_map, dsdt, "DSDT", &len) : NULL;
        if (aml)
            probe_aml(aml, len);
    }
    for (unsigned i = 0;; i++) {
        const uint8_t *ssdt = acpi_tables_find(&tables, "SSDT", i, &len);
        if (!ssdt)
            break;
        probe_aml(ssdt, len);
    }
}
