/* Split virtqueue driver logic (virtio 1.x section 2.7): descriptor free
 * list, chains direct or indirect, event-index notification and interrupt
 * suppression. Pure: unit tested on the host against a fake device. */
#include "drivers/virtio_ring.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"

/* x86 keeps stores in order and loads in order, so publishing and
 * consuming need only compiler barriers; a store followed by a load of
 * another location (publish avail->idx, then read the device's event index)
 * needs a full fence. A locked add is one and costs less than mfence. */
static inline void virtq_mb(void)
{
    __asm__ __volatile__("lock; addl $0, 0(%%rsp)" ::: "memory", "cc");
}

size_t virtq_ring_bytes(uint16_t num)
{
    size_t desc = (size_t)num * sizeof(struct virtq_desc);
    size_t avail = sizeof(struct virtq_avail) + (size_t)num * 2 + 2;
    size_t used = sizeof(struct virtq_used) + (size_t)num * sizeof(struct virtq_used_elem) + 2;
    return ALIGN_UP(desc + avail, (size_t)VIRTQ_LEGACY_ALIGN) + used;
}

int virtq_init(struct virtqueue *vq, uint16_t num, void *mem, uint64_t phys, bool indirect,
               bool event_idx)
{
    if (!num || (num & (num - 1)) || num > 32768)
        return -EINVAL;
    size_t avail_off = (size_t)num * sizeof(struct virtq_desc);
    size_t used_off = ALIGN_UP(avail_off + sizeof(struct virtq_avail) + (size_t)num * 2 + 2,
                               (size_t)VIRTQ_LEGACY_ALIGN);
    vq->num = num;
    vq->ring_mem = mem;
    vq->desc = mem;
    vq->avail = (struct virtq_avail *)((uint8_t *)mem + avail_off);
    vq->used = (struct virtq_used *)((uint8_t *)mem + used_off);
    vq->desc_phys = phys;
    vq->avail_phys = phys + avail_off;
    vq->used_phys = phys + used_off;
    /* One allocation for the per-descriptor arrays: pointers first, so
     * everything stays aligned. */
    size_t ptrs = (size_t)num * sizeof(void *);
    uint8_t *state = kzalloc(2 * ptrs + 2 * (size_t)num * sizeof(uint16_t));
    if (!state)
        return -ENOMEM;
    vq->token = (void **)state;
    vq->indirect = (struct virtq_desc **)(state + ptrs);
    vq->next_free = (uint16_t *)(state + 2 * ptrs);
    vq->chain_len = vq->next_free + num;
    for (uint16_t i = 0; i < num; i++)
        vq->next_free[i] = (uint16_t)(i + 1); /* the last points past the end: never followed */
    vq->free_head = 0;
    vq->num_free = num;
    vq->avail_idx = vq->last_used_idx = vq->added = 0;
    vq->use_indirect = indirect;
    vq->use_event_idx = event_idx;
    vq->cb_disabled = false;
    vq->broken = false;
    spin_init(&vq->lock);
    return 0;
}

void virtq_release(struct virtqueue *vq)
{
    if (!vq->token)
        return;
    for (uint16_t i = 0; i < vq->num; i++)
        kfree(vq->indirect[i]);
    kfree(vq->token);
    vq->token = NULL;
    vq->indirect = NULL;
    vq->next_free = vq->chain_len = NULL;
}

unsigned virtq_num_free(const struct virtqueue *vq)
{
    return vq->num_free;
}

static void fill_desc(struct virtq_desc *d, const struct virtq_sg *sg, bool write, bool more,
                      uint16_t next)
{
    d->addr = sg->addr;
    d->len = sg->len;
    d->flags = (uint16_t)((write ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0));
    d->next = more ? next : 0;
}

/* An indirect table for the chain, or NULL (no feature, or no memory: the
 * chain then goes straight into the ring). */
static struct virtq_desc *make_indirect(struct virtqueue *vq, const struct virtq_sg *sg, unsigned out,
                                        unsigned total)
{
    if (!vq->use_indirect || total < 2)
        return NULL;
    struct virtq_desc *t = kmalloc(total * sizeof(*t));
    if (!t)
        return NULL;
    for (unsigned i = 0; i < total; i++)
        fill_desc(&t[i], &sg[i], i >= out, i + 1 < total, (uint16_t)(i + 1));
    return t;
}

int virtq_add(struct virtqueue *vq, const struct virtq_sg *sg, unsigned out, unsigned in, void *token)
{
    unsigned total = out + in;
    if (!total || total > vq->num || !token || vq->broken)
        return -EINVAL;
    struct virtq_desc *table = make_indirect(vq, sg, out, total);
    unsigned needed = table ? 1 : total;
    if (vq->num_free < needed) {
        kfree(table);
        return -ENOSPC;
    }
    uint16_t head = vq->free_head, i = head;
    if (table) {
        struct virtq_sg whole = { virt_to_phys(table), (uint32_t)(total * sizeof(*table)) };
        fill_desc(&vq->desc[head], &whole, false, false, 0);
        vq->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
        i = vq->next_free[head];
    } else {
        /* The chain takes descriptors in free-list order and links them the
         * same way, so freeing it later splices the whole run back. */
        for (unsigned k = 0; k < total; k++) {
            fill_desc(&vq->desc[i], &sg[k], k >= out, k + 1 < total, vq->next_free[i]);
            i = vq->next_free[i];
        }
    }
    vq->free_head = i;
    vq->num_free = (uint16_t)(vq->num_free - needed);
    vq->token[head] = token;
    vq->indirect[head] = table;
    vq->chain_len[head] = (uint16_t)needed;
    vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
    barrier(); /* the device must see the entry before the index that covers it */
    vq->avail_idx++;
    WRITE_ONCE(vq->avail->idx, vq->avail_idx);
    vq->added++;
    return 0;
}

bool virtq_kick_prepare(struct virtqueue *vq)
{
    virtq_mb(); /* our avail->idx store before reading what the device asked for */
    uint16_t new_idx = vq->avail_idx, old_idx = (uint16_t)(new_idx - vq->added);
    vq->added = 0;
    if (new_idx == old_idx)
        return false;
    if (vq->use_event_idx)
        return virtq_need_event(READ_ONCE(*virtq_avail_event(vq)), new_idx, old_idx);
    return !(READ_ONCE(vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_has_used(const struct virtqueue *vq)
{
    return vq->last_used_idx != READ_ONCE(vq->used->idx);
}

static void free_chain(struct virtqueue *vq, uint16_t head)
{
    uint16_t tail = head;
    for (unsigned k = 1; k < vq->chain_len[head]; k++)
        tail = vq->next_free[tail];
    vq->next_free[tail] = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + vq->chain_len[head]);
    kfree(vq->indirect[head]);
    vq->indirect[head] = NULL;
    vq->token[head] = NULL;
}

void *virtq_get_used(struct virtqueue *vq, uint32_t *len)
{
    if (vq->broken || !virtq_has_used(vq))
        return NULL;
    barrier(); /* read the entry only after the index that covers it */
    const struct virtq_used_elem *e = &vq->used->ring[vq->last_used_idx & (vq->num - 1)];
    uint32_t id = READ_ONCE(e->id), n = READ_ONCE(e->len);
    if (id >= vq->num || !vq->token[id]) {
        pr_err("virtio: queue %u: device returned descriptor %u, which it does not hold; queue stopped\n",
               vq->index, id);
        vq->broken = true;
        return NULL;
    }
    void *token = vq->token[id];
    free_chain(vq, (uint16_t)id);
    vq->last_used_idx++;
    if (len)
        *len = n;
    /* With event index an interrupt comes when used->idx passes used_event:
     * keep it just behind what we have consumed. */
    if (vq->use_event_idx && !vq->cb_disabled)
        WRITE_ONCE(*virtq_used_event(vq), vq->last_used_idx);
    return token;
}

void virtq_disable_cb(struct virtqueue *vq)
{
    vq->cb_disabled = true;
    if (vq->use_event_idx)
        /* an event index just behind us is one the device reaches only
         * after 65535 more buffers */
        WRITE_ONCE(*virtq_used_event(vq), (uint16_t)(vq->last_used_idx - 1));
    else
        WRITE_ONCE(vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static bool enable_at(struct virtqueue *vq, uint16_t event)
{
    vq->cb_disabled = false;
    if (vq->use_event_idx)
        WRITE_ONCE(*virtq_used_event(vq), event);
    else
        WRITE_ONCE(vq->avail->flags, 0);
    virtq_mb(); /* the request before the check, or an interrupt could be lost */
    return (uint16_t)(READ_ONCE(vq->used->idx) - vq->last_used_idx) <=
           (uint16_t)(event - vq->last_used_idx);
}

bool virtq_enable_cb(struct virtqueue *vq)
{
    return enable_at(vq, vq->last_used_idx);
}

bool virtq_enable_cb_delayed(struct virtqueue *vq)
{
    uint16_t outstanding = (uint16_t)(vq->avail_idx - vq->last_used_idx);
    return enable_at(vq, (uint16_t)(vq->last_used_idx + outstanding * 3 / 4));
}
