/* Private to the virtio transports: the PCI transport's device state, the
 * modern capability parser, and register-window copies at natural widths. */
#pragma once

#include "drivers/pci.h"
#include "drivers/virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_NO_VECTOR 0xffff

/* virtio_pci_cap cfg_type values */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR 3
#define VIRTIO_PCI_CAP_DEVICE 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

struct virtio_pci_region {
    bool present;
    uint8_t bar;
    uint32_t offset, length;
};

struct virtio_pci_caps {
    struct virtio_pci_region common, notify, isr, device;
    uint32_t notify_mult;
};

/* Pure: the first usable capability of each kind. 0 when common, notify and
 * ISR are all there (a modern device), else -ENOENT. */
int virtio_pci_parse_caps(const struct pci_dev *d, struct virtio_pci_caps *out);

struct virtio_pci_dev;
struct virtio_pci_ops {
    /* point config changes / queue `index` at MSI-X entry `entry` (or
     * VIRTIO_PCI_NO_VECTOR); returns what the device read back */
    uint16_t (*set_config_vector)(struct virtio_pci_dev *vp, uint16_t entry);
    uint8_t (*read_isr)(struct virtio_pci_dev *vp);
};

struct virtio_pci_dev {
    struct virtio_device vdev;
    struct pci_dev *pci;
    const struct virtio_pci_ops *ops;
    /* modern: mapped capability windows */
    volatile uint8_t *common, *isr, *devcfg, *notify;
    uint32_t devcfg_len, notify_len, notify_mult;
    /* legacy: I/O port base */
    uint16_t io;
    bool msix;
};

static inline struct virtio_pci_dev *to_vp(struct virtio_device *vdev)
{
    return vdev->transport_priv;
}

extern const struct virtio_transport virtio_pci_modern_transport, virtio_pci_legacy_transport;
extern const struct virtio_pci_ops virtio_pci_modern_ops, virtio_pci_legacy_ops;
int virtio_pci_setup_irqs(struct virtio_device *vdev, unsigned n, struct virtqueue **vqs);
int virtio_pci_modern_map(struct virtio_pci_dev *vp, const struct virtio_pci_caps *caps);

/* Copy between a device window and memory using the widest naturally
 * aligned accesses (8, 16 or 32 bits): virtio wants fields read at their
 * own width, and 64-bit ones as two 32-bit halves. */
static inline void virtio_window_read(const volatile uint8_t *win, unsigned off, void *buf, unsigned len)
{
    uint8_t *out = buf;
    while (len) {
        if (len >= 4 && !(off & 3)) {
            uint32_t v = *(const volatile uint32_t *)(win + off);
            __builtin_memcpy(out, &v, 4);
            off += 4, out += 4, len -= 4;
        } else if (len >= 2 && !(off & 1)) {
            uint16_t v = *(const volatile uint16_t *)(win + off);
            __builtin_memcpy(out, &v, 2);
            off += 2, out += 2, len -= 2;
        } else {
            *out++ = win[off++];
            len--;
        }
    }
}

static inline void virtio_window_write(volatile uint8_t *win, unsigned off, const void *buf, unsigned len)
{
    const uint8_t *in = buf;
    while (len) {
        if (len >= 4 && !(off & 3)) {
            uint32_t v;
            __builtin_memcpy(&v, in, 4);
            *(volatile uint32_t *)(win + off) = v;
            off += 4, in += 4, len -= 4;
        } else if (len >= 2 && !(off & 1)) {
            uint16_t v;
            __builtin_memcpy(&v, in, 2);
            *(volatile uint16_t *)(win + off) = v;
            off += 2, in += 2, len -= 2;
        } else {
            win[off++] = *in++;
            len--;
        }
    }
}
