/* /proc/<pid>/status, stat and statm: the fields, order and spacing of
 * Linux 6.1, which ps, top, psutil, the JVM and Go's runtime parse. */
#include "core/cpu.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "exec/stack.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/vm.h"

#define PROCFS_CAP_FULL 0x000001fffffffffful /* capabilities 0..40 (CAP_LAST_CAP of 6.1) */
#define PROCFS_PF_RANDOMIZE 0x00400000        /* what an ordinary exec'd process shows */
#define PROCFS_MAX_NUMNODES 1024              /* the node mask width of distribution kernels */

/* Where the program lies in its address space, as Linux's mm records it. */
struct procfs_layout {
    uint64_t start_code, end_code, start_data, end_data, exe_bytes;
    uint64_t start_stack, arg_start, arg_end, env_start, env_end;
};

static uint64_t procfs_auxv(const struct proc *p, uint64_t type)
{
    for (size_t i = 0; p->auxv && i + 1 < p->auxv_len / 8; i += 2)
        if (p->auxv[i] == type)
            return p->auxv[i + 1];
    return 0;
}

static size_t procfs_count_strings(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; s && i < len; i++)
        n += s[i] == '\0';
    return n;
}

/* The initial stack as exec/stack.c builds it: the strings end where the
 * program path (AT_EXECFN) starts, and argc sits 16-byte aligned below the
 * vector that ends just under the AT_RANDOM bytes. */
static void procfs_stack_layout(const struct proc *p, struct procfs_layout *l)
{
    uint64_t execfn = procfs_auxv(p, AT_EXECFN), random = procfs_auxv(p, AT_RANDOM);
    if (!execfn || !random)
        return;
    l->env_end = execfn;
    l->env_start = execfn - p->environ_len;
    l->arg_end = l->env_start;
    l->arg_start = l->arg_end - p->cmdline_len;
    uint64_t words = 3 + procfs_count_strings(p->cmdline, p->cmdline_len) +
                     procfs_count_strings(p->environ, p->environ_len);
    l->start_stack = ALIGN_DOWN(random - words * 8 - p->auxv_len, (uint64_t)16);
}

/* The program's own mappings: those of the file mapped at the entry point. */
static void procfs_image_layout(const struct proc *p, struct vm_space *vm, struct procfs_layout *l)
{
    uint64_t entry = procfs_auxv(p, AT_ENTRY);
    if (!vm || !entry)
        return;
    mutex_lock(&vm->lock);
    const struct vma *text = vma_find(&vm->vmas, entry);
    const struct vnode *exe = text && text->file ? text->file->vnode : NULL;
    for (const struct vma *v = vma_first(&vm->vmas); exe && v; v = vma_next(v)) {
        if (!v->file || v->file->vnode != exe)
            continue;
        if (!l->start_code)
            l->start_code = v->start;
        if (v->prot & PROT_EXEC) {
            l->end_code = v->end;
            l->exe_bytes += v->end - v->start;
        }
        if ((v->prot & PROT_WRITE) && !l->start_data)
            l->start_data = v->start;
        if (v->prot & PROT_WRITE)
            l->end_data = v->end;
    }
    mutex_unlock(&vm->lock);
}

/* vm: p's space, referenced by the caller (NULL once p has exited). */
static void procfs_layout(const struct proc *p, struct vm_space *vm, struct procfs_layout *l)
{
    memset(l, 0, sizeof(*l));
    procfs_stack_layout(p, l);
    procfs_image_layout(p, vm, l);
}

/* Ignored and caught signals from the process's actions. */
static void procfs_sig_actions(struct proc *p, uint64_t *ign, uint64_t *cgt, uint64_t *shared,
                               unsigned *queued)
{
    *ign = *cgt = *shared = 0;
    *queued = 0;
    struct sighand *sh = p->sighand;
    if (!sh)
        return;
    irqflags_t f = spin_lock(&sh->lock);
    for (int i = 0; i < NSIG; i++) {
        uint64_t h = sh->action[i].handler;
        if (h == SIG_IGN_HANDLER)
            *ign |= 1ull << i;
        else if (h != SIG_DFL_HANDLER)
            *cgt |= 1ull << i;
    }
    *shared = sh->shared.set;
    *queued = sh->queued;
    spin_unlock(&sh->lock, f);
}

/* The thread's name with the escapes Linux uses in status. */
static void procfs_escaped_name(struct procfs_buf *b, const char *name)
{
    for (const char *s = name; *s; s++) {
        if (*s == '\n')
            procfs_puts(b, "\\n");
        else if (*s == '\\')
            procfs_puts(b, "\\\\");
        else
            procfs_putbytes(b, s, 1);
    }
}

static void procfs_kb(struct procfs_buf *b, const char *label, uint64_t bytes)
{
    procfs_printf(b, "%s:\t%8lu kB\n", label, bytes >> 10);
}

static void procfs_status_ids(struct procfs_buf *b, struct proc *p, const struct procfs_task *t)
{
    struct fs_context *fs = proc_fs_get(p);
    uint32_t umask = fs ? READ_ONCE(fs->umask) : 022;
    if (fs)
        fs_context_put(fs);
    procfs_printf(b, "Umask:\t%04o\nState:\t%s\n", umask, procfs_state_name(t->state));
    struct proc_ids ids;
    proc_get_ids(p, &ids);
    procfs_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p->pid, t->tid, ids.ppid);
    procfs_printf(b, "Uid:\t%u\t%u\t%u\t%u\n", p->uid, p->euid, p->suid, p->euid);
    procfs_printf(b, "Gid:\t%u\t%u\t%u\t%u\n", p->gid, p->egid, p->sgid, p->egid);
    struct fd_table *files = proc_files_get(p);
    unsigned fdsize = files ? MAX(READ_ONCE(files->size), 64u) : 64;
    if (files)
        fd_table_put(files);
    procfs_printf(b, "FDSize:\t%u\nGroups:\t", fdsize);
    for (unsigned i = 0; i < p->ngroups && i < PROC_MAX_GROUPS; i++)
        procfs_printf(b, "%s%u", i ? " " : "", p->groups[i]);
    procfs_printf(b, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p->pid, t->tid, ids.pgid,
                  ids.sid);
}

static void procfs_status_memory(struct procfs_buf *b, struct proc *p)
{
    struct vm_stats vs = { 0 };
    struct procfs_layout l;
    struct vm_space *vm = proc_vm_get(p);
    if (vm)
        vm_get_stats(vm, &vs);
    procfs_layout(p, vm, &l);
    vm_space_put(vm);
    uint64_t exe = MIN(l.exe_bytes, vs.exec);
    procfs_kb(b, "VmPeak", vs.peak_size);
    procfs_kb(b, "VmSize", vs.size);
    procfs_kb(b, "VmLck", vs.locked);
    procfs_kb(b, "VmPin", 0);
    procfs_kb(b, "VmHWM", vs.peak_rss);
    procfs_kb(b, "VmRSS", vs.rss);
    procfs_kb(b, "RssAnon", vs.rss_anon);
    procfs_kb(b, "RssFile", vs.rss_file);
    procfs_kb(b, "RssShmem", 0);
    procfs_kb(b, "VmData", vs.data);
    procfs_kb(b, "VmStk", vs.stack);
    procfs_kb(b, "VmExe", exe);
    procfs_kb(b, "VmLib", vs.exec - exe);
    procfs_kb(b, "VmPTE", 0);
    procfs_kb(b, "VmSwap", 0);
    procfs_kb(b, "HugetlbPages", 0);
}

static void procfs_status_signals(struct procfs_buf *b, struct proc *p, const struct procfs_task *t,
                                  unsigned nthreads)
{
    uint64_t ign, cgt, shared;
    unsigned queued;
    procfs_sig_actions(p, &ign, &cgt, &shared, &queued);
    procfs_printf(b, "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t%u\n", nthreads);
    procfs_printf(b, "SigQ:\t%u/%lu\n", queued, p->rlimits[PROC_RLIMIT_SIGPENDING].cur);
    procfs_printf(b, "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n", t->sig_pending, shared,
                  t->sig_blocked);
    procfs_printf(b, "SigIgn:\t%016lx\nSigCgt:\t%016lx\n", ign, cgt);
    procfs_printf(b, "CapInh:\t%016lx\nCapPrm:\t%016lx\nCapEff:\t%016lx\nCapBnd:\t%016lx\nCapAmb:\t%016lx\n",
                  0ul, PROCFS_CAP_FULL, PROCFS_CAP_FULL, PROCFS_CAP_FULL, 0ul);
    procfs_printf(b, "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", p->no_new_privs ? 1 : 0);
    procfs_puts(b, "Speculation_Store_Bypass:\tunknown\nSpeculationIndirectBranch:\tunknown\n");
}

int procfs_show_status(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    struct procfs_task t;
    if (!procfs_task_get(p, n->tid, n->whole, &t))
        return -ESRCH;
    unsigned nthreads = procfs_proc_threads(p);
    procfs_puts(b, "Name:\t");
    procfs_escaped_name(b, t.name);
    procfs_puts(b, "\n");
    procfs_status_ids(b, p, &t);
    procfs_status_memory(b, p);
    procfs_status_signals(b, p, &t, nthreads);
    uint64_t cpus = procfs_cpu_mask(t.allowed_cpus);
    procfs_puts(b, "Cpus_allowed:\t");
    procfs_bitmap(b, cpus, cpu_count);
    procfs_puts(b, "\nCpus_allowed_list:\t");
    procfs_cpu_list(b, cpus);
    procfs_puts(b, "\nMems_allowed:\t");
    procfs_bitmap(b, 1, PROCFS_MAX_NUMNODES);
    procfs_puts(b, "\nMems_allowed_list:\t0\n");
    /* the thread's own switches (the first thread's for the process), as Linux */
    procfs_printf(b, "voluntary_ctxt_switches:\t%lu\nnonvoluntary_ctxt_switches:\t0\n", t.switches);
    return 0;
}

/* stat: 52 space-separated fields (proc_pid_stat(5)); times in clock ticks. */
static void procfs_stat_fields(struct procfs_buf *b, const struct procfs_node *n, struct proc *p,
                               const struct procfs_task *t, unsigned nthreads)
{
    struct vm_stats vs = { 0 };
    struct procfs_layout l;
    struct vm_space *vm = proc_vm_get(p);
    if (vm)
        vm_get_stats(vm, &vs);
    procfs_layout(p, vm, &l);
    uint64_t ign, cgt, shared;
    unsigned queued;
    procfs_sig_actions(p, &ign, &cgt, &shared, &queued);
    uint64_t cpu_ns = n->whole ? proc_cpu_time_ns(p) : t->runtime_ns;
    const char *state = procfs_state_name(t->state);
    struct proc_ids ids;
    proc_get_ids(p, &ids);
    procfs_printf(b, "%d (%s) %c %d %d %d 0 -1 %u ", t->tid, t->name, state[0], ids.ppid, ids.pgid, ids.sid,
                  PROCFS_PF_RANDOMIZE);
    procfs_printf(b, "%lu 0 0 0 %lu 0 0 0 ", vs.faults, procfs_ticks(cpu_ns));
    procfs_printf(b, "%d %d %u 0 %lu ", 20 + p->nice, p->nice, nthreads, procfs_ticks(p->start_time_ns));
    procfs_printf(b, "%lu %lu %lu ", vs.size, vs.rss >> 12, p->rlimits[PROC_RLIMIT_RSS].cur);
    procfs_printf(b, "%lu %lu %lu 0 0 ", l.start_code, l.end_code, l.start_stack);
    /* obsolete decimal signal sets: only the first 31 signals, as Linux */
    procfs_printf(b, "%lu %lu %lu %lu ", t->sig_pending & 0x7fffffff, t->sig_blocked & 0x7fffffff,
                  ign & 0x7fffffff, cgt & 0x7fffffff);
    procfs_printf(b, "%d 0 0 %d %d %d %d 0 0 0 ", t->state == THREAD_BLOCKED ? 1 : 0,
                  t->tid == p->pid ? SIGCHLD : -1, t->cpu, t->sched_priority, t->sched_policy);
    uint64_t brk_start = vm ? vm->brk_start : 0;
    vm_space_put(vm);
    procfs_printf(b, "%lu %lu %lu %lu %lu %lu %lu 0\n", l.start_data, l.end_data, brk_start,
                  l.arg_start, l.arg_end, l.env_start, l.env_end);
}

int procfs_show_stat(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    struct procfs_task t;
    if (!procfs_task_get(p, n->tid, n->whole, &t))
        return -ESRCH;
    procfs_stat_fields(b, n, p, &t, procfs_proc_threads(p));
    return 0;
}

/* statm: pages of size, resident, shared, text, lib (0), data + stack, dirty (0). */
int procfs_show_statm(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    struct vm_stats vs = { 0 };
    struct procfs_layout l;
    struct vm_space *vm = proc_vm_get(p);
    if (vm)
        vm_get_stats(vm, &vs);
    procfs_layout(p, vm, &l);
    vm_space_put(vm);
    procfs_printf(b, "%lu %lu %lu %lu 0 %lu 0\n", vs.size >> 12, vs.rss >> 12, vs.rss_file >> 12,
                  MIN(l.exe_bytes, vs.exec) >> 12, (vs.data + vs.stack) >> 12);
    return 0;
}
