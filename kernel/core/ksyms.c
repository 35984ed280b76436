/* Symbol lookup over the table scripts/gen-ksyms generates (sorted addresses,
 * name offsets, packed names). */
#include "core/ksyms.h"

extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_offsets[];
extern const char ksyms_names[];
extern char __text_start[], __text_end[];

const char *ksyms_lookup(uint64_t addr, uint64_t *offset)
{
    if (addr < (uint64_t)__text_start || addr >= (uint64_t)__text_end || ksyms_count == 0)
        return NULL;
    uint64_t lo = 0, hi = ksyms_count; /* find the last symbol <= addr */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_addrs[lo] > addr)
        return NULL;
    *offset = addr - ksyms_addrs[lo];
    return ksyms_names + ksyms_offsets[lo];
}
