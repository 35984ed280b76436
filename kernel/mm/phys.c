/* Zones and the page allocator front end. Zones are tried from the highest
 * address down, which keeps low memory for whatever may need it later. */
#include "mm/phys.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/string.h"

uintptr_t direct_map_offset;

static struct buddy_zone phys_zones[PHYS_MAX_ZONES];
static unsigned phys_nzones;

struct buddy_zone *phys_add_zone(uint64_t base_pfn, uint64_t npages, struct page *pages)
{
    if (phys_nzones == PHYS_MAX_ZONES) {
        pr_warn("mm: more than %d RAM ranges; ignoring frames %#lx-%#lx\n", PHYS_MAX_ZONES,
                base_pfn, base_pfn + npages - 1);
        return NULL;
    }
    /* Zones arrive in address order (the memory map is sorted); lookups rely on it
     * and a zone's free lists point into its slot, so slots never move. */
    if (phys_nzones) {
        const struct buddy_zone *last = &phys_zones[phys_nzones - 1];
        if (base_pfn < last->base_pfn + last->npages)
            panic("mm: zone at frame %#lx added out of order", base_pfn);
    }
    struct buddy_zone *z = &phys_zones[phys_nzones++];
    buddy_zone_init(z, base_pfn, npages, pages);
    return z;
}

static struct buddy_zone *phys_zone_of_pfn(uint64_t pfn)
{
    for (unsigned i = 0; i < phys_nzones; i++)
        if (buddy_zone_has_pfn(&phys_zones[i], pfn))
            return &phys_zones[i];
    return NULL;
}

void phys_release_range(uint64_t start, uint64_t end)
{
    for (uint64_t pfn = start >> 12; pfn < end >> 12;) {
        struct buddy_zone *z = phys_zone_of_pfn(pfn);
        if (!z) {
            pfn++;
            continue;
        }
        uint64_t zone_end = z->base_pfn + z->npages;
        uint64_t stop = MIN(zone_end, end >> 12);
        buddy_release_range(z, pfn, stop - pfn);
        pfn = stop;
    }
}

struct page *page_alloc(unsigned order)
{
    for (unsigned i = phys_nzones; i-- > 0;) {
        struct page *p = buddy_alloc(&phys_zones[i], order);
        if (p)
            return p;
    }
    return NULL;
}

void page_free(struct page *p, unsigned order)
{
    for (unsigned i = 0; i < phys_nzones; i++) {
        struct buddy_zone *z = &phys_zones[i];
        if (p >= z->pages && p < z->pages + z->npages) {
            buddy_free(z, p, order);
            return;
        }
    }
    panic("page_free: %p is not a struct page of any zone", (void *)p);
}

struct page *page_alloc_counted(void)
{
    struct page *p = page_alloc(0);
    if (p) {
        p->flags |= PAGE_FLAG_COUNTED;
        p->refs = 1;
        p->map_count = 0;
    }
    return p;
}

void page_ref_get(struct page *p)
{
    BUG_ON(!(p->flags & PAGE_FLAG_COUNTED));
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void page_ref_put(struct page *p)
{
    BUG_ON(!(p->flags & PAGE_FLAG_COUNTED) || p->refs == 0);
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        p->flags &= ~PAGE_FLAG_COUNTED;
        p->slab_free = NULL;
        page_free(p, 0);
    }
}

void *page_alloc_zeroed(unsigned order)
{
    struct page *p = page_alloc(order);
    if (!p)
        return NULL;
    void *v = page_to_virt(p);
    memset(v, 0, 4096ul << order);
    return v;
}

void page_free_virt(void *virt, unsigned order)
{
    struct page *p = virt_to_page(virt);
    if (!p)
        panic("page_free_virt: %p is not in the direct map of managed RAM", virt);
    page_free(p, order);
}

struct page *pfn_to_page(uint64_t pfn)
{
    struct buddy_zone *z = phys_zone_of_pfn(pfn);
    return z ? &z->pages[pfn - z->base_pfn] : NULL;
}

uint64_t page_to_pfn(const struct page *p)
{
    for (unsigned i = 0; i < phys_nzones; i++) {
        const struct buddy_zone *z = &phys_zones[i];
        if (p >= z->pages && p < z->pages + z->npages)
            return buddy_page_pfn(z, p);
    }
    panic("page_to_pfn: %p is not a struct page of any zone", (const void *)p);
}

void phys_get_stats(struct phys_stats *s)
{
    s->total_pages = s->free_pages = 0;
    for (unsigned i = 0; i < phys_nzones; i++) {
        s->total_pages += phys_zones[i].npages;
        s->free_pages += READ_ONCE(phys_zones[i].free_pages);
    }
}

unsigned phys_zone_count(void) { return phys_nzones; }
struct buddy_zone *phys_zone(unsigned i) { return i < phys_nzones ? &phys_zones[i] : NULL; }
