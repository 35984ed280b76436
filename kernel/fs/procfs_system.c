/* System-wide /proc files: meminfo, stat, uptime, loadavg, version,
 * filesystems, cmdline and swaps, in the formats of Linux 6.1. */
#include "arch/boot_info.h"
#include "arch/cpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/proc.h"
#include "core/sched.h"
#include "core/thread.h"
#include "core/uts.h"
#include "arch/spinlock.h"
#include "fs/procfs.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"
#include "mm/vm.h"

/* ---- meminfo ---- */

static void procfs_mem_kb(struct procfs_buf *b, const char *label, uint64_t bytes)
{
    procfs_printf(b, "%-16s%8lu kB\n", label, bytes >> 10);
}

struct procfs_mem {
    uint64_t total, free, slab, anon, mapped, committed, anon_huge;
};

static void procfs_mem_figures(struct procfs_mem *m)
{
    struct phys_stats ps;
    phys_get_stats(&ps);
    m->total = ps.total_pages << 12;
    m->free = ps.free_pages << 12;
    struct kmalloc_class_stats cs[KMALLOC_NCLASSES];
    uint64_t large = 0, slabs = 0;
    kmalloc_get_stats(cs, &large);
    for (unsigned i = 0; i < KMALLOC_NCLASSES; i++)
        slabs += cs[i].slabs;
    m->slab = (slabs + large) << 12;
    m->anon = m->mapped = m->committed = m->anon_huge = 0;
    struct proc *p = READ_ONCE(proc_main);
    struct vm_space *vm = p ? proc_vm_get(p) : NULL;
    if (vm) {
        struct vm_stats vs;
        vm_get_stats(vm, &vs);
        struct vm_smaps sm;
        vm_get_smaps_total(vm, &sm);
        m->anon = vs.rss_anon;
        m->mapped = vs.rss_file;
        m->committed = vs.data + vs.stack;
        m->anon_huge = sm.anon_huge;
        vm_space_put(vm);
    }
}

/* How the direct map covers RAM: 1 GiB pages when the CPU has them, else 2 MiB. */
static void procfs_mem_directmap(struct procfs_buf *b, uint64_t total)
{
    uint64_t g1 = cpu_features.pdpe1gb ? ALIGN_DOWN(total, GiB(1)) : 0;
    uint64_t m2 = ALIGN_DOWN(total - g1, MiB(2));
    procfs_mem_kb(b, "DirectMap4k:", total - g1 - m2);
    procfs_mem_kb(b, "DirectMap2M:", m2);
    procfs_mem_kb(b, "DirectMap1G:", g1);
}

int procfs_show_meminfo(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    struct procfs_mem m;
    procfs_mem_figures(&m);
    static const char *const zero_a[] = { "Buffers:", "Cached:", "SwapCached:" };
    static const char *const zero_b[] = { "Inactive(anon):", "Active(file):", "Inactive(file):",
                                          "Unevictable:", "Mlocked:", "SwapTotal:", "SwapFree:",
                                          "Zswap:", "Zswapped:", "Dirty:", "Writeback:" };
    procfs_mem_kb(b, "MemTotal:", m.total);
    procfs_mem_kb(b, "MemFree:", m.free);
    procfs_mem_kb(b, "MemAvailable:", m.free);
    for (size_t i = 0; i < ARRAY_SIZE(zero_a); i++)
        procfs_mem_kb(b, zero_a[i], 0);
    procfs_mem_kb(b, "Active:", m.anon);
    procfs_mem_kb(b, "Inactive:", 0);
    procfs_mem_kb(b, "Active(anon):", m.anon);
    for (size_t i = 0; i < ARRAY_SIZE(zero_b); i++)
        procfs_mem_kb(b, zero_b[i], 0);
    procfs_mem_kb(b, "AnonPages:", m.anon);
    procfs_mem_kb(b, "Mapped:", m.mapped);
    procfs_mem_kb(b, "Shmem:", 0);
    procfs_mem_kb(b, "KReclaimable:", 0);
    procfs_mem_kb(b, "Slab:", m.slab);
    procfs_mem_kb(b, "SReclaimable:", 0);
    procfs_mem_kb(b, "SUnreclaim:", m.slab);
    static const char *const zero_c[] = { "KernelStack:", "PageTables:", "SecPageTables:",
                                          "NFS_Unstable:", "Bounce:", "WritebackTmp:" };
    for (size_t i = 0; i < ARRAY_SIZE(zero_c); i++)
        procfs_mem_kb(b, zero_c[i], 0);
    procfs_mem_kb(b, "CommitLimit:", m.total / 2); /* no swap, overcommit_ratio 50 */
    procfs_mem_kb(b, "Committed_AS:", m.committed);
    procfs_mem_kb(b, "VmallocTotal:", KiB(34359738367ull)); /* 32 TiB, as x86-64 Linux */
    procfs_mem_kb(b, "VmallocUsed:", 0);
    procfs_mem_kb(b, "VmallocChunk:", 0);
    procfs_mem_kb(b, "Percpu:", cpu_count * sizeof(struct cpu));
    procfs_printf(b, "HardwareCorrupted: %5lu kB\n", 0ul); /* Linux pads this one so */
    procfs_mem_kb(b, "AnonHugePages:", m.anon_huge);
    static const char *const zero_d[] = { "ShmemHugePages:", "ShmemPmdMapped:", "FileHugePages:",
                                          "FilePmdMapped:" };
    for (size_t i = 0; i < ARRAY_SIZE(zero_d); i++)
        procfs_mem_kb(b, zero_d[i], 0);
    static const char *const hugetlb[] = { "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:",
                                           "HugePages_Surp:" };
    for (size_t i = 0; i < ARRAY_SIZE(hugetlb); i++)
        procfs_printf(b, "%-16s%8u\n", hugetlb[i], 0u);
    procfs_mem_kb(b, "Hugepagesize:", MiB(2));
    procfs_mem_kb(b, "Hugetlb:", 0);
    procfs_mem_directmap(b, m.total);
    return 0;
}

/* ---- stat, uptime, loadavg ---- */

/* Whether the CPU is in its idle thread now (the boot and idle threads are
 * the ones without a stack of their own). */
static bool procfs_cpu_idle_now(unsigned cpu)
{
    const struct thread *t = cpus[cpu] ? READ_ONCE(cpus[cpu]->arch.current) : NULL;
    return t && t->stack_size == 0 && !t->proc && t->pinned_cpu == (int)cpu;
}

/* What each CPU's counters last said: /proc/stat's figures must never go
 * back (top and psutil subtract two samples). The scheduler adds a halt to
 * idle_ns only when it ends, so a CPU halted now is taken to have been idle
 * since the last look, and busy time never shrinks. */
static struct {
    uint64_t busy, idle;
} procfs_cpu_seen[MAX_CPUS];
static spinlock_t procfs_cpu_seen_lock = SPINLOCK_INIT;

static void procfs_cpu_time(unsigned cpu, uint64_t now, uint64_t *busy, uint64_t *idle)
{
    struct sched_cpu_stats s;
    sched_get_cpu_stats(cpu, &s);
    uint64_t raw_busy = now - MIN(s.idle_ns, now);
    bool idle_now = procfs_cpu_idle_now(cpu);
    irqflags_t f = spin_lock(&procfs_cpu_seen_lock);
    uint64_t b = idle_now ? procfs_cpu_seen[cpu].busy : MAX(raw_busy, procfs_cpu_seen[cpu].busy);
    uint64_t i = MAX(now - MIN(b, now), procfs_cpu_seen[cpu].idle);
    procfs_cpu_seen[cpu].busy = b;
    procfs_cpu_seen[cpu].idle = i;
    spin_unlock(&procfs_cpu_seen_lock, f);
    *busy = b;
    *idle = i;
}

/* Application threads: all of them, and those running or runnable. */
static unsigned procfs_count_threads(unsigned *running)
{
    unsigned total = 0, run = 0;
    struct proc *p = READ_ONCE(proc_main);
    if (p) {
        irqflags_t f = spin_lock(&p->lock);
        list_for_each(l, &p->threads) {
            int state = list_entry(l, struct thread, proc_link)->state;
            run += state == THREAD_RUNNING || state == THREAD_RUNNABLE;
            total++;
        }
        spin_unlock(&p->lock, f);
    }
    *running = MAX(run, 1u); /* the reader runs */
    return MAX(total, 1u);
}

static void procfs_stat_cpu_line(struct procfs_buf *b, const char *name, uint64_t busy_ns, uint64_t idle_ns)
{
    /* Time is not split between user and system mode: it all shows as user. */
    procfs_printf(b, "%s %lu 0 0 %lu 0 0 0 0 0 0\n", name, procfs_ticks(busy_ns), procfs_ticks(idle_ns));
}

int procfs_show_stat_system(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    uint64_t now = clock_monotonic_ns(), busy[MAX_CPUS], idle[MAX_CPUS], busy_total = 0, idle_total = 0;
    uint64_t switches = 0;
    for (unsigned i = 0; i < cpu_count; i++) {
        struct sched_cpu_stats s;
        sched_get_cpu_stats(i, &s);
        switches += s.switches;
        procfs_cpu_time(i, now, &busy[i], &idle[i]);
        busy_total += busy[i];
        idle_total += idle[i];
    }
    procfs_stat_cpu_line(b, "cpu ", busy_total, idle_total);
    for (unsigned i = 0; i < cpu_count; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu%u", i);
        procfs_stat_cpu_line(b, name, busy[i], idle[i]);
    }
    unsigned running;
    procfs_count_threads(&running);
    struct proc *p = READ_ONCE(proc_main);
    unsigned created = p ? (unsigned)(READ_ONCE(p->next_tid) - p->pid) : 0;
    uint64_t btime = (clock_realtime_ns() - now) / NSEC_PER_SEC;
    procfs_printf(b, "intr 0\nctxt %lu\nbtime %lu\nprocesses %u\n", switches, btime, created);
    procfs_printf(b, "procs_running %u\nprocs_blocked 0\n", running);
    procfs_puts(b, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    return 0;
}

int procfs_show_uptime(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    uint64_t now = clock_monotonic_ns(), idle = 0;
    for (unsigned i = 0; i < cpu_count; i++) {
        uint64_t busy, cpu_idle;
        procfs_cpu_time(i, now, &busy, &cpu_idle);
        idle += cpu_idle;
    }
    uint64_t up = now / 10000000ull, id = idle / 10000000ull; /* hundredths */
    procfs_printf(b, "%lu.%02lu %lu.%02lu\n", up / 100, up % 100, id / 100, id % 100);
    return 0;
}

/* The load averages are not sampled: they show 0.00. The rest is current. */
int procfs_show_loadavg(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    unsigned running, total = procfs_count_threads(&running);
    struct proc *p = READ_ONCE(proc_main);
    int last = p ? READ_ONCE(p->next_tid) - 1 : 0;
    procfs_printf(b, "0.00 0.00 0.00 %u/%u %d\n", running, total, last);
    return 0;
}

/* ---- the kernel itself ---- */

int procfs_show_version(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "Linux version " UTS_RELEASE " (osprey@osprey) (gcc version " __VERSION__ ") " UTS_VERSION "\n");
    return 0;
}

int procfs_show_filesystems(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    for (const struct vfs_fstype *t = vfs_next_fstype(NULL); t; t = vfs_next_fstype(t))
        procfs_printf(b, "%s\t%s\n", t->nodev ? "nodev" : "", t->name);
    return 0;
}

int procfs_show_cmdline_kernel(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%s\n", boot_info.cmdline);
    return 0;
}

int procfs_show_swaps(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"); /* no swap, ever */
    return 0;
}
