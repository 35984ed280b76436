/* Virtio devices: one interface over three transports (modern PCI, legacy
 * PCI, MMIO v1/v2), feature negotiation, virtqueues, and the driver API the
 * block, network, entropy, console and file-system drivers share.
 *
 * A driver: a struct virtio_driver with the device id, the device-specific
 * feature bits it understands and probe(). The core resets the device,
 * negotiates features (VERSION_1, INDIRECT_DESC and EVENT_IDX are added by
 * the core) and calls probe(vdev), which reads the config space, creates its
 * queues with virtio_find_vqs(), and calls virtio_device_ready(). Queue
 * callbacks run in interrupt context; they take vq->lock around virtq_*
 * calls, as does every other user of the queue. */
#pragma once

#include "drivers/virtio_ring.h"
#include "lib/list.h"
#include "lib/types.h"

/* Device types (virtio 1.2 section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_SCSI 8
#define VIRTIO_ID_9P 9
#define VIRTIO_ID_VSOCK 19
#define VIRTIO_ID_FS 26

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport-level feature bits (device-specific ones are 0-23 and 50+). */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24 /* legacy */
#define VIRTIO_F_ANY_LAYOUT 27      /* legacy */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_BIT(n) (1ull << (n))

/* ISR status bits (INTx and MMIO interrupts). */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

#define VIRTIO_NAME_MAX 16

struct virtio_device;

struct virtio_transport {
    const char *name; /* "pci", "pci-legacy", "mmio", "mmio-legacy" */
    bool legacy;      /* 0.9.5 interface: no VERSION_1, page-number queue addresses */
    uint64_t (*get_features)(struct virtio_device *vdev);
    void (*set_features)(struct virtio_device *vdev, uint64_t features);
    uint8_t (*get_status)(struct virtio_device *vdev);
    void (*set_status)(struct virtio_device *vdev, uint8_t status);
    void (*reset)(struct virtio_device *vdev);
    uint32_t (*config_generation)(struct virtio_device *vdev); /* 0 when the transport has none */
    void (*read_config)(struct virtio_device *vdev, unsigned off, void *buf, unsigned len);
    void (*write_config)(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len);
    /* Largest size of queue `index` (0: no such queue); *fixed set when
     * the driver may not choose a smaller one (legacy PCI). */
    uint16_t (*queue_max_size)(struct virtio_device *vdev, unsigned index, bool *fixed);
    /* Route interrupts for the n queues (before they are activated). */
    int (*setup_irqs)(struct virtio_device *vdev, unsigned n, struct virtqueue **vqs);
    /* Give the device the queue's rings and size, and enable it. */
    int (*queue_activate)(struct virtio_device *vdev, struct virtqueue *vq);
    void (*notify)(struct virtqueue *vq);
};

struct virtio_device {
    char name[VIRTIO_NAME_MAX]; /* "virtio0" */
    char location[32];          /* "0000:00:03.0", "mmio@0xfeb00000" */
    uint16_t id;                /* VIRTIO_ID_* */
    uint16_t vendor;
    uint64_t offered;           /* features the device offered */
    uint64_t features;          /* negotiated */
    const struct virtio_transport *transport;
    void *transport_priv;
    const struct virtio_driver *driver;
    void *priv;                 /* the driver's */
    unsigned nvqs;
    struct virtqueue **vqs;
    const char *irq_mode;       /* "msi-x", "msi-x shared", "intx", "gsi N" */
    struct list_node link;
};

struct virtio_driver {
    const char *name;
    uint16_t device_id;
    uint64_t features; /* device-specific bits the driver can use */
    int (*probe)(struct virtio_device *vdev);
    void (*config_changed)(struct virtio_device *vdev); /* interrupt context; may be NULL */
};

/* What one queue wants: its callback, a name for logs, and the largest
 * size worth having (0: VIRTQ_MAX_SIZE). */
struct virtio_vq_info {
    virtq_callback_t callback;
    const char *name;
    uint16_t max_size;
};

/* ---- For drivers ---- */
static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
    return (vdev->features >> bit) & 1;
}
/* Read `len` bytes of the device config at `off`, consistently (retried
 * while the device's config generation changes). */
void virtio_config_read(struct virtio_device *vdev, unsigned off, void *buf, unsigned len);
void virtio_config_write(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len);
uint8_t virtio_cread8(struct virtio_device *vdev, unsigned off);
uint16_t virtio_cread16(struct virtio_device *vdev, unsigned off);
uint32_t virtio_cread32(struct virtio_device *vdev, unsigned off);
uint64_t virtio_cread64(struct virtio_device *vdev, unsigned off);
/* Largest size of queue `index` the device offers (0: it has no such queue). */
uint16_t virtio_queue_max_size(struct virtio_device *vdev, unsigned index);
/* Create and activate queues 0..n-1 (interrupts routed, rings allocated).
 * 0 or -errno (the device is then unusable: probe should fail). */
int virtio_find_vqs(struct virtio_device *vdev, unsigned n, const struct virtio_vq_info *info,
                    struct virtqueue **vqs);
/* Set DRIVER_OK: the device may now use the queues and interrupt. */
void virtio_device_ready(struct virtio_device *vdev);
/* virtq_kick_prepare + notify, under the caller's vq->lock. */
void virtqueue_kick(struct virtqueue *vq);
/* Scatter list for a kernel buffer (direct map, kmalloc, the kernel image or
 * stacks): one entry per physically contiguous piece. Returns the entries
 * used, or 0 when `max` is too small or the buffer is not mapped. */
unsigned virtio_sg_from_buf(struct virtq_sg *sg, unsigned max, const void *buf, size_t len);
/* Physical address of one kernel object that does not cross a page. */
uint64_t virtio_dma_addr(const void *p);

/* ---- For transports ---- */
/* A device a transport found: named, matched with a driver, probed.
 * Returns 0 when a driver took it. */
int virtio_add_device(struct virtio_device *vdev);
void virtio_queue_interrupt(struct virtqueue *vq);
void virtio_config_interrupt(struct virtio_device *vdev);
/* Every queue, then the config change when isr says so (shared lines). */
void virtio_isr_interrupt(struct virtio_device *vdev, uint8_t isr);

/* ---- Set-up ---- */
int virtio_register_driver(const struct virtio_driver *drv);
/* Probe virtio-pci devices among the enumerated PCI functions. */
void virtio_pci_probe_all(void);
/* Probe the MMIO devices the command line (virtio_mmio.device=) names. */
void virtio_mmio_probe_cmdline(void);
/* Probe MMIO devices from the ACPI DSDT (LNRO0005); skips what is already known. */
void virtio_mmio_probe_acpi(void);
/* Probe one MMIO window; 0 when it holds a device (driver or not). */
int virtio_mmio_probe(uint64_t base, uint64_t size, uint32_t gsi);
/* The registered virtio devices, for logs and tests. */
extern struct list_node virtio_devices;

/* A "SIZE@BASE:IRQ[:ID]" description (pure parser, unit tested). */
struct virtio_mmio_desc {
    uint64_t base, size;
    uint32_t irq;
    uint32_t id; /* platform device id, unused; 0 when absent */
};
int virtio_mmio_parse_desc(const char *s, struct virtio_mmio_desc *out);
/* Pure: the LNRO0005 devices in an AML table (DSDT/SSDT body included);
 * returns how many were stored in out (at most max). */
int virtio_acpi_find_mmio(const uint8_t *aml, size_t len, struct virtio_mmio_desc *out, unsigned max);
