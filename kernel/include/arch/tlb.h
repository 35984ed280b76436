/* TLB shootdown for the application half: after page-table entries lose
 * rights or go away, every online CPU drops its cached translations before
 * the caller reuses the pages. One page table is shared by all CPUs and CR3
 * is never reloaded, so every CPU may hold stale user entries. */
#pragma once

#include "lib/types.h"

/* Above this many pages a flush reloads CR3 instead (user entries are not
 * global, so that drops them all; invlpg costs ~0.1 us, a reload ~2 us plus
 * refills under emulation). */
#define TLB_FLUSH_ALL_THRESHOLD 32
#define TLB_BATCH_MAX TLB_FLUSH_ALL_THRESHOLD

/* Addresses to invalidate, gathered while editing page tables. */
struct tlb_batch {
    unsigned n;
    bool all;                      /* flush every user translation */
    uintptr_t va[TLB_BATCH_MAX];   /* invlpg targets (one per 4 KiB or 2 MiB leaf) */
};

static inline void tlb_batch_init(struct tlb_batch *b)
{
    b->n = 0;
    b->all = false;
}

static inline bool tlb_batch_empty(const struct tlb_batch *b)
{
    return !b->all && b->n == 0;
}

/* One leaf (any page size: invlpg of an address drops the whole entry). */
void tlb_batch_add(struct tlb_batch *b, uintptr_t va);
/* Every page of [start, end) at 4 KiB granularity (full flush if large). */
void tlb_batch_add_range(struct tlb_batch *b, uintptr_t start, uintptr_t end);
/* Invalidate the batch on every online CPU and wait for all of them; then
 * empties it. Thread context with interrupts enabled (it may sleep on the
 * sender lock and spins with interrupts on while other CPUs answer). */
void tlb_batch_flush(struct tlb_batch *b);

void tlb_flush_page(uintptr_t va);
void tlb_flush_range(uintptr_t start, uintptr_t end);
void tlb_flush_all_user(void);

/* Register the IPI handler (once, at memory init). */
void tlb_init(void);

struct tlb_stats {
    uint64_t shootdowns;  /* flushes that needed other CPUs */
    uint64_t ipis;        /* IPIs sent */
    uint64_t full;        /* flushes that reloaded CR3 */
    uint64_t received;    /* shootdown IPIs handled (all CPUs) */
    uint64_t slow;        /* waits that passed the warning time */
};
void tlb_get_stats(struct tlb_stats *s);
