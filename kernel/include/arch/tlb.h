/* TLB shootdown for the application half: after page-table entries of an
 * address space lose rights or go away, every CPU that may cache them drops
 * them before the caller reuses the pages. CPUs that have the space loaded
 * only lazily (they run a kernel thread) are not interrupted but marked
 * stale: they flush everything before they run the space again. Also runs a
 * function on the CPUs of a mask (a space being destroyed is left first). */
#pragma once

#include "lib/types.h"

/* Above this many pages a flush reloads CR3 instead (user entries are not
 * global, so that drops them all; invlpg costs ~0.1 us, a reload ~2 us plus
 * refills under emulation). */
#define TLB_FLUSH_ALL_THRESHOLD 32
#define TLB_BATCH_MAX TLB_FLUSH_ALL_THRESHOLD

/* Where an address space's translations may be cached. vm_activate and
 * vm_switch_to keep it up to date (mm/vm_switch.c); shootdowns read it. */
struct tlb_space {
    uint64_t cpus;    /* CPUs with the root loaded, lazily too */
    uint64_t active;  /* of those, the ones running the space (not lazily) */
    uint64_t stale;   /* lazy CPUs a shootdown skipped: they must flush all first */
};

/* The CPU-side transitions, on the CPU itself with interrupts off:
 * load: s's root is about to be written to CR3 (which drops every user
 * translation); unload: CR3 holds another root now; lazy: a kernel thread
 * runs on with the root loaded; wake: the space runs again after lazy mode,
 * true when every user translation must be flushed first. */
void tlb_space_load(struct tlb_space *s, unsigned cpu);
void tlb_space_unload(struct tlb_space *s, unsigned cpu);
void tlb_space_lazy(struct tlb_space *s, unsigned cpu);
bool tlb_space_wake(struct tlb_space *s, unsigned cpu);
static inline bool tlb_space_is_active(const struct tlb_space *s, unsigned cpu)
{
    return __atomic_load_n(&s->active, __ATOMIC_RELAXED) & (1ull << cpu);
}

/* Addresses to invalidate, gathered while editing page tables. */
struct tlb_batch {
    unsigned n;
    bool all;                      /* flush every user translation */
    bool freed_tables;             /* page-table pages go too: lazy CPUs must flush now
                                    * (a speculative walk must not reach a freed table) */
    uintptr_t va[TLB_BATCH_MAX];   /* invlpg targets (one per 4 KiB or 2 MiB leaf) */
};

static inline void tlb_batch_init(struct tlb_batch *b)
{
    b->n = 0;
    b->all = false;
    b->freed_tables = false;
}

static inline bool tlb_batch_empty(const struct tlb_batch *b)
{
    return !b->all && b->n == 0;
}

/* One leaf (any page size: invlpg of an address drops the whole entry). */
void tlb_batch_add(struct tlb_batch *b, uintptr_t va);
/* Every page of [start, end) at 4 KiB granularity (full flush if large). */
void tlb_batch_add_range(struct tlb_batch *b, uintptr_t start, uintptr_t end);

/* Invalidate the batch on the CPUs of s (read after the page-table change:
 * a CPU that loads the root later cannot see the old entries): this one when
 * it has s loaded, the active others by IPI, waiting for all of them; lazy
 * ones are marked stale (or interrupted too when tables were freed). Then
 * empties the batch. s NULL: every online CPU. Thread context with
 * interrupts enabled (it may sleep on the sender lock and spins with
 * interrupts on while other CPUs answer). */
void tlb_batch_flush(struct tlb_batch *b, struct tlb_space *s);

void tlb_flush_page(struct tlb_space *s, uintptr_t va);
void tlb_flush_range(struct tlb_space *s, uintptr_t start, uintptr_t end);
void tlb_flush_all_user(struct tlb_space *s);

/* Run fn(arg) on every CPU in *mask (this one too, when in it), in interrupt
 * context there (interrupts off), and wait until all have. Same calling
 * context as tlb_batch_flush. */
void tlb_run_on(const uint64_t *mask, void (*fn)(void *arg), void *arg);

/* Register the IPI handler (once, at memory init). */
void tlb_init(void);

struct tlb_stats {
    uint64_t shootdowns;  /* flushes that needed other CPUs */
    uint64_t ipis;        /* IPIs sent */
    uint64_t full;        /* flushes that reloaded CR3 */
    uint64_t received;    /* shootdown IPIs handled (all CPUs) */
    uint64_t slow;        /* waits that passed the warning time */
    uint64_t local;       /* flushes that needed no other CPU */
    uint64_t skipped;     /* flushes that needed no CPU at all (space not loaded) */
    uint64_t deferred;    /* lazy CPUs marked stale instead of interrupted */
    uint64_t wakeups;     /* lazy CPUs that had to flush all when they ran the space again */
};
void tlb_get_stats(struct tlb_stats *s);
