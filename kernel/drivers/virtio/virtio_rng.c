/* virtio-rng (entropy device, section 5.4): one queue of device-writable
 * buffers the host fills with random bytes. Every byte read is mixed into
 * the kernel's pool; 64 bytes are read at probe so the pool is seeded from
 * the host before the application starts. */
#include "drivers/virtio_rng.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/waitq.h"
#include "drivers/virtio.h"
#include "fs/random.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define RNG_BUF_SIZE 256
#define RNG_BOOT_BYTES 64
#define RNG_BOOT_TIMEOUT_NS 2000000000ull

struct virtio_rng {
    struct virtio_device *vdev;
    struct virtqueue *vq;
    struct mutex lock;    /* one request at a time */
    struct waitq wq;
    uint8_t *buf;         /* kmalloc: physically contiguous */
    volatile bool done, in_flight;
    volatile uint32_t got;
};

static struct virtio_rng *rng_dev; /* the first device; others are ignored */

bool virtio_rng_present(void)
{
    return rng_dev != NULL;
}

static void rng_callback(struct virtqueue *vq)
{
    struct virtio_rng *r = vq->priv;
    irqflags_t f = spin_lock(&vq->lock);
    uint32_t len;
    while (virtq_get_used(vq, &len)) {
        r->got = MIN(len, (uint32_t)RNG_BUF_SIZE);
        r->done = true;
        r->in_flight = false;
    }
    spin_unlock(&vq->lock, f);
    waitq_wake_all(&r->wq);
}

/* One request for `len` bytes; returns the bytes the device wrote. After a
 * timeout the request stays with the device, and so does the buffer: no
 * new request is made until it comes back. */
static ssize_t rng_request(struct virtio_rng *r, size_t len, uint64_t timeout_ns)
{
    struct virtq_sg sg = { virtio_dma_addr(r->buf), (uint32_t)MIN(len, (size_t)RNG_BUF_SIZE) };
    irqflags_t f = spin_lock(&r->vq->lock);
    int err = r->in_flight ? -EBUSY : virtq_add(r->vq, &sg, 0, 1, r);
    if (!err) {
        r->done = false;
        r->in_flight = true;
        virtqueue_kick(r->vq);
    }
    spin_unlock(&r->vq->lock, f);
    if (err)
        return err;
    uint64_t deadline = clock_monotonic_ns() + timeout_ns;
    struct wait_entry e = { 0 };
    int rc = 0;
    for (;;) {
        waitq_prepare(&r->wq, &e);
        if (r->done || rc == -ETIMEDOUT)
            break;
        rc = waitq_sleep(&e, deadline);
    }
    waitq_finish(&r->wq, &e);
    if (!r->done)
        return -ETIMEDOUT;
    random_add_entropy(r->buf, r->got);
    return r->got;
}

ssize_t virtio_rng_read(void *buf, size_t len, uint64_t timeout_ns)
{
    struct virtio_rng *r = rng_dev;
    if (!r)
        return -ENODEV;
    mutex_lock(&r->lock);
    ssize_t n = rng_request(r, len, timeout_ns);
    if (n > 0 && buf)
        memcpy(buf, r->buf, (size_t)n);
    memset(r->buf, 0, RNG_BUF_SIZE); /* what went to the caller or the pool stays nowhere else */
    mutex_unlock(&r->lock);
    return n;
}

int virtio_rng_reseed(size_t len)
{
    ssize_t n = virtio_rng_read(NULL, len, RNG_BOOT_TIMEOUT_NS);
    return n < 0 ? (int)n : 0;
}

static int rng_probe(struct virtio_device *vdev)
{
    struct virtio_rng *r = kzalloc(sizeof(*r));
    uint8_t *buf = kzalloc(RNG_BUF_SIZE);
    if (!r || !buf) {
        kfree(r);
        kfree(buf);
        return -ENOMEM;
    }
    r->vdev = vdev;
    r->buf = buf;
    mutex_init(&r->lock);
    waitq_init(&r->wq);
    struct virtio_vq_info info = { .callback = rng_callback, .name = "requestq", .max_size = 8 };
    int err = virtio_find_vqs(vdev, 1, &info, &r->vq);
    if (err) {
        kfree(buf);
        kfree(r);
        return err;
    }
    r->vq->priv = r;
    vdev->priv = r;
    virtio_device_ready(vdev);
    if (rng_dev) {
        pr_info("virtio-rng: %s: another entropy device; only the first is used\n", vdev->name);
        return 0;
    }
    rng_dev = r;
    mutex_lock(&r->lock);
    ssize_t n = rng_request(r, RNG_BOOT_BYTES, RNG_BOOT_TIMEOUT_NS);
    memset(r->buf, 0, RNG_BUF_SIZE);
    mutex_unlock(&r->lock);
    if (n < 0)
        pr_warn("virtio-rng: %s: no answer to the first request: %s\n", vdev->name, errno_name((int)n));
    else
        pr_info("virtio-rng: %s: %ld bytes of host entropy mixed into the random pool\n", vdev->name, n);
    return 0;
}

const struct virtio_driver virtio_rng_driver = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 0,
    .probe = rng_probe,
};
