/* TLB shootdown: the sender publishes what to flush, interrupts every other
 * online CPU and waits until each has flushed. Senders take turns (a mutex),
 * and wait with interrupts enabled so two CPUs never wait for each other. */
#include "arch/tlb.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/mutex.h"

#define TLB_WARN_NS (500ull * 1000 * 1000)

static struct mutex tlb_sender = MUTEX_INIT(tlb_sender);
static struct {
    bool all;
    unsigned n;
    uintptr_t va[TLB_BATCH_MAX];
} tlb_req;                      /* written only while tlb_pending is 0 */
static uint64_t tlb_pending;    /* CPUs that have not flushed tlb_req yet */
static struct tlb_stats tlb_counts;

static void tlb_count(uint64_t *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

void tlb_batch_add(struct tlb_batch *b, uintptr_t va)
{
    if (b->all)
        return;
    if (b->n == TLB_BATCH_MAX) {
        b->all = true;
        return;
    }
    b->va[b->n++] = va;
}

void tlb_batch_add_range(struct tlb_batch *b, uintptr_t start, uintptr_t end)
{
    uint64_t pages = (end - start + PAGE_SIZE - 1) / PAGE_SIZE;
    if (b->all || b->n + pages > TLB_BATCH_MAX) {
        b->all = true;
        return;
    }
    for (uintptr_t va = start; va < end; va += PAGE_SIZE)
        b->va[b->n++] = va;
}

static void tlb_flush_local(bool all, unsigned n, const uintptr_t *va)
{
    if (all) {
        write_cr3(read_cr3()); /* application entries are never global */
        return;
    }
    for (unsigned i = 0; i < n; i++)
        invlpg(va[i]);
}

static void tlb_ipi(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    tlb_flush_local(tlb_req.all, tlb_req.n, tlb_req.va);
    tlb_count(&tlb_counts.received);
    __atomic_fetch_and(&tlb_pending, ~(1ull << cpu_current_id()), __ATOMIC_RELEASE);
}

/* Online CPUs other than this one. */
static uint64_t tlb_other_cpus(void)
{
    uint64_t mask = 0;
    unsigned me = cpu_current_id(), n = __atomic_load_n(&cpu_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n && i < MAX_CPUS; i++)
        if (i != me && cpus[i] && READ_ONCE(cpus[i]->arch.online))
            mask |= 1ull << i;
    return mask;
}

static void tlb_send(uint64_t mask)
{
    for (unsigned i = 0; i < MAX_CPUS; i++)
        if (mask & (1ull << i)) {
            lapic_send_ipi(cpus[i]->arch.apic_id, VEC_TLB_SHOOTDOWN);
            tlb_count(&tlb_counts.ipis);
        }
}

/* A CPU that keeps interrupts off (a long spinlock section, a debugger) delays
 * us; say so rather than hang silently, and poke it again. */
static void tlb_wait(void)
{
    uint64_t start = clock_monotonic_ns(), warn_at = TLB_WARN_NS;
    for (unsigned spins = 0;; spins++) {
        uint64_t pending = __atomic_load_n(&tlb_pending, __ATOMIC_ACQUIRE);
        if (!pending)
            return;
        cpu_pause();
        if (spins % 1024)
            continue;
        uint64_t waited = clock_monotonic_ns() - start;
        if (waited >= warn_at) {
            pr_warn("tlb: cpu mask %#lx has not answered a shootdown for %lu ms "
                    "(interrupts disabled there?)\n", pending, waited / 1000000);
            tlb_count(&tlb_counts.slow);
            tlb_send(pending);
            warn_at *= 2;
        }
    }
}

void tlb_batch_flush(struct tlb_batch *b)
{
    if (tlb_batch_empty(b))
        return;
    if (b->all)
        tlb_count(&tlb_counts.full);
    irqflags_t f = irq_save();
    uint64_t others = tlb_other_cpus();
    if (!others) {
        tlb_flush_local(b->all, b->n, b->va);
        irq_restore(f);
        tlb_batch_init(b);
        return;
    }
    irq_restore(f);
    static bool warned;
    if (!irq_enabled() && !warned) {
        warned = true;
        pr_warn("tlb: shootdown requested with interrupts disabled; other CPUs may wait on us\n");
    }
    mutex_lock(&tlb_sender);
    tlb_req.all = b->all;
    tlb_req.n = b->n;
    for (unsigned i = 0; i < b->n; i++)
        tlb_req.va[i] = b->va[i];
    /* No migration between choosing the targets and flushing here. */
    f = irq_save();
    others = tlb_other_cpus();
    __atomic_store_n(&tlb_pending, others, __ATOMIC_SEQ_CST);
    tlb_send(others);
    tlb_flush_local(b->all, b->n, b->va);
    irq_restore(f);
    tlb_count(&tlb_counts.shootdowns);
    tlb_wait();
    mutex_unlock(&tlb_sender);
    tlb_batch_init(b);
}

void tlb_flush_page(uintptr_t va)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add(&b, va);
    tlb_batch_flush(&b);
}

void tlb_flush_range(uintptr_t start, uintptr_t end)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add_range(&b, start, end);
    tlb_batch_flush(&b);
}

void tlb_flush_all_user(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    b.all = true;
    tlb_batch_flush(&b);
}

void tlb_init(void)
{
    trap_set_irq_handler(VEC_TLB_SHOOTDOWN, tlb_ipi, NULL);
}

void tlb_get_stats(struct tlb_stats *s)
{
    s->shootdowns = __atomic_load_n(&tlb_counts.shootdowns, __ATOMIC_RELAXED);
    s->ipis = __atomic_load_n(&tlb_counts.ipis, __ATOMIC_RELAXED);
    s->full = __atomic_load_n(&tlb_counts.full, __ATOMIC_RELAXED);
    s->received = __atomic_load_n(&tlb_counts.received, __ATOMIC_RELAXED);
    s->slow = __atomic_load_n(&tlb_counts.slow, __ATOMIC_RELAXED);
}
