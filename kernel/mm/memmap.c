/* Boot-time physical range bookkeeping (pure logic, unit tested on the host). */
#include "mm/memmap.h"
#include "arch/layout.h"
#include "lib/errno.h"

static int memmap_insert(struct memmap *m, unsigned at, uint64_t start, uint64_t end)
{
    if (m->n == MEMMAP_MAX_RANGES)
        return -ENOSPC;
    for (unsigned i = m->n; i > at; i--)
        m->r[i] = m->r[i - 1];
    m->r[at] = (struct mem_range){ start, end };
    m->n++;
    return 0;
}

static void memmap_delete(struct memmap *m, unsigned at)
{
    for (unsigned i = at; i + 1 < m->n; i++)
        m->r[i] = m->r[i + 1];
    m->n--;
}

/* Add [start, end) keeping the set sorted and merging touching ranges. */
static int memmap_add(struct memmap *m, uint64_t start, uint64_t end)
{
    unsigned i = 0;
    while (i < m->n && m->r[i].end < start)
        i++;
    if (i < m->n && m->r[i].start <= end) {
        /* overlaps or touches r[i]: grow it, then absorb followers */
        if (start < m->r[i].start)
            m->r[i].start = start;
        if (end > m->r[i].end)
            m->r[i].end = end;
        while (i + 1 < m->n && m->r[i + 1].start <= m->r[i].end) {
            if (m->r[i + 1].end > m->r[i].end)
                m->r[i].end = m->r[i + 1].end;
            memmap_delete(m, i + 1);
        }
        return 0;
    }
    return memmap_insert(m, i, start, end);
}

int memmap_remove(struct memmap *m, uint64_t start, uint64_t end)
{
    start = ALIGN_DOWN(start, (uint64_t)PAGE_SIZE);
    end = end > UINT64_MAX - PAGE_SIZE ? ALIGN_DOWN(UINT64_MAX, (uint64_t)PAGE_SIZE)
                                       : ALIGN_UP(end, (uint64_t)PAGE_SIZE);
    for (unsigned i = 0; i < m->n && start < end; i++) {
        struct mem_range *r = &m->r[i];
        if (r->end <= start || r->start >= end)
            continue;
        if (r->start >= start && r->end <= end) { /* swallowed */
            memmap_delete(m, i);
            i--;
        } else if (r->start < start && r->end > end) { /* split in two */
            uint64_t tail_end = r->end;
            r->end = start;
            return memmap_insert(m, i + 1, end, tail_end);
        } else if (r->start < start) {
            r->end = start;
        } else {
            r->start = end;
        }
    }
    return 0;
}

int memmap_build_usable(struct memmap *out, const struct boot_mem_range *in, unsigned count)
{
    out->n = 0;
    for (unsigned i = 0; i < count; i++) {
        if (in[i].type != BOOT_MEM_USABLE || in[i].size == 0)
            continue;
        uint64_t end = in[i].base + in[i].size;
        if (end < in[i].base) /* wraps: clamp */
            end = UINT64_MAX;
        uint64_t s = ALIGN_UP(in[i].base, (uint64_t)PAGE_SIZE);
        uint64_t e = ALIGN_DOWN(end, (uint64_t)PAGE_SIZE);
        if (s < e && s >= in[i].base) {
            int err = memmap_add(out, s, e);
            if (err)
                return err;
        }
    }
    /* Anything the firmware also calls reserved is not ours, whatever the order. */
    for (unsigned i = 0; i < count; i++) {
        if (in[i].type == BOOT_MEM_USABLE || in[i].size == 0)
            continue;
        uint64_t end = in[i].base + in[i].size;
        int err = memmap_remove(out, in[i].base, end < in[i].base ? UINT64_MAX : end);
        if (err)
            return err;
    }
    return 0;
}

uint64_t memmap_alloc(struct memmap *m, uint64_t size, uint64_t align, uint64_t limit)
{
    size = ALIGN_UP(size, (uint64_t)PAGE_SIZE);
    for (unsigned i = 0; i < m->n; i++) {
        uint64_t s = ALIGN_UP(m->r[i].start, align);
        if (s < m->r[i].start || s >= m->r[i].end || m->r[i].end - s < size)
            continue;
        if (s + size > limit)
            break; /* ranges are sorted: nothing later fits under the limit */
        if (s == 0)
            continue;
        if (memmap_remove(m, s, s + size) != 0)
            return 0;
        return s;
    }
    return 0;
}

uint64_t memmap_total(const struct memmap *m)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < m->n; i++)
        total += m->r[i].end - m->r[i].start;
    return total;
}
