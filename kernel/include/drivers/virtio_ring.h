/* Split virtqueues (virtio 1.x section 2.7): the rings in guest memory, and
 * the driver side of them: adding buffer chains (direct or through an
 * indirect table), deciding when to notify the device (VIRTIO_F_EVENT_IDX or
 * the NO_NOTIFY flag), collecting used buffers, and suppressing interrupts.
 * Pure logic: the functions here touch only ring memory, so the host unit
 * tests run them against a fake device. Callers serialise every call on one
 * queue (vq->lock, with interrupts off). */
#pragma once

#include "arch/spinlock.h"
#include "lib/types.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2    /* device writes (otherwise reads) the buffer */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer is a table of descriptors */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* The largest queue we set up: 256 entries keep a queue's rings in three
 * pages; devices offering more (and letting us choose) get 256. */
#define VIRTQ_MAX_SIZE 256
/* Ring alignment of the used ring in the legacy layout (PCI 0.9.5 and MMIO
 * v1 take one page number for all three parts). */
#define VIRTQ_LEGACY_ALIGN 4096

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* then uint16_t used_event */
};

struct virtq_used_elem {
    uint32_t id;  /* head of the chain */
    uint32_t len; /* bytes the device wrote */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* then uint16_t avail_event */
};

/* One buffer of a chain: a guest physical address and a length. */
struct virtq_sg {
    uint64_t addr;
    uint32_t len;
};

struct virtqueue;
typedef void (*virtq_callback_t)(struct virtqueue *vq);

struct virtqueue {
    /* the rings */
    uint16_t num;             /* entries, a power of two */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint64_t desc_phys, avail_phys, used_phys;
    void *ring_mem;           /* what the rings were carved from */
    unsigned ring_order;      /* its page order (kernel) */
    /* driver state */
    uint16_t free_head, num_free;
    uint16_t avail_idx;       /* next avail->idx we publish */
    uint16_t last_used_idx;   /* next used entry to collect */
    uint16_t added;           /* chains published since the last kick */
    bool use_indirect, use_event_idx, cb_disabled, broken;
    uint16_t *next_free;      /* private copy of each descriptor's link */
    uint16_t *chain_len;      /* ring descriptors held by the chain at a head */
    void **token;             /* caller's token per head; NULL when free */
    struct virtq_desc **indirect; /* indirect table per head, or NULL */
    /* owner */
    spinlock_t lock;
    unsigned index;           /* queue number on the device */
    struct virtio_device *vdev;
    virtq_callback_t callback; /* interrupt context */
    void *priv;               /* the driver's */
    unsigned irq_entry;       /* transport: MSI-X table entry, or ~0u */
    volatile void *notify_addr; /* transport: where kicks are written (modern PCI) */
    uint64_t kicks, interrupts;
};

/* Bytes of ring memory for `num` entries in the legacy layout (descriptors,
 * then the available ring, then the used ring on a 4 KiB boundary); usable
 * by every transport. */
size_t virtq_ring_bytes(uint16_t num);
/* Set up vq over zeroed ring memory `mem` (physical address `phys`),
 * allocating its private arrays. 0, -EINVAL (num not a power of two or
 * above 32768) or -ENOMEM. */
int virtq_init(struct virtqueue *vq, uint16_t num, void *mem, uint64_t phys, bool indirect,
               bool event_idx);
/* Free the private arrays and any indirect tables still held. */
void virtq_release(struct virtqueue *vq);

/* Publish a chain: `out` device-readable buffers, then `in` device-writable
 * ones. token (not NULL) comes back from virtq_get_used. 0, -ENOSPC (not
 * enough free descriptors: collect used ones and retry), -EINVAL. */
int virtq_add(struct virtqueue *vq, const struct virtq_sg *sg, unsigned out, unsigned in, void *token);
/* After adding: true when the device wants a notification now. */
bool virtq_kick_prepare(struct virtqueue *vq);
/* The next used chain's token (and bytes written into *len), or NULL. */
void *virtq_get_used(struct virtqueue *vq, uint32_t *len);
bool virtq_has_used(const struct virtqueue *vq);
unsigned virtq_num_free(const struct virtqueue *vq);
/* Ask the device not to interrupt (a hint it may ignore). */
void virtq_disable_cb(struct virtqueue *vq);
/* Ask for an interrupt on the next used buffer. Returns false when used
 * buffers arrived already (collect them: no interrupt will say so). */
bool virtq_enable_cb(struct virtqueue *vq);
/* Like virtq_enable_cb, but with VIRTIO_F_EVENT_IDX only after about 3/4 of
 * the outstanding buffers are used (transmit queues). */
bool virtq_enable_cb_delayed(struct virtqueue *vq);
/* The event-index test of the spec: has the index moved past `event` in
 * going from old to new? */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static inline uint16_t *virtq_used_event(struct virtqueue *vq)
{
    return &vq->avail->ring[vq->num];
}

static inline uint16_t *virtq_avail_event(struct virtqueue *vq)
{
    return (uint16_t *)&vq->used->ring[vq->num];
}
