/* virtio-blk (section 5.2): each disk becomes a block device ("vblk0", ...)
 * whose requests go out as header, data and status descriptors on one of
 * the device's queues (one per CPU when it offers several, up to 4); the
 * queue interrupt completes them. Flush, discard and write-zeroes are used
 * when offered, VIRTIO_BLK_F_RO makes the disk read-only. */
#include "drivers/block.h"
#include "drivers/virtio.h"
#include "arch/percpu.h"
#include "core/cpu.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* struct virtio_blk_config offsets */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_PHYS_BLOCK_EXP 24
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_WRITE_ZEROES_SECTORS 48
#define CFG_WRITE_ZEROES_MAY_UNMAP 56

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_UNMAP 1

#define VBLK_MAX_QUEUES 4
#define VBLK_SEG_LIMIT 128       /* data descriptors per request */
#define VBLK_MAX_SECTORS 1024    /* 512 KiB per request */
#define VBLK_SG_ON_STACK 18

struct vblk_queue {
    struct virtqueue *vq;
    struct waitq space; /* submitters waiting for free descriptors */
};

struct vblk {
    struct blockdev bdev;
    struct virtio_device *vdev;
    unsigned nqueues;
    struct vblk_queue q[VBLK_MAX_QUEUES];
    struct virtqueue *vqs[VBLK_MAX_QUEUES];
    uint32_t seg_limit, size_max;
    bool zeroes_may_unmap;
};

/* What the device reads and writes besides the data: kmalloc'd, so each
 * field is in the direct map and inside one page. */
struct vblk_req {
    struct {
        uint32_t type, reserved;
        uint64_t sector;
    } hdr;
    struct {
        uint64_t sector;
        uint32_t num_sectors, flags;
    } range;            /* discard / write-zeroes */
    uint8_t status;
    struct blockdev_req *breq;
    struct vblk_req *next;
};

static int status_to_errno(uint8_t s)
{
    return s == VIRTIO_BLK_S_OK ? 0 : s == VIRTIO_BLK_S_UNSUPP ? -EOPNOTSUPP : -EIO;
}

static void vblk_done(struct virtqueue *vq)
{
    struct vblk_queue *q = vq->priv;
    struct vblk_req *done = NULL, **tail = &done, *r;
    irqflags_t f = spin_lock(&vq->lock);
    /* Interrupts off while draining; turning them back on reports buffers
     * that slipped in meanwhile, which are drained too. */
    do {
        virtq_disable_cb(vq);
        while ((r = virtq_get_used(vq, NULL))) {
            r->next = NULL;
            *tail = r;
            tail = &r->next;
        }
    } while (!virtq_enable_cb(vq) && !vq->broken);
    spin_unlock(&vq->lock, f);
    while ((r = done)) {
        done = r->next;
        struct blockdev_req *breq = r->breq;
        breq->status = status_to_errno(r->status);
        kfree(r);
        blockdev_complete(breq);
    }
    waitq_wake_all(&q->space);
}

/* Data descriptors for one buffer, no longer than size_max each. */
static int add_data(struct vblk *v, struct virtq_sg *sg, unsigned *n, unsigned max, void *buf, size_t len)
{
    unsigned got = virtio_sg_from_buf(sg + *n, max - *n, buf, len);
    if (!got)
        return -EINVAL;
    if (v->size_max) {
        for (unsigned i = *n; i < *n + got; i++) {
            while (sg[i].len > v->size_max) {
                if (*n + got == max)
                    return -EINVAL;
                memmove(&sg[i + 1], &sg[i], (*n + got - i) * sizeof(*sg));
                sg[i].len = v->size_max;
                sg[i + 1].addr += v->size_max;
                sg[i + 1].len -= v->size_max;
                got++;
                i++;
            }
        }
    }
    *n += got;
    return 0;
}

/* Fill sg for the request; returns the out count in *out and in count in *in. */
static int build_sg(struct vblk *v, struct vblk_req *r, struct blockdev_req *breq, struct virtq_sg *sg,
                    unsigned max, unsigned *out, unsigned *in)
{
    unsigned n = 0;
    sg[n++] = (struct virtq_sg){ virtio_dma_addr(&r->hdr), sizeof(r->hdr) };
    bool data = breq->op == BLOCKDEV_OP_READ || breq->op == BLOCKDEV_OP_WRITE;
    if (data) {
        int err = 0;
        if (breq->nsegs) {
            for (unsigned i = 0; i < breq->nsegs && !err; i++)
                err = add_data(v, sg, &n, max - 1, breq->segs[i].buf, breq->segs[i].len);
        } else {
            err = add_data(v, sg, &n, max - 1, breq->buf, (size_t)breq->count * BLOCKDEV_SECTOR);
        }
        if (err)
            return err;
    } else if (breq->op != BLOCKDEV_OP_FLUSH) {
        sg[n++] = (struct virtq_sg){ virtio_dma_addr(&r->range), sizeof(r->range) };
    }
    unsigned ndata = n - 1;
    sg[n++] = (struct virtq_sg){ virtio_dma_addr(&r->status), 1 };
    bool read = breq->op == BLOCKDEV_OP_READ;
    *out = read ? 1 : 1 + ndata;
    *in = read ? ndata + 1 : 1;
    return 0;
}

static void fill_header(struct vblk *v, struct vblk_req *r, struct blockdev_req *breq)
{
    static const uint32_t types[] = {
        [BLOCKDEV_OP_READ] = VIRTIO_BLK_T_IN,
        [BLOCKDEV_OP_WRITE] = VIRTIO_BLK_T_OUT,
        [BLOCKDEV_OP_FLUSH] = VIRTIO_BLK_T_FLUSH,
        [BLOCKDEV_OP_DISCARD] = VIRTIO_BLK_T_DISCARD,
        [BLOCKDEV_OP_WRITE_ZEROES] = VIRTIO_BLK_T_WRITE_ZEROES,
    };
    r->hdr.type = types[breq->op];
    r->hdr.reserved = 0;
    r->hdr.sector = breq->op == BLOCKDEV_OP_FLUSH ? 0 : breq->sector;
    r->range.sector = breq->sector;
    r->range.num_sectors = breq->count;
    r->range.flags = breq->op == BLOCKDEV_OP_WRITE_ZEROES && v->zeroes_may_unmap ? VIRTIO_BLK_WZ_UNMAP : 0;
    r->status = 0xff; /* a device that completes without writing it reports an error */
    r->breq = breq;
}

/* Put the chain on the queue, sleeping while it is full. */
static int queue_request(struct vblk_queue *q, struct virtq_sg *sg, unsigned out, unsigned in, void *token)
{
    for (;;) {
        irqflags_t f = spin_lock(&q->vq->lock);
        int err = virtq_add(q->vq, sg, out, in, token);
        if (!err)
            virtqueue_kick(q->vq);
        spin_unlock(&q->vq->lock, f);
        if (err != -ENOSPC)
            return err;
        struct wait_entry e = { 0 };
        waitq_prepare(&q->space, &e);
        if (virtq_num_free(q->vq) < out + in)
            waitq_sleep(&e, 0);
        waitq_finish(&q->space, &e);
    }
}

static int vblk_submit(struct blockdev *dev, struct blockdev_req *breq)
{
    struct vblk *v = dev->priv;
    if (breq->op != BLOCKDEV_OP_READ && breq->op != BLOCKDEV_OP_FLUSH && dev->read_only)
        return -EROFS;
    struct vblk_req *r = kmalloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    fill_header(v, r, breq);
    unsigned max = v->seg_limit + 2, out, in;
    struct virtq_sg stack_sg[VBLK_SG_ON_STACK];
    struct virtq_sg *sg = max <= VBLK_SG_ON_STACK ? stack_sg : kmalloc(max * sizeof(*sg));
    int err = sg ? build_sg(v, r, breq, sg, max, &out, &in) : -ENOMEM;
    if (!err) {
        struct vblk_queue *q = &v->q[cpu_current_id() % v->nqueues];
        err = queue_request(q, sg, out, in, r);
    }
    if (sg != stack_sg)
        kfree(sg);
    if (err)
        kfree(r);
    return err;
}

static const struct blockdev_ops vblk_ops = {
    .submit = vblk_submit,
};

static unsigned queue_count(struct virtio_device *vdev)
{
    unsigned n = virtio_has_feature(vdev, VIRTIO_BLK_F_MQ) ? virtio_cread16(vdev, CFG_NUM_QUEUES) : 1;
    n = MIN(n, MIN(cpu_count, (unsigned)VBLK_MAX_QUEUES));
    return MAX(n, 1u);
}

static unsigned read_block_size(struct virtio_device *vdev)
{
    if (!virtio_has_feature(vdev, VIRTIO_BLK_F_BLK_SIZE))
        return BLOCKDEV_SECTOR;
    uint32_t bs = virtio_cread32(vdev, CFG_BLK_SIZE);
    if (bs < BLOCKDEV_SECTOR || bs > 65536 || (bs & (bs - 1))) {
        pr_warn("virtio-blk: %s: block size %u is not usable; using 512\n", vdev->name, bs);
        return BLOCKDEV_SECTOR;
    }
    return bs;
}

/* Limits a request must respect: descriptors and bytes. */
static void read_limits(struct vblk *v)
{
    struct virtio_device *vdev = v->vdev;
    uint32_t seg_max = virtio_has_feature(vdev, VIRTIO_BLK_F_SEG_MAX) ? virtio_cread32(vdev, CFG_SEG_MAX) : 0;
    uint32_t ring = v->q[0].vq->num;
    for (unsigned i = 1; i < v->nqueues; i++)
        ring = MIN(ring, (uint32_t)v->q[i].vq->num);
    v->seg_limit = MIN(seg_max ? seg_max : ring - 2, MIN(ring - 2, (uint32_t)VBLK_SEG_LIMIT));
    v->seg_limit = MAX(v->seg_limit, 1u);
    v->size_max = virtio_has_feature(vdev, VIRTIO_BLK_F_SIZE_MAX) ? virtio_cread32(vdev, CFG_SIZE_MAX) : 0;
    if (v->size_max && v->size_max < BLOCKDEV_SECTOR)
        v->size_max = BLOCKDEV_SECTOR;
    /* Worst case a buffer outside the direct map costs one descriptor per
     * page (or per size_max piece). */
    uint32_t piece = v->size_max ? MIN(v->size_max, 4096u) : 4096u;
    uint64_t bytes = (uint64_t)(v->seg_limit > 1 ? v->seg_limit - 1 : 1) * piece;
    v->bdev.max_sectors = (uint32_t)MIN((uint64_t)VBLK_MAX_SECTORS, bytes / BLOCKDEV_SECTOR);
    v->bdev.max_sectors = MAX(v->bdev.max_sectors, v->bdev.block_size / BLOCKDEV_SECTOR);
    v->bdev.max_sectors = ALIGN_DOWN(v->bdev.max_sectors, v->bdev.block_size / BLOCKDEV_SECTOR);
    if (virtio_has_feature(vdev, VIRTIO_BLK_F_DISCARD)) {
        v->bdev.max_discard_sectors = virtio_cread32(vdev, CFG_MAX_DISCARD_SECTORS);
        if (v->bdev.max_discard_sectors)
            v->bdev.caps |= BLOCKDEV_CAN_DISCARD;
    }
    if (virtio_has_feature(vdev, VIRTIO_BLK_F_WRITE_ZEROES)) {
        v->bdev.max_write_zeroes_sectors = virtio_cread32(vdev, CFG_MAX_WRITE_ZEROES_SECTORS);
        v->zeroes_may_unmap = virtio_cread8(vdev, CFG_WRITE_ZEROES_MAY_UNMAP);
        if (v->bdev.max_write_zeroes_sectors)
            v->bdev.caps |= BLOCKDEV_CAN_WRITE_ZEROES;
    }
    if (virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH))
        v->bdev.caps |= BLOCKDEV_CAN_FLUSH;
}

static void log_disk(struct vblk *v)
{
    uint64_t bytes = v->bdev.sectors * BLOCKDEV_SECTOR;
    unsigned caps = v->bdev.caps;
    pr_info("%s: %lu %s (%lu sectors), block size %u, %s, %u queue%s of %u, %s at %s (%s)%s%s%s\n",
            v->bdev.name, bytes >= MiB(1) ? bytes >> 20 : bytes >> 10, bytes >= MiB(1) ? "MiB" : "KiB",
            v->bdev.sectors, v->bdev.block_size, v->bdev.read_only ? "read-only" : "read-write",
            v->nqueues, v->nqueues == 1 ? "" : "s", v->q[0].vq->num, v->vdev->name, v->vdev->location,
            v->vdev->transport->name, caps & BLOCKDEV_CAN_FLUSH ? ", flush" : "",
            caps & BLOCKDEV_CAN_DISCARD ? ", discard" : "", caps & BLOCKDEV_CAN_WRITE_ZEROES ? ", write-zeroes" : "");
}

static int vblk_probe(struct virtio_device *vdev)
{
    struct vblk *v = kzalloc(sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->vdev = vdev;
    v->bdev.sectors = virtio_cread64(vdev, CFG_CAPACITY);
    v->bdev.block_size = read_block_size(vdev);
    v->bdev.read_only = virtio_has_feature(vdev, VIRTIO_BLK_F_RO);
    v->bdev.ops = &vblk_ops;
    v->bdev.priv = v;
    v->nqueues = queue_count(vdev);
    struct virtio_vq_info info[VBLK_MAX_QUEUES];
    for (unsigned i = 0; i < v->nqueues; i++)
        info[i] = (struct virtio_vq_info){ .callback = vblk_done, .name = "request" };
    int err = virtio_find_vqs(vdev, v->nqueues, info, v->vqs);
    if (err) {
        kfree(v);
        return err;
    }
    for (unsigned i = 0; i < v->nqueues; i++) {
        v->q[i].vq = v->vqs[i];
        v->vqs[i]->priv = &v->q[i];
        waitq_init(&v->q[i].space);
    }
    read_limits(v);
    vdev->priv = v;
    virtio_device_ready(vdev);
    if ((err = blockdev_register(&v->bdev, "vblk")) != 0)
        return err; /* the queues stay with the device, which is marked failed */
    log_disk(v);
    return 0;
}

/* A resized disk (QEMU block_resize): the new capacity holds from now on. */
static void vblk_config_changed(struct virtio_device *vdev)
{
    struct vblk *v = vdev->priv;
    if (!v)
        return;
    uint64_t sectors = virtio_cread64(vdev, CFG_CAPACITY);
    if (sectors != v->bdev.sectors) {
        pr_info("%s: capacity now %lu sectors\n", v->bdev.name, sectors);
        v->bdev.sectors = sectors;
    }
}

const struct virtio_driver virtio_blk_driver = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
                VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
                VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |
                VIRTIO_BIT(VIRTIO_BLK_F_MQ) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
                VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES),
    .probe = vblk_probe,
    .config_changed = vblk_config_changed,
};
