/* Kernel stacks with guard pages. Each stack gets fresh virtual addresses that
 * are never reused, so freeing needs no cross-CPU TLB shootdown: no CPU will
 * touch a dead stack's addresses again, whatever its TLB still holds. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "core/log.h"
#include "mm/phys.h"

#define GUARD_SIZE PAGE_SIZE

extern void arch_thread_trampoline(void);

uintptr_t kstack_alloc(size_t size)
{
    size = ALIGN_UP(size, (size_t)PAGE_SIZE);
    uintptr_t base = paging_reserve_kvirt(GUARD_SIZE + size);
    if (!base)
        return 0;
    uintptr_t va = base + GUARD_SIZE;
    for (size_t off = 0; off < size; off += PAGE_SIZE) {
        struct page *p = page_alloc(0);
        if (!p || paging_map(va + off, page_to_phys(p), PAGE_SIZE, MAP_WRITE | MAP_NO_LARGE) != 0) {
            if (p)
                page_free(p, 0);
            kstack_free(va + off, off); /* what was mapped so far */
            return 0;
        }
    }
    return va + size;
}

void kstack_free(uintptr_t top, size_t size)
{
    size = ALIGN_UP(size, (size_t)PAGE_SIZE);
    for (uintptr_t va = top - size; va < top; va += PAGE_SIZE) {
        uint64_t pa = paging_translate(va);
        paging_unmap(va, PAGE_SIZE);
        if (pa != (uint64_t)-1)
            page_free(pfn_to_page(pa >> PAGE_SHIFT), 0);
    }
}

bool kstack_is_guard(uintptr_t addr)
{
    return addr >= KVIRT_BASE && addr < KVIRT_BASE + KVIRT_SIZE && paging_translate(addr) == (uint64_t)-1 &&
           paging_translate(ALIGN_DOWN(addr, (uintptr_t)PAGE_SIZE) + PAGE_SIZE) != (uint64_t)-1;
}

uint64_t arch_thread_stack_init(uintptr_t stack_top, void (*fn)(void *), void *arg)
{
    uint64_t *sp = (uint64_t *)(ALIGN_DOWN(stack_top, 16) - 16);
    *sp = (uint64_t)arch_thread_trampoline; /* `ret` target, 16-byte aligned slot */
    *--sp = 0;                              /* rbp */
    *--sp = 0;                              /* rbx */
    *--sp = (uint64_t)fn;                   /* r12 */
    *--sp = (uint64_t)arg;                  /* r13 */
    *--sp = 0;                              /* r14 */
    *--sp = 0;                              /* r15 */
    return (uint64_t)sp;
}

void arch_set_kernel_stack(uintptr_t top)
{
    struct arch_cpu *c = arch_this_cpu();
    c->tss.rsp[0] = top;
    c->kernel_rsp = top;
}
