/* kmalloc: small objects from size-class slabs with per-CPU caches, larger ones
 * straight from the page allocator. Every pointer is 16-byte aligned. */
#pragma once

#include "lib/types.h"

#define KMALLOC_MAX_SMALL 2048
#define KMALLOC_NCLASSES 13
#define KMALLOC_MAGAZINE 16

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *kcalloc(size_t n, size_t size); /* NULL on overflow */
void kfree(const void *p);
size_t kmalloc_usable_size(const void *p);

/* A CPU's private cache of free objects, one small stack per size class. */
struct kmalloc_cpu_cache {
    struct {
        unsigned count;
        void *obj[KMALLOC_MAGAZINE];
    } mag[KMALLOC_NCLASSES];
};

void kmalloc_init(void);
/* From now on allocations on `cpu` go through `cache` (zeroed by the caller). */
void kmalloc_cpu_attach(unsigned cpu, struct kmalloc_cpu_cache *cache);
/* Return every object cached by `cpu` to the slabs (tests, CPU going away). */
void kmalloc_cpu_drain(unsigned cpu);

struct kmalloc_class_stats {
    uint32_t size;
    uint64_t slabs;       /* slab pages owned by the class */
    uint64_t objects_used; /* handed out, including those in CPU caches */
};
void kmalloc_get_stats(struct kmalloc_class_stats out[KMALLOC_NCLASSES], uint64_t *large_pages);
