/* Slab allocator behind kmalloc. A slab is one page of same-sized objects; its
 * free objects are chained through their first word and described by the page's
 * struct page. Each CPU keeps a magazine of free objects per class so the common
 * path takes no lock; magazines refill and spill in batches. */
#include "mm/kmalloc.h"
#include "arch/percpu.h"
#include "arch/spinlock.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/bitops.h"
#include "lib/string.h"
#include "mm/phys.h"

#define SLAB_BYTES 4096u

struct kmalloc_class {
    uint32_t size;
    uint32_t per_slab;
    spinlock_t lock;
    struct list_node partial; /* slabs with at least one free object */
    struct page *spare;       /* one empty slab kept to damp alloc/free churn */
    uint64_t slabs, used;
};

static const uint32_t kmalloc_sizes[KMALLOC_NCLASSES] = {
    16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048,
};

static struct kmalloc_class kmalloc_classes[KMALLOC_NCLASSES];
static struct kmalloc_cpu_cache *kmalloc_cpu[MAX_CPUS];
static uint64_t kmalloc_large_pages;

void kmalloc_init(void)
{
    for (unsigned i = 0; i < KMALLOC_NCLASSES; i++) {
        struct kmalloc_class *c = &kmalloc_classes[i];
        c->size = kmalloc_sizes[i];
        c->per_slab = SLAB_BYTES / c->size;
        spin_init(&c->lock);
        list_init(&c->partial);
        c->spare = NULL;
        c->slabs = c->used = 0;
    }
}

static unsigned kmalloc_class_index(size_t size)
{
    unsigned i = 0;
    while (kmalloc_sizes[i] < size)
        i++;
    return i;
}

/* A fresh slab page with every object on its free chain. */
static struct page *slab_create(struct kmalloc_class *c, unsigned index)
{
    struct page *p = page_alloc(0);
    if (!p)
        return NULL;
    char *base = page_to_virt(p);
    for (uint32_t i = 0; i < c->per_slab; i++)
        *(void **)(base + i * c->size) = i + 1 < c->per_slab ? base + (i + 1) * c->size : NULL;
    p->flags = PAGE_FLAG_SLAB;
    p->slab_class = (uint8_t)index;
    p->slab_inuse = 0;
    p->slab_free = base;
    c->slabs++;
    return p;
}

/* Take up to `want` objects from the class into out[]; class lock held. */
static unsigned class_take_locked(struct kmalloc_class *c, unsigned index, void **out, unsigned want)
{
    unsigned got = 0;
    while (got < want) {
        struct page *p;
        if (!list_empty(&c->partial)) {
            p = list_entry(c->partial.next, struct page, link);
        } else {
            p = c->spare ? c->spare : slab_create(c, index);
            c->spare = NULL;
            if (!p)
                break;
            list_add_head(&c->partial, &p->link);
        }
        while (got < want && p->slab_free) {
            void *obj = p->slab_free;
            p->slab_free = *(void **)obj;
            p->slab_inuse++;
            out[got++] = obj;
        }
        if (!p->slab_free)
            list_remove(&p->link); /* full slabs live on no list */
    }
    c->used += got;
    return got;
}

/* Give an object back to its slab; class lock held. */
static void class_put_locked(struct kmalloc_class *c, void *obj)
{
    struct page *p = virt_to_page(obj);
    if (!p->slab_free)
        list_add_head(&c->partial, &p->link);
    *(void **)obj = p->slab_free;
    p->slab_free = obj;
    p->slab_inuse--;
    c->used--;
    if (p->slab_inuse == 0) {
        list_remove(&p->link);
        if (!c->spare) {
            c->spare = p;
        } else {
            c->slabs--;
            p->flags = 0;
            page_free(p, 0);
        }
    }
}

static void *kmalloc_small(unsigned index)
{
    struct kmalloc_class *c = &kmalloc_classes[index];
    irqflags_t f = irq_save();
    struct kmalloc_cpu_cache *cache = kmalloc_cpu[cpu_current_id()];
    void *obj = NULL;
    if (cache) {
        typeof(cache->mag[0]) *m = &cache->mag[index];
        if (m->count == 0) {
            spin_lock_raw(&c->lock);
            m->count = class_take_locked(c, index, m->obj, KMALLOC_MAGAZINE / 2);
            spin_unlock_raw(&c->lock);
        }
        if (m->count)
            obj = m->obj[--m->count];
    } else {
        spin_lock_raw(&c->lock);
        class_take_locked(c, index, &obj, 1);
        spin_unlock_raw(&c->lock);
    }
    irq_restore(f);
    return obj;
}

static void kfree_small(unsigned index, void *obj)
{
    struct kmalloc_class *c = &kmalloc_classes[index];
    irqflags_t f = irq_save();
    struct kmalloc_cpu_cache *cache = kmalloc_cpu[cpu_current_id()];
    if (cache) {
        typeof(cache->mag[0]) *m = &cache->mag[index];
        if (m->count == KMALLOC_MAGAZINE) {
            /* spill the older half back to the slabs */
            spin_lock_raw(&c->lock);
            for (unsigned i = 0; i < KMALLOC_MAGAZINE / 2; i++)
                class_put_locked(c, m->obj[i]);
            spin_unlock_raw(&c->lock);
            memmove(m->obj, m->obj + KMALLOC_MAGAZINE / 2, sizeof(void *) * (KMALLOC_MAGAZINE / 2));
            m->count = KMALLOC_MAGAZINE / 2;
        }
        m->obj[m->count++] = obj;
    } else {
        spin_lock_raw(&c->lock);
        class_put_locked(c, obj);
        spin_unlock_raw(&c->lock);
    }
    irq_restore(f);
}

void *kmalloc(size_t size)
{
    if (size <= KMALLOC_MAX_SMALL)
        return kmalloc_small(kmalloc_class_index(size ? size : 1));
    uint64_t pages = DIV_ROUND_UP(size, 4096u);
    unsigned order = order_for_count(pages);
    if (order > BUDDY_MAX_ORDER)
        return NULL;
    struct page *p = page_alloc(order);
    if (!p)
        return NULL;
    p->flags = PAGE_FLAG_LARGE;
    __atomic_fetch_add(&kmalloc_large_pages, 1ull << order, __ATOMIC_RELAXED);
    return page_to_virt(p);
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *kcalloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    return kzalloc(total);
}

/* The struct page of a kmalloc pointer, after checking the pointer is one. */
static struct page *kmalloc_page_of(const void *ptr, unsigned *index)
{
    struct page *p = virt_to_page(ptr);
    uintptr_t offset = (uintptr_t)ptr & (SLAB_BYTES - 1);
    if (p && (p->flags & PAGE_FLAG_SLAB)) {
        *index = p->slab_class;
        const struct kmalloc_class *c = &kmalloc_classes[*index];
        if (offset % c->size == 0 && offset / c->size < c->per_slab)
            return p;
    } else if (p && (p->flags & PAGE_FLAG_LARGE) && offset == 0) {
        *index = KMALLOC_NCLASSES;
        return p;
    }
    panic("kfree/ksize: %p was not returned by kmalloc", ptr);
}

void kfree(const void *ptr)
{
    if (!ptr)
        return;
    unsigned index;
    struct page *p = kmalloc_page_of(ptr, &index);
    if (index < KMALLOC_NCLASSES) {
        kfree_small(index, (void *)ptr);
        return;
    }
    unsigned order = p->order;
    p->flags = 0;
    __atomic_fetch_sub(&kmalloc_large_pages, 1ull << order, __ATOMIC_RELAXED);
    page_free(p, order);
}

size_t kmalloc_usable_size(const void *ptr)
{
    unsigned index;
    struct page *p = kmalloc_page_of(ptr, &index);
    return index < KMALLOC_NCLASSES ? kmalloc_sizes[index] : 4096ul << p->order;
}

void kmalloc_cpu_attach(unsigned cpu, struct kmalloc_cpu_cache *cache)
{
    BUG_ON(cpu >= MAX_CPUS);
    kmalloc_cpu[cpu] = cache;
}

void kmalloc_cpu_drain(unsigned cpu)
{
    struct kmalloc_cpu_cache *cache = kmalloc_cpu[cpu];
    if (!cache)
        return;
    for (unsigned i = 0; i < KMALLOC_NCLASSES; i++) {
        struct kmalloc_class *c = &kmalloc_classes[i];
        irqflags_t f = spin_lock(&c->lock);
        while (cache->mag[i].count)
            class_put_locked(c, cache->mag[i].obj[--cache->mag[i].count]);
        spin_unlock(&c->lock, f);
    }
}

void kmalloc_get_stats(struct kmalloc_class_stats out[KMALLOC_NCLASSES], uint64_t *large_pages)
{
    for (unsigned i = 0; i < KMALLOC_NCLASSES; i++) {
        struct kmalloc_class *c = &kmalloc_classes[i];
        irqflags_t f = spin_lock(&c->lock);
        out[i] = (struct kmalloc_class_stats){ c->size, c->slabs, c->used };
        spin_unlock(&c->lock, f);
    }
    *large_pages = READ_ONCE(kmalloc_large_pages);
}
