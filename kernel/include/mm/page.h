/* struct page: one per physical page frame of RAM, kept outside the page itself
 * so allocators can inspect a frame without touching its memory. */
#pragma once

#include "lib/list.h"
#include "lib/types.h"

#define PAGE_FLAG_FREE 0x1     /* head of a free buddy block */
#define PAGE_FLAG_SLAB 0x2     /* holds kmalloc objects */
#define PAGE_FLAG_LARGE 0x4    /* head of a large kmalloc allocation */
#define PAGE_FLAG_COUNTED 0x8  /* owned through `refs` (file data, mapped pages) */
#define PAGE_FLAG_ANON 0x10    /* counted page of anonymous memory (mm/vm): never a file's */
#define PAGE_FLAG_DIRTY 0x20   /* written through a shared mapping; the page cache writes it back */

struct kmalloc_class;

struct page {
    struct list_node link; /* buddy free list, or a slab class's partial list */
    uint32_t flags;
    uint8_t order;         /* order of the free block or of the allocation */
    uint8_t slab_class;
    uint16_t slab_inuse;   /* objects handed out from this slab page */
    union {
        void *slab_free;   /* slab page: first free object */
        struct {
            uint32_t refs;      /* counted page: owners (file, mappings, users) */
            uint32_t map_count; /* counted page: user page-table entries mapping it */
        };
    };
};

_Static_assert(sizeof(struct page) == 32, "struct page should stay 32 bytes");
