/* Host tests of the split virtqueue (kernel/drivers/virtio/virtq.c) against a
 * fake device in memory that walks descriptor chains (direct and indirect),
 * fills device-writable buffers, completes chains in any order and decides
 * notifications and interrupts as the virtio spec says a device must. */
#include "unit.h"
#include <string.h>

#include "drivers/virtio_ring.h"
#include "lib/errno.h"

uintptr_t direct_map_offset; /* 0: guest-physical addresses are host pointers */
static long live_allocs;

void *kmalloc(size_t n)
{
    live_allocs++;
    return malloc(n);
}

void *kzalloc(size_t n)
{
    live_allocs++;
    return calloc(1, n);
}

void kfree(const void *p)
{
    if (p)
        live_allocs--;
    free((void *)p);
}

/* ---- the fake device ---- */

struct fake_dev {
    struct virtqueue *vq;
    uint16_t last_avail;     /* next avail entry to take */
    uint16_t pending[65536]; /* heads taken, not yet used */
    unsigned npending;
    uint16_t used_idx;
    unsigned interrupts;
    unsigned chain_lens[65536]; /* descriptors seen per head, for checks */
};

static struct virtq_desc *desc_at(uint64_t addr)
{
    return (struct virtq_desc *)(uintptr_t)addr;
}

/* Walk a chain; write `fill` into writable buffers. Returns bytes written. */
static uint32_t walk_chain(struct fake_dev *d, uint16_t head, uint8_t fill, unsigned *nbufs)
{
    struct virtqueue *vq = d->vq;
    struct virtq_desc *table = vq->desc;
    unsigned max = vq->num, i = head;
    uint32_t written = 0;
    *nbufs = 0;
    if (table[head].flags & VIRTQ_DESC_F_INDIRECT) {
        CHECK(table[head].len % sizeof(struct virtq_desc) == 0);
        max = table[head].len / sizeof(struct virtq_desc);
        table = desc_at(table[head].addr);
        i = 0;
    }
    bool seen_write = false;
    for (unsigned n = 0; n < max; n++) {
        struct virtq_desc *e = &table[i];
        CHECK(!(e->flags & VIRTQ_DESC_F_INDIRECT)); /* no nesting */
        if (e->flags & VIRTQ_DESC_F_WRITE) {
            seen_write = true;
            memset((void *)(uintptr_t)e->addr, fill, e->len);
            written += e->len;
        } else {
            CHECK(!seen_write); /* readable buffers come first */
        }
        (*nbufs)++;
        if (!(e->flags & VIRTQ_DESC_F_NEXT))
            return written;
        i = e->next;
        CHECK(i < max);
    }
    CHECK(!"chain longer than its table");
    return written;
}

/* Take up to n new chains from the available ring. */
static unsigned dev_take(struct fake_dev *d, unsigned n)
{
    struct virtqueue *vq = d->vq;
    unsigned taken = 0;
    while (taken < n && d->last_avail != vq->avail->idx) {
        uint16_t head = vq->avail->ring[d->last_avail & (vq->num - 1)];
        CHECK(head < vq->num);
        d->pending[d->npending++] = head;
        d->last_avail++;
        taken++;
    }
    /* with event index, ask to be notified after the next buffer */
    *virtq_avail_event(vq) = d->last_avail;
    return taken;
}

/* Complete pending chain k (any order). */
static void dev_complete(struct fake_dev *d, unsigned k, uint8_t fill)
{
    struct virtqueue *vq = d->vq;
    uint16_t head = d->pending[k];
    d->pending[k] = d->pending[--d->npending];
    unsigned nbufs;
    uint32_t len = walk_chain(d, head, fill, &nbufs);
    d->chain_lens[head] = nbufs;
    struct virtq_used_elem *e = &vq->used->ring[d->used_idx & (vq->num - 1)];
    e->id = head;
    e->len = len;
    uint16_t old = d->used_idx++;
    vq->used->idx = d->used_idx;
    bool irq = vq->use_event_idx ? virtq_need_event(*virtq_used_event(vq), d->used_idx, old)
                                 : !(vq->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    d->interrupts += irq;
}

static struct virtqueue *make_vq(uint16_t num, bool indirect, bool event_idx, void **mem)
{
    static struct virtqueue vq;
    memset(&vq, 0, sizeof(vq));
    size_t bytes = virtq_ring_bytes(num);
    *mem = aligned_alloc(4096, ALIGN_UP(bytes, 4096));
    memset(*mem, 0, bytes);
    CHECK_EQ(virtq_init(&vq, num, *mem, (uintptr_t)*mem, indirect, event_idx), 0);
    return &vq;
}

static void free_vq(struct virtqueue *vq, void *mem)
{
    virtq_release(vq);
    free(mem);
    CHECK_EQ(live_allocs, 0);
}

UNIT_TEST(virtq_layout)
{
    CHECK_EQ(virtq_ring_bytes(256), 8192 + 4 + 8 * 256 + 2);
    CHECK_EQ(virtq_ring_bytes(8), 4096 + 4 + 64 + 2);
    void *mem;
    struct virtqueue *vq = make_vq(256, false, false, &mem);
    CHECK((uintptr_t)vq->avail - (uintptr_t)vq->desc == 4096);
    CHECK(vq->used_phys % 4096 == 0);
    CHECK_EQ(virtq_num_free(vq), 256);
    free_vq(vq, mem);
    struct virtqueue bad = { 0 };
    CHECK_EQ(virtq_init(&bad, 6, mem, 0, false, false), -EINVAL);
    CHECK_EQ(virtq_init(&bad, 0, mem, 0, false, false), -EINVAL);
}

UNIT_TEST(virtq_direct_chains_fill_and_return)
{
    void *mem;
    struct virtqueue *vq = make_vq(16, false, false, &mem);
    static struct fake_dev d;
    memset(&d, 0, sizeof(d));
    d.vq = vq;
    uint8_t hdr[16], data[5][100], status[5];
    int tokens[5];
    for (int i = 0; i < 5; i++) {
        struct virtq_sg sg[3] = { { (uintptr_t)hdr, 16 }, { (uintptr_t)data[i], 100 }, { (uintptr_t)&status[i], 1 } };
        CHECK_EQ(virtq_add(vq, sg, 1, 2, &tokens[i]), 0);
    }
    CHECK_EQ(virtq_num_free(vq), 1);
    struct virtq_sg one = { (uintptr_t)hdr, 16 };
    struct virtq_sg two[2] = { { (uintptr_t)hdr, 16 }, { (uintptr_t)hdr, 16 } };
    CHECK_EQ(virtq_add(vq, two, 1, 1, &tokens[0]), -ENOSPC);
    CHECK_EQ(virtq_add(vq, &one, 1, 0, NULL), -EINVAL);
    CHECK(virtq_kick_prepare(vq));
    CHECK(!virtq_kick_prepare(vq)); /* nothing new since */
    CHECK_EQ(dev_take(&d, 16), 5);
    for (int i = 0; i < 5; i++)
        dev_complete(&d, 0, (uint8_t)(0x10 + i)); /* completes in a shuffled order */
    uint32_t len;
    int seen = 0;
    void *t;
    while ((t = virtq_get_used(vq, &len))) {
        int i = (int)((int *)t - tokens);
        CHECK(i >= 0 && i < 5);
        CHECK_EQ(len, 101);
        CHECK(data[i][0] == data[i][99] && status[i] == data[i][0]);
        seen |= 1 << i;
    }
    CHECK_EQ(seen, 31);
    CHECK_EQ(virtq_num_free(vq), 16);
    free_vq(vq, mem);
}

UNIT_TEST(virtq_indirect_uses_one_descriptor)
{
    void *mem;
    struct virtqueue *vq = make_vq(8, true, false, &mem);
    static struct fake_dev d;
    memset(&d, 0, sizeof(d));
    d.vq = vq;
    uint8_t bufs[6][64];
    struct virtq_sg sg[6];
    for (int i = 0; i < 6; i++)
        sg[i] = (struct virtq_sg){ (uintptr_t)bufs[i], 64 };
    int tok[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ(virtq_add(vq, sg, 2, 4, &tok[i]), 0); /* 8 chains of 6 in 8 descriptors */
    CHECK_EQ(virtq_num_free(vq), 0);
    CHECK(vq->desc[0].flags & VIRTQ_DESC_F_INDIRECT);
    CHECK_EQ(live_allocs, 1 + 8);
    dev_take(&d, 8);
    while (d.npending)
        dev_complete(&d, d.npending - 1, 0xab);
    uint32_t len;
    for (int i = 0; i < 8; i++) {
        CHECK(virtq_get_used(vq, &len) != NULL);
        CHECK_EQ(len, 4 * 64);
    }
    CHECK(bufs[5][63] == 0xab && bufs[0][0] != 0xab);
    CHECK_EQ(d.chain_lens[0], 6);
    CHECK_EQ(live_allocs, 1); /* indirect tables freed as chains come back */
    free_vq(vq, mem);
}

/* Random chains, random batches, out-of-order completion, through many
 * wraps of the 16-bit indices on a small queue. */
UNIT_TEST(virtq_random_stress_wraps)
{
    for (int mode = 0; mode < 4; mode++) {
        void *mem;
        struct virtqueue *vq = make_vq(8, mode & 1, mode & 2, &mem);
        static struct fake_dev d;
        memset(&d, 0, sizeof(d));
        d.vq = vq;
        static uint8_t buf[8][32];
        static int tokens[70000];
        static unsigned char outstanding[70000];
        unsigned next = 0, returned = 0;
        uint32_t seed = 99 + mode;
        while (returned < 70000) {
            seed = seed * 1103515245u + 12345u;
            unsigned total = 1 + (seed >> 16) % 4, out = (seed >> 20) % (total + 1);
            struct virtq_sg sg[4];
            for (unsigned i = 0; i < total; i++)
                sg[i] = (struct virtq_sg){ (uintptr_t)buf[i], 32 };
            if (next < 70000 && virtq_add(vq, sg, out, total - out, &tokens[next]) == 0)
                outstanding[next++] = 1;
            if ((seed >> 8) % 3 == 0 || next == 70000) {
                dev_take(&d, (seed >> 4) % 8 + 1);
                while (d.npending && (seed >> 12) % 4)
                    dev_complete(&d, (seed >> 3) % d.npending, 1), seed = seed * 69069u + 1;
                if (next == 70000)
                    while (d.npending)
                        dev_complete(&d, 0, 1);
                void *t;
                while ((t = virtq_get_used(vq, NULL))) {
                    unsigned k = (unsigned)((int *)t - tokens);
                    CHECK(k < next && outstanding[k]);
                    outstanding[k] = 0;
                    returned++;
                }
            }
        }
        CHECK_EQ(virtq_num_free(vq), 8);
        CHECK(!vq->broken);
        free_vq(vq, mem);
    }
}

UNIT_TEST(virtq_kick_follows_event_index_and_no_notify)
{
    void *mem;
    uint8_t b[4];
    struct virtq_sg sg = { (uintptr_t)b, 4 };
    int tok;
    /* without event index: NO_NOTIFY stops kicks */
    struct virtqueue *vq = make_vq(8, false, false, &mem);
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0);
    vq->used->flags = VIRTQ_USED_F_NO_NOTIFY;
    CHECK(!virtq_kick_prepare(vq));
    vq->used->flags = 0;
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0);
    CHECK(virtq_kick_prepare(vq));
    free_vq(vq, mem);
    /* with event index: a kick only when avail->idx passes avail_event */
    vq = make_vq(8, false, true, &mem);
    *virtq_avail_event(vq) = 2; /* "tell me once entry 2 is there" */
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0); /* idx 0 -> 1 */
    CHECK(!virtq_kick_prepare(vq));
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0); /* 1 -> 2 */
    CHECK(!virtq_kick_prepare(vq));
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0); /* 2 -> 3: passes 2 */
    CHECK(virtq_kick_prepare(vq));
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0);
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0);
    *virtq_avail_event(vq) = 3; /* batched adds 3 -> 5 cross it */
    CHECK(virtq_kick_prepare(vq));
    free_vq(vq, mem);
    CHECK(virtq_need_event(0xffff, 0, 0xffff));  /* across the wrap */
    CHECK(!virtq_need_event(5, 5, 4));
}

UNIT_TEST(virtq_interrupt_suppression)
{
    for (int ev = 0; ev < 2; ev++) {
        void *mem;
        struct virtqueue *vq = make_vq(8, false, ev, &mem);
        static struct fake_dev d;
        memset(&d, 0, sizeof(d));
        d.vq = vq;
        uint8_t b[4];
        struct virtq_sg sg = { (uintptr_t)b, 4 };
        int tok[8];
        for (int i = 0; i < 6; i++)
            CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok[i]), 0);
        dev_take(&d, 8);
        CHECK(virtq_enable_cb(vq)); /* nothing used yet */
        dev_complete(&d, 0, 1);
        CHECK_EQ(d.interrupts, 1);
        virtq_disable_cb(vq);
        dev_complete(&d, 0, 1);
        dev_complete(&d, 0, 1);
        CHECK_EQ(d.interrupts, 1); /* suppressed */
        CHECK(!virtq_enable_cb(vq)); /* used buffers are waiting: collect them */
        while (virtq_get_used(vq, NULL))
            ;
        CHECK(virtq_enable_cb(vq));
        dev_complete(&d, 0, 1);
        CHECK_EQ(d.interrupts, 2);
        while (virtq_get_used(vq, NULL))
            ;
        if (ev) { /* delayed: 2 outstanding, interrupt after about 3/4 of them */
            CHECK(virtq_enable_cb_delayed(vq));
            dev_complete(&d, 0, 1);
            CHECK_EQ(d.interrupts, 2);
            dev_complete(&d, 0, 1);
            CHECK_EQ(d.interrupts, 3);
        }
        while (d.npending)
            dev_complete(&d, 0, 1);
        while (virtq_get_used(vq, NULL))
            ;
        CHECK_EQ(virtq_num_free(vq), 8);
        free_vq(vq, mem);
    }
}

UNIT_TEST(virtq_bad_device_answer_stops_the_queue)
{
    void *mem;
    struct virtqueue *vq = make_vq(8, false, false, &mem);
    uint8_t b[4];
    struct virtq_sg sg = { (uintptr_t)b, 4 };
    int tok;
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), 0);
    vq->used->ring[0].id = 5; /* never handed out */
    vq->used->idx = 1;
    CHECK(virtq_get_used(vq, NULL) == NULL);
    CHECK(vq->broken);
    CHECK_EQ(virtq_add(vq, &sg, 0, 1, &tok), -EINVAL);
    vq->used->ring[0].id = 200; /* out of range */
    CHECK(virtq_get_used(vq, NULL) == NULL);
    free_vq(vq, mem);
}
