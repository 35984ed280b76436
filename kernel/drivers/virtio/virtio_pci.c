/* virtio over PCI: finds virtio functions (vendor 0x1af4), picks the modern
 * interface when the capabilities are there and the legacy I/O one
 * otherwise, and routes interrupts: an MSI-X vector per queue (spread over
 * the CPUs) plus one for config changes, else one shared MSI-X vector for
 * the queues, else the INTx line. */
#include "virtio_internal.h"
#include "core/log.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"

#define VIRTIO_PCI_DEVICE_FIRST 0x1000
#define VIRTIO_PCI_DEVICE_LEGACY_LAST 0x103f
#define VIRTIO_PCI_DEVICE_MODERN 0x1040
#define VIRTIO_PCI_DEVICE_LAST 0x107f

static void msix_queue_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    virtio_queue_interrupt(ctx);
}

static void msix_shared_queue_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    struct virtio_device *vdev = ctx;
    for (unsigned i = 0; i < vdev->nvqs; i++)
        virtio_queue_interrupt(vdev->vqs[i]);
}

static void msix_config_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    virtio_config_interrupt(ctx);
}

/* INTx may be shared with other functions: the ISR says whether it was us
 * (and reading it lowers our line). */
static void intx_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    struct virtio_pci_dev *vp = ctx;
    uint8_t isr = vp->ops->read_isr(vp);
    if (isr)
        virtio_isr_interrupt(&vp->vdev, isr);
}

static int setup_msix(struct virtio_pci_dev *vp, unsigned n, struct virtqueue **vqs)
{
    struct pci_dev *d = vp->pci;
    int size = pci_msix_enable(d);
    if (size < 2)
        return size < 0 ? size : -ENOSPC;
    bool per_queue = (unsigned)size >= n + 1;
    int err = pci_msix_set_handler(d, 0, msix_config_handler, &vp->vdev, 0);
    vp->msix = true;
    if (!err && vp->ops->set_config_vector(vp, 0) != 0)
        err = -ENOSPC;
    for (unsigned i = 0; i < n && !err; i++) {
        vqs[i]->irq_entry = per_queue ? i + 1 : 1;
        if (per_queue)
            err = pci_msix_set_handler(d, i + 1, msix_queue_handler, vqs[i], i);
    }
    if (!err && !per_queue)
        err = pci_msix_set_handler(d, 1, msix_shared_queue_handler, &vp->vdev, 0);
    if (err) {
        vp->ops->set_config_vector(vp, VIRTIO_PCI_NO_VECTOR);
        vp->msix = false;
        pci_msix_disable(d);
        return err;
    }
    vp->vdev.irq_mode = per_queue ? "msi-x" : "msi-x shared";
    return 0;
}

int virtio_pci_setup_irqs(struct virtio_device *vdev, unsigned n, struct virtqueue **vqs)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    if (vp->pci->msix.cap && setup_msix(vp, n, vqs) == 0)
        return 0;
    for (unsigned i = 0; i < n; i++)
        vqs[i]->irq_entry = VIRTIO_PCI_NO_VECTOR;
    int err = pci_intx_attach(vp->pci, intx_handler, vp);
    if (err) {
        pr_warn("virtio: %s: no usable interrupt (no MSI-X, INTx line %u)\n", vdev->name,
                vp->pci->irq_line);
        return err;
    }
    vdev->irq_mode = "intx";
    return 0;
}

static uint16_t virtio_id_of(const struct pci_dev *d)
{
    if (d->device >= VIRTIO_PCI_DEVICE_MODERN)
        return (uint16_t)(d->device - VIRTIO_PCI_DEVICE_MODERN);
    return d->subsys_id; /* transitional devices carry the type here */
}

static void probe_one(struct pci_dev *d)
{
    char name[16];
    pci_dev_name(d, name, sizeof(name));
    struct virtio_pci_dev *vp = kzalloc(sizeof(*vp));
    if (!vp)
        return;
    vp->pci = d;
    struct virtio_pci_caps caps;
    bool modern = virtio_pci_parse_caps(d, &caps) == 0 && virtio_pci_modern_map(vp, &caps) == 0;
    bool legacy_ok = d->device <= VIRTIO_PCI_DEVICE_LEGACY_LAST && d->bar[0].io && d->bar[0].size >= 0x14;
    if (modern) {
        vp->vdev.transport = &virtio_pci_modern_transport;
        vp->ops = &virtio_pci_modern_ops;
    } else if (legacy_ok) {
        vp->vdev.transport = &virtio_pci_legacy_transport;
        vp->ops = &virtio_pci_legacy_ops;
        vp->io = (uint16_t)d->bar[0].addr;
    } else {
        pr_warn("virtio: %s: %04x:%04x has neither usable modern capabilities nor a legacy I/O BAR; skipped\n",
                name, d->vendor, d->device);
        kfree(vp);
        return;
    }
    d->claimed = true;
    pci_enable(d);
    vp->vdev.transport_priv = vp;
    vp->vdev.id = virtio_id_of(d);
    vp->vdev.vendor = d->subsys_vendor;
    __builtin_memcpy(vp->vdev.location, name, sizeof(name));
    virtio_add_device(&vp->vdev);
}

void virtio_pci_probe_all(void)
{
    for (struct pci_dev *d = pci_find_next(NULL, VIRTIO_PCI_VENDOR); d;
         d = pci_find_next(d, VIRTIO_PCI_VENDOR)) {
        if (d->device >= VIRTIO_PCI_DEVICE_FIRST && d->device <= VIRTIO_PCI_DEVICE_LAST)
            probe_one(d);
    }
}
