/* The virtio 1.x PCI transport: registers in memory BARs that the vendor
 * capabilities point at (common config, notify area, ISR, device config). */
#include "virtio_internal.h"
#include "arch/cpu.h"
#include "core/log.h"
#include "lib/errno.h"

/* struct virtio_pci_common_cfg */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0c
#define COMMON_MSIX_CONFIG 0x10
#define COMMON_NUM_QUEUES 0x12
#define COMMON_STATUS 0x14
#define COMMON_CFG_GENERATION 0x15
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF 0x1e
#define COMMON_Q_DESC 0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30
#define COMMON_MIN_LEN 0x38

#define RESET_SPINS 1000000

static inline uint8_t c_read8(struct virtio_pci_dev *vp, unsigned off)
{
    return *(volatile uint8_t *)(vp->common + off);
}

static inline uint16_t c_read16(struct virtio_pci_dev *vp, unsigned off)
{
    return *(volatile uint16_t *)(vp->common + off);
}

static inline uint32_t c_read32(struct virtio_pci_dev *vp, unsigned off)
{
    return *(volatile uint32_t *)(vp->common + off);
}

static inline void c_write8(struct virtio_pci_dev *vp, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(vp->common + off) = v;
}

static inline void c_write16(struct virtio_pci_dev *vp, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(vp->common + off) = v;
}

static inline void c_write32(struct virtio_pci_dev *vp, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(vp->common + off) = v;
}

/* 64-bit fields as two 32-bit writes, low half first, which every device
 * must accept. */
static void c_write64(struct virtio_pci_dev *vp, unsigned off, uint64_t v)
{
    c_write32(vp, off, (uint32_t)v);
    c_write32(vp, off + 4, (uint32_t)(v >> 32));
}

static uint64_t modern_get_features(struct virtio_device *vdev)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    c_write32(vp, COMMON_DFSELECT, 0);
    uint64_t lo = c_read32(vp, COMMON_DF);
    c_write32(vp, COMMON_DFSELECT, 1);
    return lo | (uint64_t)c_read32(vp, COMMON_DF) << 32;
}

static void modern_set_features(struct virtio_device *vdev, uint64_t f)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    c_write32(vp, COMMON_GFSELECT, 0);
    c_write32(vp, COMMON_GF, (uint32_t)f);
    c_write32(vp, COMMON_GFSELECT, 1);
    c_write32(vp, COMMON_GF, (uint32_t)(f >> 32));
}

static uint8_t modern_get_status(struct virtio_device *vdev)
{
    return c_read8(to_vp(vdev), COMMON_STATUS);
}

static void modern_set_status(struct virtio_device *vdev, uint8_t s)
{
    c_write8(to_vp(vdev), COMMON_STATUS, s);
}

/* A reset completes when the status reads 0 again (section 4.1.4.3.2). */
static void modern_reset(struct virtio_device *vdev)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    c_write8(vp, COMMON_STATUS, 0);
    for (int i = 0; i < RESET_SPINS && c_read8(vp, COMMON_STATUS); i++)
        cpu_pause();
}

static uint32_t modern_generation(struct virtio_device *vdev)
{
    return c_read8(to_vp(vdev), COMMON_CFG_GENERATION);
}

static void modern_read_config(struct virtio_device *vdev, unsigned off, void *buf, unsigned len)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    if (!vp->devcfg || off > vp->devcfg_len || len > vp->devcfg_len - off) {
        __builtin_memset(buf, 0xff, len); /* as a bus read of nothing would */
        return;
    }
    virtio_window_read(vp->devcfg, off, buf, len);
}

static void modern_write_config(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    if (vp->devcfg && off <= vp->devcfg_len && len <= vp->devcfg_len - off)
        virtio_window_write(vp->devcfg, off, buf, len);
}

static uint16_t modern_queue_max_size(struct virtio_device *vdev, unsigned index, bool *fixed)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    *fixed = false;
    if (index >= c_read16(vp, COMMON_NUM_QUEUES))
        return 0;
    c_write16(vp, COMMON_Q_SELECT, (uint16_t)index);
    return c_read16(vp, COMMON_Q_SIZE);
}

static int modern_queue_activate(struct virtio_device *vdev, struct virtqueue *vq)
{
    struct virtio_pci_dev *vp = to_vp(vdev);
    c_write16(vp, COMMON_Q_SELECT, (uint16_t)vq->index);
    if (c_read16(vp, COMMON_Q_ENABLE))
        return -EBUSY; /* the reset did not take */
    c_write16(vp, COMMON_Q_SIZE, vq->num);
    if (vp->msix) {
        c_write16(vp, COMMON_Q_MSIX, (uint16_t)vq->irq_entry);
        if (c_read16(vp, COMMON_Q_MSIX) != (uint16_t)vq->irq_entry)
            return -ENOSPC; /* the device could not take the vector */
    }
    c_write64(vp, COMMON_Q_DESC, vq->desc_phys);
    c_write64(vp, COMMON_Q_DRIVER, vq->avail_phys);
    c_write64(vp, COMMON_Q_DEVICE, vq->used_phys);
    uint64_t noff = (uint64_t)c_read16(vp, COMMON_Q_NOFF) * vp->notify_mult;
    if (noff + 2 > vp->notify_len) {
        pr_warn("virtio: %s: queue %u notify offset %#lx outside the notify area\n", vdev->name,
                vq->index, noff);
        return -EINVAL;
    }
    vq->notify_addr = vp->notify + noff;
    c_write16(vp, COMMON_Q_ENABLE, 1);
    return 0;
}

static void modern_notify(struct virtqueue *vq)
{
    *(volatile uint16_t *)vq->notify_addr = (uint16_t)vq->index;
}

static uint16_t modern_set_config_vector(struct virtio_pci_dev *vp, uint16_t entry)
{
    c_write16(vp, COMMON_MSIX_CONFIG, entry);
    return c_read16(vp, COMMON_MSIX_CONFIG);
}

static uint8_t modern_read_isr(struct virtio_pci_dev *vp)
{
    return *vp->isr; /* reading clears it */
}

static volatile uint8_t *map_region(struct virtio_pci_dev *vp, const struct virtio_pci_region *r,
                                    uint32_t min_len)
{
    if (!r->present || r->length < min_len)
        return NULL;
    return (volatile uint8_t *)pci_bar_map(vp->pci, r->bar, r->offset, r->length);
}

int virtio_pci_modern_map(struct virtio_pci_dev *vp, const struct virtio_pci_caps *caps)
{
    vp->common = map_region(vp, &caps->common, COMMON_MIN_LEN);
    vp->isr = map_region(vp, &caps->isr, 1);
    vp->notify = map_region(vp, &caps->notify, 2);
    vp->devcfg = map_region(vp, &caps->device, 1);
    vp->notify_len = caps->notify.length;
    vp->notify_mult = caps->notify_mult;
    vp->devcfg_len = vp->devcfg ? caps->device.length : 0;
    return vp->common && vp->isr && vp->notify ? 0 : -ENXIO;
}

const struct virtio_pci_ops virtio_pci_modern_ops = {
    .set_config_vector = modern_set_config_vector,
    .read_isr = modern_read_isr,
};

const struct virtio_transport virtio_pci_modern_transport = {
    .name = "pci",
    .legacy = false,
    .get_features = modern_get_features,
    .set_features = modern_set_features,
    .get_status = modern_get_status,
    .set_status = modern_set_status,
    .reset = modern_reset,
    .config_generation = modern_generation,
    .read_config = modern_read_config,
    .write_config = modern_write_config,
    .queue_max_size = modern_queue_max_size,
    .setup_irqs = virtio_pci_setup_irqs,
    .queue_activate = modern_queue_activate,
    .notify = modern_notify,
};
