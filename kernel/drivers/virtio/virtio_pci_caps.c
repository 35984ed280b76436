/* Pure: the virtio 1.x vendor capabilities of a PCI function (common config,
 * notify, ISR, device config), read through pci_cfg_read*; unit tested over
 * a fake config space. */
#include "virtio_internal.h"
#include "lib/errno.h"
#include "lib/string.h"

#define VIRTIO_PCI_CAP_LEN 16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20

static struct virtio_pci_region *region_for(struct virtio_pci_caps *c, uint8_t type)
{
    switch (type) {
    case VIRTIO_PCI_CAP_COMMON: return &c->common;
    case VIRTIO_PCI_CAP_NOTIFY: return &c->notify;
    case VIRTIO_PCI_CAP_ISR: return &c->isr;
    case VIRTIO_PCI_CAP_DEVICE: return &c->device;
    default: return NULL; /* PCI_CFG access, shared memory, vendor ones */
    }
}

int virtio_pci_parse_caps(const struct pci_dev *d, struct virtio_pci_caps *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned cap = pci_cap_find(d, PCI_CAP_ID_VENDOR, 0); cap;
         cap = pci_cap_find(d, PCI_CAP_ID_VENDOR, cap)) {
        uint8_t len = pci_cfg_read8(d, cap + 2), type = pci_cfg_read8(d, cap + 3);
        uint8_t bar = pci_cfg_read8(d, cap + 4);
        struct virtio_pci_region *r = region_for(out, type);
        /* the spec has the driver use the first capability of each type it
         * can use; reserved BAR numbers make one unusable */
        if (!r || r->present || len < VIRTIO_PCI_CAP_LEN || bar >= PCI_MAX_BARS)
            continue;
        if (type == VIRTIO_PCI_CAP_NOTIFY) {
            if (len < VIRTIO_PCI_NOTIFY_CAP_LEN)
                continue;
            out->notify_mult = pci_cfg_read32(d, cap + 16);
        }
        r->bar = bar;
        r->offset = pci_cfg_read32(d, cap + 8);
        r->length = pci_cfg_read32(d, cap + 12);
        r->present = r->length != 0;
    }
    return out->common.present && out->notify.present && out->isr.present ? 0 : -ENOENT;
}
