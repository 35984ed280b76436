/* Virtio core: devices found by the transports are named, matched with a
 * driver by device id, taken through the status and feature handshake, and
 * given their queues. A device that misbehaves is logged and left FAILED. */
#include "drivers/virtio.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"

#define VIRTIO_MAX_DRIVERS 16
/* Features the core itself handles for every driver. */
#define VIRTIO_CORE_FEATURES \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

struct list_node virtio_devices = LIST_INIT(virtio_devices);
static const struct virtio_driver *drivers[VIRTIO_MAX_DRIVERS];
static unsigned driver_count, device_count;

int virtio_register_driver(const struct virtio_driver *drv)
{
    if (driver_count == VIRTIO_MAX_DRIVERS)
        return -ENOSPC;
    drivers[driver_count++] = drv;
    return 0;
}

static const char *device_kind(uint16_t id)
{
    switch (id) {
    case VIRTIO_ID_NET: return "net";
    case VIRTIO_ID_BLOCK: return "block";
    case VIRTIO_ID_CONSOLE: return "console";
    case VIRTIO_ID_RNG: return "entropy";
    case VIRTIO_ID_BALLOON: return "balloon";
    case VIRTIO_ID_SCSI: return "scsi";
    case VIRTIO_ID_9P: return "9p";
    case VIRTIO_ID_VSOCK: return "vsock";
    case VIRTIO_ID_FS: return "fs";
    default: return "unknown";
    }
}

/* ---- config space ---- */

void virtio_config_read(struct virtio_device *vdev, unsigned off, void *buf, unsigned len)
{
    const struct virtio_transport *t = vdev->transport;
    /* A multi-access read can straddle a device update; the generation
     * counter says when to retry. Bounded: a device that keeps changing
     * gets the last read. */
    for (int tries = 0; tries < 16; tries++) {
        uint32_t gen = t->config_generation(vdev);
        t->read_config(vdev, off, buf, len);
        if (t->config_generation(vdev) == gen)
            return;
    }
}

void virtio_config_write(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len)
{
    vdev->transport->write_config(vdev, off, buf, len);
}

uint8_t virtio_cread8(struct virtio_device *vdev, unsigned off)
{
    uint8_t v;
    virtio_config_read(vdev, off, &v, 1);
    return v;
}

uint16_t virtio_cread16(struct virtio_device *vdev, unsigned off)
{
    uint16_t v;
    virtio_config_read(vdev, off, &v, 2);
    return v;
}

uint32_t virtio_cread32(struct virtio_device *vdev, unsigned off)
{
    uint32_t v;
    virtio_config_read(vdev, off, &v, 4);
    return v;
}

uint64_t virtio_cread64(struct virtio_device *vdev, unsigned off)
{
    uint64_t v;
    virtio_config_read(vdev, off, &v, 8);
    return v;
}

/* ---- DMA addresses ---- */

uint64_t virtio_dma_addr(const void *p)
{
    uintptr_t va = (uintptr_t)p;
    if (va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE)
        return virt_to_phys(p);
    if (va >= KERNEL_VMA)
        return va - KERNEL_VMA; /* the kernel image maps physical 0 at KERNEL_VMA */
    return paging_translate(va); /* stacks and other windows */
}

unsigned virtio_sg_from_buf(struct virtq_sg *sg, unsigned max, const void *buf, size_t len)
{
    uintptr_t va = (uintptr_t)buf;
    unsigned n = 0;
    while (len) {
        /* the direct map is contiguous; elsewhere go page by page */
        size_t chunk = va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE
                           ? len
                           : MIN(len, (size_t)(PAGE_SIZE - (va & (PAGE_SIZE - 1))));
        chunk = MIN(chunk, (size_t)0x80000000u); /* descriptor lengths are 32-bit */
        uint64_t pa = virtio_dma_addr((const void *)va);
        if (pa == (uint64_t)-1)
            return 0;
        if (n && sg[n - 1].addr + sg[n - 1].len == pa && sg[n - 1].len + chunk <= 0x80000000u) {
            sg[n - 1].len += (uint32_t)chunk;
        } else {
            if (n == max)
                return 0;
            sg[n].addr = pa;
            sg[n].len = (uint32_t)chunk;
            n++;
        }
        va += chunk;
        len -= chunk;
    }
    return n;
}

/* ---- queues ---- */

uint16_t virtio_queue_max_size(struct virtio_device *vdev, unsigned index)
{
    bool fixed;
    return vdev->transport->queue_max_size(vdev, index, &fixed);
}

static unsigned page_order_for(size_t bytes)
{
    unsigned order = 0;
    while (((size_t)PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

static int vq_create(struct virtio_device *vdev, unsigned index, const struct virtio_vq_info *info,
                     struct virtqueue **out)
{
    bool fixed = false;
    uint16_t max = vdev->transport->queue_max_size(vdev, index, &fixed);
    if (!max) {
        pr_warn("virtio: %s: queue %u (%s) does not exist\n", vdev->name, index, info->name);
        return -ENOENT;
    }
    uint16_t want = info->max_size ? info->max_size : VIRTQ_MAX_SIZE;
    uint16_t num = fixed ? max : MIN(max, want);
    /* Split rings need a power of two; round down what the device offers. */
    while (num & (num - 1))
        num &= (uint16_t)(num - 1);
    if ((fixed && (max & (max - 1))) || num < 2) {
        pr_warn("virtio: %s: queue %u has unusable size %u\n", vdev->name, index, max);
        return -EINVAL;
    }
    struct virtqueue *vq = kzalloc(sizeof(*vq));
    if (!vq)
        return -ENOMEM;
    unsigned order = page_order_for(virtq_ring_bytes(num));
    void *mem = page_alloc_zeroed(order);
    int err = mem ? virtq_init(vq, num, mem, virt_to_phys(mem), virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC),
                               virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX))
                  : -ENOMEM;
    if (err) {
        if (mem)
            page_free_virt(mem, order);
        kfree(vq);
        return err;
    }
    vq->ring_order = order;
    vq->index = index;
    vq->vdev = vdev;
    vq->callback = info->callback;
    vq->irq_entry = ~0u;
    *out = vq;
    return 0;
}

static void vq_destroy(struct virtqueue *vq)
{
    virtq_release(vq);
    page_free_virt(vq->ring_mem, vq->ring_order);
    kfree(vq);
}

int virtio_find_vqs(struct virtio_device *vdev, unsigned n, const struct virtio_vq_info *info,
                    struct virtqueue **vqs)
{
    if (!n)
        return -EINVAL;
    unsigned made = 0;
    int err = 0;
    for (; made < n && !err; made++) {
        err = vq_create(vdev, made, &info[made], &vqs[made]);
        if (err)
            break;
    }
    if (!err)
        err = vdev->transport->setup_irqs(vdev, n, vqs);
    for (unsigned i = 0; i < n && !err; i++)
        err = vdev->transport->queue_activate(vdev, vqs[i]);
    if (err) {
        /* nothing may point at the rings any more before they are freed */
        vdev->transport->reset(vdev);
        for (unsigned i = 0; i < made; i++)
            vq_destroy(vqs[i]);
        pr_warn("virtio: %s: cannot set up %u queue%s: %s\n", vdev->name, n, n == 1 ? "" : "s",
                errno_name(err));
        return err;
    }
    vdev->vqs = vqs;
    vdev->nvqs = n;
    return 0;
}

void virtio_device_ready(struct virtio_device *vdev)
{
    const struct virtio_transport *t = vdev->transport;
    t->set_status(vdev, t->get_status(vdev) | VIRTIO_STATUS_DRIVER_OK);
}

void virtqueue_kick(struct virtqueue *vq)
{
    if (virtq_kick_prepare(vq)) {
        vq->kicks++;
        vq->vdev->transport->notify(vq);
    }
}

/* ---- interrupts ---- */

void virtio_queue_interrupt(struct virtqueue *vq)
{
    vq->interrupts++;
    if (vq->callback)
        vq->callback(vq);
}

void virtio_config_interrupt(struct virtio_device *vdev)
{
    if (vdev->driver && vdev->driver->config_changed)
        vdev->driver->config_changed(vdev);
}

void virtio_isr_interrupt(struct virtio_device *vdev, uint8_t isr)
{
    if (isr & VIRTIO_ISR_QUEUE)
        for (unsigned i = 0; i < vdev->nvqs; i++)
            virtio_queue_interrupt(vdev->vqs[i]);
    if (isr & VIRTIO_ISR_CONFIG)
        virtio_config_interrupt(vdev);
}

/* ---- probing ---- */

static const struct virtio_driver *find_driver(uint16_t id)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (drivers[i]->device_id == id)
            return drivers[i];
    return NULL;
}

static int negotiate(struct virtio_device *vdev, const struct virtio_driver *drv)
{
    const struct virtio_transport *t = vdev->transport;
    vdev->offered = t->get_features(vdev);
    uint64_t wanted = drv->features | VIRTIO_CORE_FEATURES;
    if (t->legacy) {
        wanted &= 0xffffffffull; /* 32 feature bits, and never VERSION_1 */
    } else if (!(vdev->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
        pr_warn("virtio: %s: modern interface without VIRTIO_F_VERSION_1; skipped\n", vdev->name);
        return -EINVAL;
    }
    vdev->features = vdev->offered & wanted;
    t->set_features(vdev, vdev->features);
    if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
        return 0; /* legacy devices have no FEATURES_OK step */
    t->set_status(vdev, t->get_status(vdev) | VIRTIO_STATUS_FEATURES_OK);
    if (!(t->get_status(vdev) & VIRTIO_STATUS_FEATURES_OK)) {
        pr_warn("virtio: %s: device refused features %#lx; skipped\n", vdev->name, vdev->features);
        return -EINVAL;
    }
    return 0;
}

int virtio_add_device(struct virtio_device *vdev)
{
    const struct virtio_transport *t = vdev->transport;
    snprintf(vdev->name, sizeof(vdev->name), "virtio%u", device_count++);
    list_add_tail(&virtio_devices, &vdev->link);
    t->reset(vdev);
    t->set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
    const struct virtio_driver *drv = find_driver(vdev->id);
    pr_info("virtio: %s: %s device (id %u) at %s, transport %s%s\n", vdev->name, device_kind(vdev->id),
            vdev->id, vdev->location, t->name, drv ? "" : ", no driver");
    if (!drv)
        return -ENODEV;
    t->set_status(vdev, t->get_status(vdev) | VIRTIO_STATUS_DRIVER);
    vdev->driver = drv;
    int err = negotiate(vdev, drv);
    if (!err)
        err = drv->probe(vdev);
    if (err) {
        t->set_status(vdev, t->get_status(vdev) | VIRTIO_STATUS_FAILED);
        vdev->driver = NULL;
        pr_warn("virtio: %s: %s driver failed: %s; device skipped\n", vdev->name, drv->name,
                errno_name(err));
        return err;
    }
    pr_debug("virtio: %s: features offered %#lx, accepted %#lx, interrupts %s\n", vdev->name,
             vdev->offered, vdev->features, vdev->irq_mode ? vdev->irq_mode : "none");
    return 0;
}
