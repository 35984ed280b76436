/* Cross-CPU parts of --test=vm: reader threads on the other CPUs cache user
 * translations by reading user addresses, the test changes the mappings, and
 * the readers must then see the new pages (so the shootdown reached them);
 * one reader keeps interrupts off meanwhile; faults run on every CPU at once. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "vm_internal.h"

int vm_selftest_smp(struct vm_space *vm);

#define PG PAGE_SIZE
#define NPAGES 48 /* above TLB_FLUSH_ALL_THRESHOLD: the full-flush path */

static struct {
    struct vm_space *vm;              /* the space the readers load */
    volatile unsigned phase;          /* what the readers should do next */
    volatile unsigned done[MAX_CPUS]; /* last phase each reader finished */
    volatile unsigned errors[MAX_CPUS];
    volatile bool stop;
    volatile bool irq_off_started;
    uintptr_t addr;
    unsigned npages;
    uint64_t expect;                  /* page i holds expect + i */
    unsigned irq_off_cpu;
    uint64_t irq_off_ns;
} R;

/* Read a user address from the kernel, as the application would see it. */
static uint64_t user_read64(uintptr_t va)
{
    bool smap = read_cr4() & CR4_SMAP;
    if (smap)
        __asm__ __volatile__("stac" ::: "memory");
    uint64_t v = *(volatile uint64_t *)va;
    if (smap)
        __asm__ __volatile__("clac" ::: "memory");
    return v;
}

static void reader(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg, seen = 0;
    while (!READ_ONCE(R.stop)) {
        unsigned ph = READ_ONCE(R.phase);
        if (ph == seen) {
            cpu_pause();
            continue;
        }
        seen = ph;
        vm_activate(R.vm); /* after any switch here this CPU holds it lazily: run it again */
        if (R.irq_off_ns && me == R.irq_off_cpu) {
            irqflags_t f = irq_save(); /* a CPU deaf to IPIs for a while */
            R.irq_off_started = true;
            uint64_t end = clock_monotonic_ns() + R.irq_off_ns;
            while (clock_monotonic_ns() < end)
                cpu_pause();
            irq_restore(f);
        }
        for (unsigned i = 0; i < R.npages; i++)
            if (user_read64(R.addr + i * PG) != R.expect + i)
                R.errors[me]++;
        __atomic_store_n(&R.done[me], ph, __ATOMIC_RELEASE);
    }
}

/* Start a phase and wait until every reader has done it. */
static bool run_phase(uintptr_t addr, unsigned npages, uint64_t expect)
{
    R.addr = addr;
    R.npages = npages;
    R.expect = expect;
    unsigned ph = __atomic_add_fetch(&R.phase, 1, __ATOMIC_SEQ_CST);
    uint64_t deadline = clock_monotonic_ns() + 20 * NSEC_PER_SEC;
    for (unsigned c = 1; c < cpu_count; c++)
        while (__atomic_load_n(&R.done[c], __ATOMIC_ACQUIRE) != ph)
            if (clock_monotonic_ns() > deadline)
                return false;
            else
                thread_sleep_ns(100000);
    return true;
}

static unsigned reader_errors(void)
{
    unsigned n = 0;
    for (unsigned c = 0; c < cpu_count; c++)
        n += R.errors[c];
    return n;
}

static void write_pages(uintptr_t addr, unsigned n, uint64_t base)
{
    for (unsigned i = 0; i < n; i++) {
        struct paging_leaf l;
        paging_user_lookup(&R.vm->pt, addr + i * PG, &l);
        *(uint64_t *)phys_to_virt(l.phys + (addr + i * PG - l.va)) = base + i;
    }
}

static int test_shootdown(struct vm_space *vm)
{
    int fails = 0;
    struct tlb_stats t0, t1;
    tlb_get_stats(&t0);
    /* copy on write: the readers hold the zero page's translation */
    long a = vm_mmap(vm, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    vm_fault(vm, a, 0);
    bool ok = run_phase(a, 1, 0);
    vm_fault(vm, a, VM_FAULT_WRITE);
    write_pages(a, 1, 0x1111);
    ok &= run_phase(a, 1, 0x1111);
    fails += selftest_check(ok && reader_errors() == 0,
                            "after copy on write every CPU reads the new page (%u stale reads)", reader_errors());
    /* munmap of many pages (full flush), then new pages at the same place */
    long b = vm_mmap(vm, 0, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    vm_populate(vm, b, NPAGES * PG);
    write_pages(b, NPAGES, 0x2000);
    ok = run_phase(b, NPAGES, 0x2000);
    vm_munmap(vm, b, NPAGES * PG);
    vm_mmap(vm, b, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
    vm_populate(vm, b, NPAGES * PG);
    write_pages(b, NPAGES, 0x3000);
    ok &= run_phase(b, NPAGES, 0x3000);
    tlb_get_stats(&t1);
    fails += selftest_check(ok && reader_errors() == 0 && t1.full > t0.full,
                            "after munmap + mmap of %u pages every CPU reads the new pages (full flush)", NPAGES);
    fails += selftest_check(t1.shootdowns > t0.shootdowns && t1.received >= (t1.shootdowns - t0.shootdowns),
                            "%lu shootdowns, %lu IPIs, %lu handled", t1.shootdowns - t0.shootdowns,
                            t1.ipis - t0.ipis, t1.received - t0.received);
    vm_munmap(vm, a, PG);
    vm_munmap(vm, b, NPAGES * PG);
    return fails;
}

/* A CPU with interrupts off delays a shootdown; it must not be lost. */
static int test_irqs_off(struct vm_space *vm)
{
    long a = vm_mmap(vm, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    vm_fault(vm, a, 0);
    bool ok = run_phase(a, 1, 0);
    R.irq_off_cpu = cpu_count - 1;
    R.irq_off_ns = 100 * NSEC_PER_MSEC;
    R.irq_off_started = false;
    R.addr = a; /* the deaf reader reads the zero page once its interrupts are back on */
    R.npages = 0;
    unsigned ph = __atomic_add_fetch(&R.phase, 1, __ATOMIC_SEQ_CST);
    while (!READ_ONCE(R.irq_off_started))
        cpu_pause();
    uint64_t t0 = clock_monotonic_ns();
    vm_fault(vm, a, VM_FAULT_WRITE); /* copy on write: a shootdown */
    uint64_t waited = clock_monotonic_ns() - t0;
    write_pages(a, 1, 0x4444);
    for (unsigned c = 1; c < cpu_count; c++)
        while (__atomic_load_n(&R.done[c], __ATOMIC_ACQUIRE) != ph)
            thread_sleep_ns(100000);
    R.irq_off_ns = 0;
    ok &= run_phase(a, 1, 0x4444);
    vm_munmap(vm, a, PG);
    return selftest_check(ok && reader_errors() == 0 && waited >= 50 * NSEC_PER_MSEC,
                          "a shootdown waits for a CPU with interrupts off (%lu ms) and reaches it",
                          waited / NSEC_PER_MSEC);
}

/* ---- Faults on every CPU at once, while another CPU maps and unmaps ---- */

#define FAULT_PAGES 64

static struct {
    struct vm_space *vm;
    uintptr_t base;
    volatile unsigned errors;
} F;

static void faulter(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned round = 0; round < 4; round++)
        for (unsigned i = 0; i < FAULT_PAGES; i++) {
            uintptr_t va = F.base + (me * FAULT_PAGES + i) * PG;
            if (vm_fault(F.vm, va, round ? 0 : VM_FAULT_WRITE) != 0)
                F.errors++;
            if (!round)
                write_pages(va, 1, ((uint64_t)me << 32) | i);
        }
}

static int test_parallel_faults(struct vm_space *vm)
{
    unsigned n = cpu_count;
    F.vm = vm;
    F.errors = 0;
    F.base = (uintptr_t)vm_mmap(vm, 0, n * FAULT_PAGES * PG, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, NULL, 0);
    struct thread *t[MAX_CPUS];
    for (unsigned c = 0; c < n; c++)
        t[c] = thread_spawn("vmfault", faulter, (void *)(uintptr_t)c, (int)c);
    for (unsigned i = 0; i < 50; i++) { /* churn elsewhere: more shootdowns */
        long x = vm_mmap(vm, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
        vm_populate(vm, x, 8 * PG);
        vm_munmap(vm, x, 8 * PG);
    }
    for (unsigned c = 0; c < n; c++)
        thread_join(t[c]);
    unsigned bad = 0;
    for (unsigned c = 0; c < n; c++)
        for (unsigned i = 0; i < FAULT_PAGES; i++) {
            struct paging_leaf l;
            uintptr_t va = F.base + (c * FAULT_PAGES + i) * PG;
            if (!paging_user_lookup(&vm->pt, va, &l) || *(uint64_t *)phys_to_virt(l.phys) != (((uint64_t)c << 32) | i))
                bad++;
        }
    vm_munmap(vm, F.base, n * FAULT_PAGES * PG);
    return selftest_check(!F.errors && !bad, "%u CPUs faulting at once: %u errors, %u wrong pages", n,
                          F.errors, bad);
}

/* Every CPU touches the same 2 MiB blocks at once: the pages are allocated
 * outside the lock, one wins, the others retry and give theirs back. */
#define RACE_BLOCKS 8

static void block_racer(void *arg)
{
    (void)arg;
    for (unsigned b = 0; b < RACE_BLOCKS; b++)
        if (vm_fault(F.vm, F.base + b * LARGE_PAGE_SIZE + 64 * PG, VM_FAULT_WRITE) != 0)
            F.errors++;
}

static int test_large_race(struct vm_space *vm)
{
    uint64_t before = vm->rss_anon;
    F.vm = vm;
    F.errors = 0;
    F.base = (uintptr_t)vm_mmap(vm, 0, RACE_BLOCKS * LARGE_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
    struct thread *t[MAX_CPUS];
    for (unsigned c = 0; c < cpu_count; c++)
        t[c] = thread_spawn("vmrace", block_racer, NULL, (int)c);
    for (unsigned c = 0; c < cpu_count; c++)
        thread_join(t[c]);
    unsigned large = 0;
    for (unsigned b = 0; b < RACE_BLOCKS; b++) {
        struct paging_leaf l;
        large += paging_user_lookup(&vm->pt, F.base + b * LARGE_PAGE_SIZE, &l) == PAGING_LEVEL_2M;
    }
    uint64_t rss = vm->rss_anon - before;
    vm_munmap(vm, F.base, RACE_BLOCKS * LARGE_PAGE_SIZE);
    return selftest_check(!F.errors && large == RACE_BLOCKS && rss == RACE_BLOCKS * 512,
                          "%u CPUs racing for the same %u large pages: %u mapped, %lu pages counted, %u errors",
                          cpu_count, RACE_BLOCKS, large, rss, F.errors);
}

static void smp_main(void *arg)
{
    struct vm_space *vm = arg;
    int fails = 0;
    struct thread *t[MAX_CPUS];
    R.vm = vm;
    R.stop = false;
    R.irq_off_ns = 0;
    for (unsigned c = 1; c < cpu_count; c++) {
        R.done[c] = R.phase;
        R.errors[c] = 0;
        t[c] = thread_spawn("vmreader", reader, (void *)(uintptr_t)c, (int)c);
    }
    fails += test_shootdown(vm);
    fails += test_irqs_off(vm);
    R.stop = true;
    for (unsigned c = 1; c < cpu_count; c++)
        thread_join(t[c]);
    fails += test_parallel_faults(vm);
    fails += test_large_race(vm);
    thread_exit(fails);
}

int vm_selftest_smp(struct vm_space *vm)
{
    if (cpu_count < 2)
        return selftest_check(true, "TLB shootdown: skipped, one CPU (run with -c 2 or more)");
    /* on CPU 0, so the readers own the others */
    return thread_join(thread_spawn("vmsmp", smp_main, vm, 0));
}
