/* Frame-pointer walk. Each frame is [saved rbp][return address]; every frame
 * is checked to be mapped kernel memory above the previous one, so a corrupt
 * chain ends the walk instead of faulting inside the panic path. */
#include "arch/backtrace.h"
#include "arch/layout.h"
#include "arch/paging.h"

#define KERNEL_HALF 0xffff800000000000ull
#define MAX_FRAME_GAP 0x10000ull

static bool frame_readable(uint64_t rbp)
{
    if (rbp < KERNEL_HALF || (rbp & 7))
        return false;
    return paging_translate(rbp) != (uint64_t)-1 && paging_translate(rbp + 15) != (uint64_t)-1;
}

unsigned arch_backtrace(uint64_t rbp, void (*fn)(uint64_t pc, void *ctx), void *ctx, unsigned max)
{
    unsigned n = 0;
    while (n < max && frame_readable(rbp)) {
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t next = frame[0], ret = frame[1];
        if (!ret)
            break;
        fn(ret, ctx);
        n++;
        if (next <= rbp || next - rbp > MAX_FRAME_GAP)
            break;
        rbp = next;
    }
    return n;
}
