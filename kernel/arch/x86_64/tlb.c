/* TLB shootdown: the sender publishes what to do (flush addresses, flush
 * everything, or call a function), interrupts the CPUs that run the address
 * space and waits until each has done it. CPUs holding the space only lazily
 * are marked stale instead and flush everything when they run it again (as
 * Linux's lazy TLB mode); they are interrupted too when page-table pages are
 * freed. Senders take turns (a mutex), which also orders the stale marks, and
 * wait with interrupts enabled so two CPUs never wait for each other. */
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

/* One request: a flush, or fn(arg) when fn is set. */
struct tlb_work {
    bool all;
    bool freed_tables;
    unsigned n;
    uintptr_t va[TLB_BATCH_MAX];
    void (*fn)(void *arg);
    void *arg;
    struct tlb_space *space; /* whose stale bits the targets clear once flushed */
    uint64_t full_for;       /* targets that were stale before: they flush everything */
};

static struct mutex tlb_sender = MUTEX_INIT(tlb_sender);
static struct tlb_work tlb_req; /* written only while tlb_pending is 0 */
static uint64_t tlb_pending;    /* CPUs that have not done tlb_req yet */
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

static void tlb_do_local(const struct tlb_work *w)
{
    if (w->fn) {
        w->fn(w->arg);
        return;
    }
    uint64_t me = 1ull << cpu_current_id();
    if (w->all || (w->full_for & me)) {
        write_cr3(read_cr3()); /* application entries are never global */
    } else {
        for (unsigned i = 0; i < w->n; i++)
            invlpg(w->va[i]);
    }
    if (w->space)
        __atomic_fetch_and(&w->space->stale, ~me, __ATOMIC_SEQ_CST);
}

static void tlb_ipi(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    tlb_do_local(&tlb_req);
    tlb_count(&tlb_counts.received);
    __atomic_fetch_and(&tlb_pending, ~(1ull << cpu_current_id()), __ATOMIC_RELEASE);
}

/* ---- The CPU side of a space's masks ---- */

void tlb_space_load(struct tlb_space *s, unsigned cpu)
{
    uint64_t bit = 1ull << cpu;
    __atomic_fetch_or(&s->cpus, bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&s->active, bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&s->stale, ~bit, __ATOMIC_SEQ_CST); /* the CR3 write flushes */
}

void tlb_space_unload(struct tlb_space *s, unsigned cpu)
{
    uint64_t bit = 1ull << cpu;
    __atomic_fetch_and(&s->active, ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&s->cpus, ~bit, __ATOMIC_SEQ_CST);
}

void tlb_space_lazy(struct tlb_space *s, unsigned cpu)
{
    __atomic_fetch_and(&s->active, ~(1ull << cpu), __ATOMIC_SEQ_CST);
}

/* A sender marks CPUs stale before it reads which are active: so either it
 * saw us active (and interrupts us), or its mark is there for us to see. */
bool tlb_space_wake(struct tlb_space *s, unsigned cpu)
{
    uint64_t bit = 1ull << cpu;
    __atomic_fetch_or(&s->active, bit, __ATOMIC_SEQ_CST);
    if (!(__atomic_load_n(&s->stale, __ATOMIC_SEQ_CST) & bit))
        return false;
    __atomic_fetch_and(&s->stale, ~bit, __ATOMIC_SEQ_CST);
    tlb_count(&tlb_counts.wakeups);
    return true;
}

/* The online CPUs of *mask (every online CPU when mask is NULL). The mask is
 * read after the caller's page-table change (sequentially consistent with
 * the CPU-mask updates of vm_activate). */
static uint64_t tlb_targets(const uint64_t *mask)
{
    uint64_t want = mask ? __atomic_load_n(mask, __ATOMIC_SEQ_CST) : ~0ull, out = 0;
    unsigned n = __atomic_load_n(&cpu_count, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n && i < MAX_CPUS; i++)
        if ((want & (1ull << i)) && cpus[i] && READ_ONCE(cpus[i]->arch.online))
            out |= 1ull << i;
    return out;
}

static void tlb_send(uint64_t targets)
{
    for (unsigned i = 0; i < MAX_CPUS; i++)
        if (targets & (1ull << i)) {
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

/* Only this CPU (or none) concerned: no IPI, no lock. True when done. */
static bool tlb_try_local(const uint64_t *mask, struct tlb_space *s, struct tlb_work *w)
{
    irqflags_t f = irq_save();
    uint64_t me = 1ull << cpu_current_id(), targets = tlb_targets(mask);
    bool done = !(targets & ~me);
    if (done && (targets & me)) {
        if (s) {
            w->space = s;
            w->full_for = __atomic_load_n(&s->stale, __ATOMIC_SEQ_CST) & me;
        }
        tlb_do_local(w);
        tlb_count(&tlb_counts.local);
    } else if (done) {
        tlb_count(&tlb_counts.skipped);
    }
    irq_restore(f);
    return done;
}

/* Under the sender lock, interrupts off: which of `others` get the IPI. */
static uint64_t tlb_choose(struct tlb_space *s, uint64_t others, struct tlb_work *w)
{
    if (!s)
        return others;
    w->space = s;
    if (w->freed_tables || w->fn) {
        w->full_for = __atomic_load_n(&s->stale, __ATOMIC_SEQ_CST);
        return others;
    }
    w->full_for = __atomic_fetch_or(&s->stale, others, __ATOMIC_SEQ_CST);
    uint64_t ipi = __atomic_load_n(&s->active, __ATOMIC_SEQ_CST) & others;
    for (uint64_t lazy = others & ~ipi; lazy; lazy &= lazy - 1)
        tlb_count(&tlb_counts.deferred);
    return ipi;
}

/* mask: the CPUs concerned (s's cpus, or NULL: every online CPU). */
static void tlb_deliver(const uint64_t *mask, struct tlb_space *s, struct tlb_work *w)
{
    if (tlb_try_local(mask, s, w))
        return;
    static bool warned;
    if (!irq_enabled() && !warned) {
        warned = true;
        pr_warn("tlb: shootdown requested with interrupts disabled; other CPUs may wait on us\n");
    }
    mutex_lock(&tlb_sender);
    /* No migration between choosing the targets and doing our own part. */
    irqflags_t f = irq_save();
    uint64_t me = 1ull << cpu_current_id(), targets = tlb_targets(mask);
    uint64_t ipi = tlb_choose(s, targets & ~me, w);
    tlb_req = *w;
    __atomic_store_n(&tlb_pending, ipi, __ATOMIC_SEQ_CST);
    tlb_send(ipi);
    if (targets & me)
        tlb_do_local(&tlb_req);
    irq_restore(f);
    if (ipi)
        tlb_count(&tlb_counts.shootdowns);
    tlb_wait();
    mutex_unlock(&tlb_sender);
}

void tlb_batch_flush(struct tlb_batch *b, struct tlb_space *s)
{
    if (tlb_batch_empty(b))
        return;
    struct tlb_work w = { .all = b->all, .freed_tables = b->freed_tables, .n = b->all ? 0 : b->n };
    for (unsigned i = 0; i < w.n; i++)
        w.va[i] = b->va[i];
    if (b->all)
        tlb_count(&tlb_counts.full);
    tlb_deliver(s ? &s->cpus : NULL, s, &w);
    tlb_batch_init(b);
}

void tlb_run_on(const uint64_t *mask, void (*fn)(void *arg), void *arg)
{
    struct tlb_work w = { .fn = fn, .arg = arg };
    tlb_deliver(mask, NULL, &w);
}

void tlb_flush_page(struct tlb_space *s, uintptr_t va)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add(&b, va);
    tlb_batch_flush(&b, s);
}

void tlb_flush_range(struct tlb_space *s, uintptr_t start, uintptr_t end)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add_range(&b, start, end);
    tlb_batch_flush(&b, s);
}

void tlb_flush_all_user(struct tlb_space *s)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    b.all = true;
    tlb_batch_flush(&b, s);
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
    s->local = __atomic_load_n(&tlb_counts.local, __ATOMIC_RELAXED);
    s->skipped = __atomic_load_n(&tlb_counts.skipped, __ATOMIC_RELAXED);
    s->deferred = __atomic_load_n(&tlb_counts.deferred, __ATOMIC_RELAXED);
    s->wakeups = __atomic_load_n(&tlb_counts.wakeups, __ATOMIC_RELAXED);
}
