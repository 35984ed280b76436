/* Cross-CPU parts of --test=vmfork: a fork must flush the parent's CPUs, two
 * spaces written at once on different CPUs stay apart, shootdowns go only to
 * the CPUs that have the space loaded, a space loaded lazily elsewhere is
 * left before it is freed, parent threads keep writing while it forks; and
 * the costs of fork and of switching between spaces. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "core/waitq.h"
#include "lib/errno.h"
#include "vm_selftest.h"

#define PG PAGE_SIZE
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* What a helper thread on another CPU does. */
struct vm_job {
    struct vm_space *vm;
    uintptr_t addr;
    unsigned pages;
    uint64_t base;          /* page i gets base + i */
    int err;
    unsigned bad;
};

static void job_fill(void *arg)
{
    struct vm_job *j = arg;
    for (unsigned i = 0; i < j->pages && !j->err; i++)
        j->err = vm_test_put(j->vm, j->addr + i * PG, j->base + i);
    for (unsigned i = 0; i < j->pages; i++)
        j->bad += vm_test_val(j->vm, j->addr + i * PG) != j->base + i;
}

/* job_fill, then what the scheduler does when a kernel thread (the idle
 * one) takes over: this CPU keeps the space loaded, lazily. */
static void job_fill_then_idle(void *arg)
{
    job_fill(arg);
    vm_switch_to(NULL, NULL);
}

/* Run fn on `cpu` and wait. The CPU keeps what fn loaded (lazily). */
static void on_cpu(unsigned cpu, void (*fn)(void *), void *arg)
{
    thread_join(thread_spawn("vmcpu", fn, arg, (int)cpu));
}

static void job_where(void *arg)
{
    struct vm_job *j = arg;
    j->bad = vm_loaded_here() != NULL || read_cr3() != paging_kernel_root();
}

static volatile unsigned fill_phase;

/* Fill, wait (still running the space) for the next phase, fill again. */
static void job_fill_twice(void *arg)
{
    struct vm_job *j = arg;
    job_fill(j);
    __atomic_store_n(&fill_phase, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&fill_phase, __ATOMIC_SEQ_CST) != 2)
        cpu_pause();
    j->base = 0x200;
    job_fill(j);
}

/* A CPU that cached writable entries of the parent must lose them at fork:
 * otherwise its next store would land in a page the child shares. Running
 * the parent there, it is interrupted; holding it lazily (a kernel thread
 * runs), it is marked stale and flushes when it runs the parent again. */
static int test_fork_flushes_parent(unsigned pages, bool lazy)
{
    struct vm_space *p = vm_space_create();
    long a = vm_mmap(p, 0, pages * PG, RW, ANON | MAP_STACK, NULL, 0); /* 4 KiB pages */
    struct vm_job j = { p, (uintptr_t)a, pages, 0x100, 0, 0 };
    struct tlb_stats t0, t1, t2;
    struct vm_space *c;
    if (lazy) {
        on_cpu(1, job_fill_then_idle, &j);
        tlb_get_stats(&t0);
        c = vm_space_fork(p);
        tlb_get_stats(&t1);
        j.base = 0x200;
        on_cpu(1, job_fill, &j);
    } else {
        fill_phase = 0;
        struct thread *t = thread_spawn("vmfill", job_fill_twice, &j, 1);
        while (__atomic_load_n(&fill_phase, __ATOMIC_SEQ_CST) != 1)
            thread_sleep_ns(100000);
        tlb_get_stats(&t0);
        c = vm_space_fork(p);
        tlb_get_stats(&t1);
        __atomic_store_n(&fill_phase, 2, __ATOMIC_SEQ_CST);
        thread_join(t);
    }
    tlb_get_stats(&t2);
    unsigned bad = 0;
    for (unsigned i = 0; i < pages; i++)
        bad += vm_test_val(c, a + i * PG) != 0x100 + i;
    bool how = lazy ? t1.ipis == t0.ipis && t1.deferred > t0.deferred && t2.wakeups > t1.wakeups
                    : t1.ipis > t0.ipis;
    int fails = selftest_check(c && !j.err && !j.bad && !bad && how,
                               "fork with the parent %s on CPU 1 (%u pages%s): %s; its next stores copy, the "
                               "child keeps the old data (%u wrong)", lazy ? "held lazily" : "running", pages,
                               pages > TLB_FLUSH_ALL_THRESHOLD ? ", full flush" : "",
                               lazy ? "no IPI, CPU 1 flushes when it runs it again" : "CPU 1 interrupted", bad);
    vm_space_put(c);
    vm_space_put(p);
    return fails;
}

/* Parent and child write the same shared pages at once, on two CPUs. */
static int test_parallel_cow(void)
{
    struct vm_space *p = vm_space_create();
    long a = vm_mmap(p, 0, 64 * PG, RW, ANON | MAP_STACK, NULL, 0);
    struct vm_job jp = { p, (uintptr_t)a, 64, 0x1000, 0, 0 };
    job_fill(&jp);
    struct vm_space *c = vm_space_fork(p);
    struct vm_job jc = { c, (uintptr_t)a, 64, 0x2000, 0, 0 };
    jp.base = 0x3000;
    unsigned cp = cpu_count > 2 ? 2 : 0;
    struct thread *tc = thread_spawn("vmchild", job_fill, &jc, 1);
    struct thread *tp = thread_spawn("vmparent", job_fill, &jp, (int)cp);
    thread_join(tc);
    thread_join(tp);
    unsigned bad = 0;
    for (unsigned i = 0; i < 64; i++)
        bad += (vm_test_val(c, a + i * PG) != 0x2000 + i) + (vm_test_val(p, a + i * PG) != 0x3000 + i);
    int fails = selftest_check(!jc.err && !jp.err && !jc.bad && !jp.bad && !bad &&
                                   p->rss_anon == 64 && c->rss_anon == 64,
                               "parent and child write the same 64 shared pages at once on CPUs %u and 1: each "
                               "keeps its own (%u wrong)", cp, bad + jc.bad + jp.bad);
    vm_space_put(c);
    vm_space_put(p);
    return fails;
}

/* Shootdowns go to the CPUs of the space's mask only, and to lazy ones
 * only when page tables are freed. */
static int test_targeted_shootdown(void)
{
    struct vm_space *x = vm_space_create(), *y = vm_space_create(), *z = vm_space_create();
    long ax = vm_mmap(x, 0, 2 * PG, RW, ANON, NULL, 0);
    long ay = vm_mmap(y, 0, PG, RW, ANON, NULL, 0);
    long az = vm_mmap(z, 0, PG, RW, ANON, NULL, 0);
    struct vm_job jx = { x, (uintptr_t)ax, 2, 1, 0, 0 };
    on_cpu(1, job_fill_then_idle, &jx); /* x: loaded on CPU 1 only, lazily */
    vm_test_put(y, ay, 2);              /* y: running here only */
    vm_populate(z, az, PG);             /* z: loaded nowhere */
    struct tlb_stats t0, t1, t2, t3, t4;
    tlb_get_stats(&t0);
    vm_munmap(y, ay, PG);
    tlb_get_stats(&t1);
    vm_madvise(x, ax, PG, MADV_DONTNEED); /* its page table stays */
    tlb_get_stats(&t2);
    uint64_t c0 = clock_monotonic_ns();
    vm_munmap(x, ax, 2 * PG);              /* its page table goes */
    uint64_t c1 = clock_monotonic_ns();
    tlb_get_stats(&t3);
    vm_munmap(z, az, PG);
    tlb_get_stats(&t4);
    int fails = selftest_check(t1.ipis == t0.ipis && t1.local > t0.local,
                               "a space running only here is flushed here, no IPI");
    fails += selftest_check(t2.ipis == t1.ipis && t2.deferred == t1.deferred + 1,
                            "a space CPU 1 holds lazily: no IPI, CPU 1 marked stale instead");
    fails += selftest_check(t3.ipis == t2.ipis + 1 && t3.received == t2.received + 1,
                            "unless page tables are freed: then one IPI, to CPU 1 only (of %u CPUs, %lu us)",
                            cpu_count, (c1 - c0) / 1000);
    fails += selftest_check(t4.ipis == t3.ipis && t4.skipped > t3.skipped, "a space loaded nowhere: no flush at all");
    vm_activate(NULL);
    vm_space_put(y);
    vm_space_put(z);
    /* destroy while CPU 1 still has x loaded (it went idle on it) */
    bool lazy = __atomic_load_n(&x->tlb.cpus, __ATOMIC_SEQ_CST) == 2;
    uint64_t before = vm_test_free_pages();
    vm_space_put(x);
    uint64_t after = vm_test_free_pages();
    struct vm_job where = { 0 };
    on_cpu(1, job_where, &where);
    fails += selftest_check(lazy && !where.bad && after >= before + 1,
                            "destroying a space CPU 1 still has loaded makes CPU 1 leave it first (%lu pages back)",
                            after - before);
    return fails;
}

/* ---- Parent threads keep writing while it forks ---- */

#define WRITER_PAGES 4

static struct {
    struct vm_space *vm;
    uintptr_t base;
    volatile bool stop;
    volatile uint64_t count[MAX_CPUS];
    volatile unsigned errors;
} W;

static void writer(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uintptr_t pages = W.base + me * WRITER_PAGES * PG;
    for (uint64_t n = 1; !READ_ONCE(W.stop); n++) {
        for (unsigned i = 0; i < WRITER_PAGES; i++)
            if (vm_test_put(W.vm, pages + i * PG, n))
                W.errors++;
        W.count[me] = n;
    }
}

static int test_fork_while_writing(void)
{
    W.vm = vm_space_create();
    W.base = (uintptr_t)vm_mmap(W.vm, 0, cpu_count * WRITER_PAGES * PG, RW, ANON, NULL, 0);
    W.stop = false;
    W.errors = 0;
    struct thread *t[MAX_CPUS];
    for (unsigned c = 1; c < cpu_count; c++)
        t[c] = thread_spawn("vmwriter", writer, (void *)(uintptr_t)c, (int)c);
    unsigned changed = 0, torn = 0, forks = 0;
    for (unsigned r = 0; r < 8; r++) {
        thread_sleep_ns(2 * NSEC_PER_MSEC);
        struct vm_space *c = vm_space_fork(W.vm);
        if (!c)
            continue;
        forks++;
        uint64_t snap[MAX_CPUS][WRITER_PAGES];
        for (unsigned w = 1; w < cpu_count; w++)
            for (unsigned i = 0; i < WRITER_PAGES; i++)
                snap[w][i] = vm_test_val(c, W.base + (w * WRITER_PAGES + i) * PG);
        thread_sleep_ns(2 * NSEC_PER_MSEC); /* the writers go on meanwhile */
        for (unsigned w = 1; w < cpu_count; w++)
            for (unsigned i = 0; i < WRITER_PAGES; i++) {
                changed += vm_test_val(c, W.base + (w * WRITER_PAGES + i) * PG) != snap[w][i];
                /* a writer stores n into its pages in order: page i holds n or n - 1 */
                torn += snap[w][i] > snap[w][0] || snap[w][i] + 1 < snap[w][0];
            }
        vm_space_put(c);
    }
    W.stop = true;
    for (unsigned c = 1; c < cpu_count; c++)
        thread_join(t[c]);
    uint64_t total = 0;
    for (unsigned c = 1; c < cpu_count; c++)
        total += W.count[c];
    vm_activate(NULL);
    vm_space_put(W.vm);
    return selftest_check(forks == 8 && !changed && !torn && !W.errors && total > 0,
                          "%u forks while %u CPUs write the parent (%lu rounds): no child's snapshot changes "
                          "(%u changed, %u torn, %u errors)", forks, cpu_count - 1, total, changed, torn, W.errors);
}

/* ---- Costs ---- */

/* A 64 MiB heap, every page written, then forked (the best of 3: the
 * machines are shared, so the minimum is the repeatable figure). */
static int measure_fork(bool large)
{
    struct vm_space *p = vm_space_create();
    uintptr_t base = 0x10000000;
    vm_set_brk_base(p, base);
    int fails = selftest_check(vm_brk(p, base + MiB(64)) == base + MiB(64), "a 64 MiB heap");
    if (!large)
        vm_madvise(p, base, MiB(64), MADV_NOHUGEPAGE);
    vm_populate(p, base, MiB(64));
    vm_test_put(p, base, 1);
    vm_space_put(vm_space_fork(p)); /* first runs of the code are translated by TCG: not timed */
    uint64_t best[3] = { ~0ull, ~0ull, ~0ull };
    int err = 0;
    for (unsigned k = 0; k < 3 && !err; k++) {
        uint64_t t0 = clock_monotonic_ns();
        struct vm_space *c = vm_space_fork(p);
        uint64_t t1 = clock_monotonic_ns();
        err = c ? vm_test_put(c, base + (3 + k) * PG, 2) : -ENOMEM;
        uint64_t t2 = clock_monotonic_ns();
        vm_space_put(c);
        uint64_t t3 = clock_monotonic_ns();
        best[0] = MIN(best[0], t1 - t0);
        best[1] = MIN(best[1], t2 - t1);
        best[2] = MIN(best[2], t3 - t2);
    }
    fails += selftest_check(!err, "fork of a 64 MiB written heap (%s pages): %lu us; the child's first write "
                            "%lu us; its exit %lu us", large ? "2 MiB" : "4 KiB", best[0] / 1000, best[1] / 1000,
                            best[2] / 1000);
    vm_activate(NULL);
    vm_space_put(p);
    return fails;
}

static struct {
    struct vm_space *vm[2];
    uintptr_t addr;
    unsigned rounds;
    bool activate;
    volatile unsigned turn;     /* whose turn it is to run */
    struct waitq wq[2];
    uint64_t t0, t1;
} S;

/* One of two threads on one CPU handing the CPU to each other (a pipe
 * ping-pong, as between two processes): with `activate`, each loads its own
 * space and reads 8 of its pages when it gets the CPU, as a process's thread
 * does after the scheduler's vm_switch_to. */
static void switcher(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned r = 0; r < S.rounds; r++) {
        struct wait_entry e = { 0 };
        for (;;) {
            waitq_prepare(&S.wq[me], &e);
            if (READ_ONCE(S.turn) == me)
                break;
            waitq_sleep(&e, 0);
        }
        waitq_finish(&S.wq[me], &e);
        if (S.activate) {
            irqflags_t f = irq_save();
            vm_activate(S.vm[me]);
            for (unsigned i = 0; i < 8; i++) {
                uint64_t v;
                get_user_u64(&v, (const void __user *)(S.addr + i * PG));
            }
            irq_restore(f);
        }
        if (!me && !r)
            S.t0 = clock_monotonic_ns();
        WRITE_ONCE(S.turn, !me);
        waitq_wake_one(&S.wq[!me]);
    }
    if (me)
        S.t1 = clock_monotonic_ns();
    vm_activate(NULL);
}

/* Nanoseconds per hand-over between the two threads (one context switch). */
static uint64_t measure_switches_once(struct vm_space *a, struct vm_space *b, bool activate)
{
    S.vm[0] = a;
    S.vm[1] = b;
    S.rounds = 1000;
    S.activate = activate;
    S.turn = 0;
    waitq_init(&S.wq[0]);
    waitq_init(&S.wq[1]);
    int cpu = cpu_count > 1 ? 1 : 0;
    struct thread *t1 = thread_spawn("vmsw0", switcher, (void *)0ul, cpu);
    struct thread *t2 = thread_spawn("vmsw1", switcher, (void *)1ul, cpu);
    thread_join(t1);
    thread_join(t2);
    return (S.t1 - S.t0) / (2 * S.rounds - 1);
}

static uint64_t measure_switches(struct vm_space *a, struct vm_space *b, bool activate)
{
    uint64_t best = ~0ull;
    for (unsigned k = 0; k < 3; k++)
        best = MIN(best, measure_switches_once(a, b, activate));
    return best;
}

static int measure_switch(void)
{
    struct vm_space *a = vm_space_create(), *b = vm_space_create();
    S.addr = (uintptr_t)vm_mmap(a, 0x40000000, 8 * PG, RW, ANON | MAP_FIXED | MAP_POPULATE, NULL, 0);
    vm_mmap(b, 0x40000000, 8 * PG, RW, ANON | MAP_FIXED | MAP_POPULATE, NULL, 0);
    uint64_t cr3_ns = ~0ull;
    for (unsigned k = 0; k < 3; k++) {
        uint64_t t0 = clock_monotonic_ns();
        for (unsigned i = 0; i < 1000; i++) {
            vm_activate(a);
            vm_activate(b);
        }
        cr3_ns = MIN(cr3_ns, (clock_monotonic_ns() - t0) / 2000);
    }
    vm_activate(NULL);
    measure_switches(a, b, true); /* TCG translates the code the first time: not timed */
    uint64_t kernel = measure_switches(a, b, false);
    uint64_t same = measure_switches(a, a, true);
    uint64_t other = measure_switches(a, b, true);
    int fails = selftest_check(true, "switching spaces: vm_activate %lu ns; a context switch between kernel threads "
                               "%lu ns, threads of one space (reading 8 pages) %lu ns, of two spaces %lu ns", cr3_ns,
                               kernel, same, other);
    vm_space_put(a);
    vm_space_put(b);
    return fails;
}

int vm_selftest_fork_smp(void)
{
    int fails = 0;
    if (cpu_count >= 2) {
        fails += test_fork_flushes_parent(4, false);
        fails += test_fork_flushes_parent(48, false);
        fails += test_fork_flushes_parent(4, true);
        fails += test_fork_flushes_parent(48, true);
        fails += test_parallel_cow();
        fails += test_targeted_shootdown();
        fails += test_fork_while_writing();
    } else {
        fails += selftest_check(true, "cross-CPU fork tests: skipped, one CPU (run with -c 2 or more)");
    }
    fails += measure_fork(true);
    fails += measure_fork(false);
    fails += measure_switch();
    return fails;
}
