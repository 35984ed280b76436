/* The legacy (virtio 0.9.5) PCI transport: registers in I/O BAR 0, 32
 * feature bits, queue rings given by page number at the device's own size.
 * QEMU offers it with disable-modern=on and on transitional devices. */
#include "virtio_internal.h"
#include "arch/io.h"
#include "core/log.h"
#include "lib/errno.h"

#define LEGACY_HOST_FEATURES 0x00
#define LEGACY_GUEST_FEATURES 0x04
#define LEGACY_QUEUE_PFN 0x08
#define LEGACY_QUEUE_SIZE 0x0c
#define LEGACY_QUEUE_SELECT 0x0e
#define LEGACY_QUEUE_NOTIFY 0x10
#define LEGACY_STATUS 0x12
#define LEGACY_ISR 0x13
#define LEGACY_MSIX_CONFIG 0x14 /* these two exist only while MSI-X is enabled */
#define LEGACY_MSIX_QUEUE 0x16
#define LEGACY_CONFIG 0x14
#define LEGACY_CONFIG_MSIX 0x18
#define LEGACY_PFN_SHIFT 12

static uint16_t port(struct virtio_device *vdev, unsigned off)
{
    return (uint16_t)(to_vp(vdev)->io + off);
}

static uint64_t legacy_get_features(struct virtio_device *vdev)
{
    return inl(port(vdev, LEGACY_HOST_FEATURES));
}

static void legacy_set_features(struct virtio_device *vdev, uint64_t f)
{
    outl(port(vdev, LEGACY_GUEST_FEATURES), (uint32_t)f);
}

static uint8_t legacy_get_status(struct virtio_device *vdev)
{
    return inb(port(vdev, LEGACY_STATUS));
}

static void legacy_set_status(struct virtio_device *vdev, uint8_t s)
{
    outb(port(vdev, LEGACY_STATUS), s);
}

static void legacy_reset(struct virtio_device *vdev)
{
    outb(port(vdev, LEGACY_STATUS), 0);
    (void)inb(port(vdev, LEGACY_ISR)); /* flush the write, drop a stale interrupt */
}

static uint32_t legacy_generation(struct virtio_device *vdev)
{
    (void)vdev;
    return 0; /* none: config reads are not guaranteed consistent */
}

/* The device config moves 4 bytes up while MSI-X is enabled. */
static unsigned config_base(struct virtio_device *vdev)
{
    return to_vp(vdev)->pci->msix.enabled ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
}

static void legacy_read_config(struct virtio_device *vdev, unsigned off, void *buf, unsigned len)
{
    uint8_t *out = buf;
    unsigned base = config_base(vdev) + off;
    for (unsigned i = 0; i < len;) {
        if (len - i >= 4 && !((off + i) & 3)) {
            uint32_t v = inl(port(vdev, base + i));
            __builtin_memcpy(out + i, &v, 4);
            i += 4;
        } else {
            out[i] = inb(port(vdev, base + i));
            i++;
        }
    }
}

static void legacy_write_config(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len)
{
    const uint8_t *in = buf;
    unsigned base = config_base(vdev) + off;
    for (unsigned i = 0; i < len; i++)
        outb(port(vdev, base + i), in[i]);
}

static uint16_t legacy_queue_max_size(struct virtio_device *vdev, unsigned index, bool *fixed)
{
    *fixed = true; /* the legacy interface has no way to choose a size */
    outw(port(vdev, LEGACY_QUEUE_SELECT), (uint16_t)index);
    return inw(port(vdev, LEGACY_QUEUE_SIZE));
}

static int legacy_queue_activate(struct virtio_device *vdev, struct virtqueue *vq)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    outw(port(vdev, LEGACY_QUEUE_SELECT), (uint16_t)vq->index);
    if (inl(port(vdev, LEGACY_QUEUE_PFN)))
        return -EBUSY;
    if (inw(port(vdev, LEGACY_QUEUE_SIZE)) != vq->num)
        return -EINVAL;
    if (vp->msix) {
        outw(port(vdev, LEGACY_MSIX_QUEUE), (uint16_t)vq->irq_entry);
        if (inw(port(vdev, LEGACY_MSIX_QUEUE)) != (uint16_t)vq->irq_entry)
            return -ENOSPC;
    }
    uint64_t pfn = vq->desc_phys >> LEGACY_PFN_SHIFT;
    if (pfn >> 32) {
        pr_warn("virtio: %s: queue memory above 16 TiB cannot be given to a legacy device\n", vdev->name);
        return -EINVAL;
    }
    outl(port(vdev, LEGACY_QUEUE_PFN), (uint32_t)pfn);
    return 0;
}

static void legacy_notify(struct virtqueue *vq)
{
    outw(port(vq->vdev, LEGACY_QUEUE_NOTIFY), (uint16_t)vq->index);
}

static uint16_t legacy_set_config_vector(struct virtio_pci_dev *vp, uint16_t entry)
{
    outw(port(&vp->vdev, LEGACY_MSIX_CONFIG), entry);
    return inw(port(&vp->vdev, LEGACY_MSIX_CONFIG));
}

static uint8_t legacy_read_isr(struct virtio_pci_dev *vp)
{
    return inb(port(&vp->vdev, LEGACY_ISR));
}

const struct virtio_pci_ops virtio_pci_legacy_ops = {
    .set_config_vector = legacy_set_config_vector,
    .read_isr = legacy_read_isr,
};

const struct virtio_transport virtio_pci_legacy_transport = {
    .name = "pci-legacy",
    .legacy = true,
    .get_features = legacy_get_features,
    .set_features = legacy_set_features,
    .get_status = legacy_get_status,
    .set_status = legacy_set_status,
    .reset = legacy_reset,
    .config_generation = legacy_generation,
    .read_config = legacy_read_config,
    .write_config = legacy_write_config,
    .queue_max_size = legacy_queue_max_size,
    .setup_irqs = virtio_pci_setup_irqs,
    .queue_activate = legacy_queue_activate,
    .notify = legacy_notify,
};
