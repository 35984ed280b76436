/* /proc/<pid>/ and /proc/<pid>/task/<tid>/: which processes and threads
 * exist, the tables of their entries, and the small per-process files
 * (comm, cmdline, environ, auxv, limits, cgroup, oom_score_adj...). */
#include "core/cpu.h"
#include "core/proc.h"
#include "core/thread.h"
#include "fs/fdtable.h"
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"
#include "mm/vm.h"

/* ---- processes and threads ---- */

/* Every process lookup of procfs goes through these two, so that what
 * /proc may hold across a call is one reference. */
struct proc *procfs_proc_get(int pid)
{
    return proc_find(pid);
}

void procfs_proc_put(struct proc *p)
{
    if (p)
        proc_put(p);
}

static bool procfs_fd_open(struct proc *p, int fd)
{
    struct fd_table *t = proc_files_get(p);
    struct file *f = t ? fd_get(t, fd) : NULL;
    if (t)
        fd_table_put(t);
    vfs_file_put(f);
    return f != NULL;
}

bool procfs_node_alive(const struct procfs_node *n)
{
    if (n->pid == 0)
        return true;
    struct proc *p = procfs_proc_get(n->pid);
    if (!p)
        return false;
    /* the process directory outlives its first thread; a thread's does not */
    bool leader_dir = n->whole && n->tid == p->pid;
    bool alive = leader_dir ? READ_ONCE(p->nthreads) != 0 : proc_find_thread(p, n->tid) != NULL;
    alive = alive && (n->fd < 0 || procfs_fd_open(p, n->fd));
    procfs_proc_put(p);
    return alive;
}

static void procfs_task_copy(const struct thread *t, struct procfs_task *out)
{
    memset(out, 0, sizeof(*out));
    strlcpy(out->name, t->name, sizeof(out->name));
    out->tid = t->utid;
    out->state = t->state;
    out->cpu = t->cpu;
    out->sched_policy = t->sched_policy;
    out->sched_priority = t->sched_priority;
    out->runtime_ns = t->runtime_ns;
    out->switches = t->switches;
    out->allowed_cpus = t->allowed_cpus;
    out->sig_blocked = t->sig_blocked;
    out->sig_pending = t->sigpend.set;
}

bool procfs_task_get(struct proc *p, int tid, bool whole, struct procfs_task *out)
{
    const struct thread *found = NULL;
    irqflags_t f = spin_lock(&p->lock);
    list_for_each(n, &p->threads) {
        const struct thread *t = list_entry(n, struct thread, proc_link);
        if (t->utid == tid || (whole && !found))
            found = t;
        if (t->utid == tid)
            break;
    }
    if (found)
        procfs_task_copy(found, out);
    spin_unlock(&p->lock, f);
    if (found && whole)
        out->tid = tid;
    return found != NULL;
}

unsigned procfs_proc_threads(struct proc *p)
{
    unsigned count = 0;
    irqflags_t f = spin_lock(&p->lock);
    list_for_each(n, &p->threads)
        count++;
    spin_unlock(&p->lock, f);
    return count;
}

const char *procfs_state_name(int state)
{
    switch (state) {
    case THREAD_BLOCKED:
        return "S (sleeping)";
    case THREAD_DEAD:
        return "X (dead)";
    default:
        return "R (running)";
    }
}

uint64_t procfs_cpu_mask(uint64_t allowed)
{
    uint64_t online = cpu_count >= 64 ? ~0ull : (1ull << cpu_count) - 1;
    return allowed ? allowed & online : online;
}

/* The smallest thread id >= from (task/ listing), or -1. */
static int procfs_next_tid(struct proc *p, int from)
{
    int best = -1;
    irqflags_t f = spin_lock(&p->lock);
    list_for_each(n, &p->threads) {
        int tid = list_entry(n, struct thread, proc_link)->utid;
        if (tid >= from && (best < 0 || tid < best))
            best = tid;
    }
    spin_unlock(&p->lock, f);
    return best;
}

/* ---- numbered children: /proc/<pid>, task/<tid> ---- */

struct procfs_next_pid {
    int from, best;
};

/* Processes with a live thread are listed (zombies are not, unlike Linux:
 * their memory and files are gone already). */
static bool procfs_next_pid_step(struct proc *p, void *ctx)
{
    struct procfs_next_pid *c = ctx;
    if (p->pid >= c->from && (c->best < 0 || p->pid < c->best) && READ_ONCE(p->nthreads))
        c->best = p->pid;
    return true;
}

int procfs_root_next_id(const struct procfs_node *dir, int from)
{
    (void)dir;
    struct procfs_next_pid c = { from, -1 };
    proc_for_each(procfs_next_pid_step, &c);
    return c.best;
}

/* Like Linux, /proc/<tid> of any thread resolves though only leaders are listed. */
bool procfs_root_has_id(const struct procfs_node *dir, int id)
{
    (void)dir;
    struct proc *p = proc_find_by_tid(id);
    bool found = p && (id == p->pid ? READ_ONCE(p->nthreads) != 0 : proc_find_thread(p, id) != NULL);
    procfs_proc_put(p);
    return found;
}

void procfs_root_enter_id(struct procfs_node *child, int id)
{
    struct proc *p = proc_find_by_tid(id);
    child->pid = p ? p->pid : id;
    child->tid = id;
    child->whole = true;
    procfs_proc_put(p);
}

static int procfs_task_next_id(const struct procfs_node *dir, int from)
{
    struct proc *p = procfs_proc_get(dir->pid);
    int id = p ? procfs_next_tid(p, from) : -1;
    procfs_proc_put(p);
    return id;
}

static bool procfs_task_has_id(const struct procfs_node *dir, int id)
{
    struct proc *p = procfs_proc_get(dir->pid);
    bool found = p && proc_find_thread(p, id) != NULL;
    procfs_proc_put(p);
    return found;
}

static void procfs_task_enter_id(struct procfs_node *child, int id)
{
    child->tid = id;
    child->whole = false;
}

/* ---- small per-process files ---- */

static int procfs_show_bytes(struct procfs_buf *b, const void *p, size_t len)
{
    if (p)
        procfs_putbytes(b, p, len);
    return 0;
}

static int procfs_show_cmdline(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_bytes(b, p->cmdline, p->cmdline_len);
}

static int procfs_show_environ(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_bytes(b, p->environ, p->environ_len);
}

static int procfs_show_auxv(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_bytes(b, p->auxv, p->auxv_len);
}

static int procfs_show_comm(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    struct procfs_task t;
    if (!procfs_task_get(p, n->tid, n->whole, &t))
        return -ESRCH;
    procfs_printf(b, "%s\n", t.name);
    return 0;
}

/* Linux keeps the first 15 bytes as written, a newline included. */
static int procfs_store_comm(const struct procfs_node *n, struct proc *p, const char *data, size_t len)
{
    char name[16];
    len = MIN(len, sizeof(name) - 1);
    memcpy(name, data, len);
    name[len] = '\0';
    irqflags_t f = spin_lock(&p->lock);
    list_for_each(l, &p->threads) {
        struct thread *t = list_entry(l, struct thread, proc_link);
        if (t->utid == n->tid) {
            strlcpy(t->name, name, sizeof(name));
            break;
        }
    }
    spin_unlock(&p->lock, f);
    return 0;
}

static const struct {
    const char *name, *unit;
} procfs_limit_names[PROC_RLIMIT_COUNT] = {
    { "Max cpu time", "seconds" },      { "Max file size", "bytes" },
    { "Max data size", "bytes" },       { "Max stack size", "bytes" },
    { "Max core file size", "bytes" },  { "Max resident set", "bytes" },
    { "Max processes", "processes" },   { "Max open files", "files" },
    { "Max locked memory", "bytes" },   { "Max address space", "bytes" },
    { "Max file locks", "locks" },      { "Max pending signals", "signals" },
    { "Max msgqueue size", "bytes" },   { "Max nice priority", NULL },
    { "Max realtime priority", NULL },  { "Max realtime timeout", "us" },
};

static void procfs_limit_value(struct procfs_buf *b, uint64_t v)
{
    if (v == ~0ull)
        procfs_printf(b, "%-20s ", "unlimited");
    else
        procfs_printf(b, "%-20lu ", v);
}

/* limits: proc(5)'s table of fixed-width columns. */
static int procfs_show_limits(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (unsigned i = 0; i < PROC_RLIMIT_COUNT; i++) {
        struct rlimit64 r = p->rlimits[i];
        procfs_printf(b, "%-25s ", procfs_limit_names[i].name);
        procfs_limit_value(b, r.cur);
        procfs_limit_value(b, r.max);
        if (procfs_limit_names[i].unit)
            procfs_printf(b, "%-10s", procfs_limit_names[i].unit);
        procfs_puts(b, "\n");
    }
    return 0;
}

static int procfs_show_cgroup(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "0::/\n"); /* cgroup v2, the root group: no limits to find */
    return 0;
}

/* One process: the OOM killer's adjustment is kept here, as nothing else reads it. */
static int procfs_oom_adj = 0;

static int procfs_show_oom_score_adj(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%d\n", READ_ONCE(procfs_oom_adj));
    return 0;
}

static int procfs_store_oom_score_adj(const struct procfs_node *n, const char *data, size_t len)
{
    (void)n, (void)len;
    long v;
    if (procfs_parse_int(data, &v) || v < -1000 || v > 1000)
        return -EINVAL;
    WRITE_ONCE(procfs_oom_adj, (int)v);
    return 0;
}

/* Linux's badness: the share of RAM in use, in thousandths, plus the adjustment. */
static int procfs_show_oom_score(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    struct vm_stats vs = { 0 };
    struct vm_space *vm = proc_vm_get(p);
    if (vm)
        vm_get_stats(vm, &vs);
    vm_space_put(vm);
    struct phys_stats ps;
    phys_get_stats(&ps);
    long score = ps.total_pages ? (long)((vs.rss >> 12) * 1000 / ps.total_pages) : 0;
    score += READ_ONCE(procfs_oom_adj);
    procfs_printf(b, "%ld\n", score < 0 ? 0 : score > 2000 ? 2000 : score);
    return 0;
}

static int procfs_show_loginuid(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "4294967295"); /* never set: (uid_t)-1, and no newline, as Linux */
    return 0;
}

static int procfs_show_personality(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%08x\n", p->personality);
    return 0;
}

/* schedstat: time on CPU (ns), time waiting (not measured), timeslices. */
static int procfs_show_schedstat(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    struct procfs_task t;
    if (!procfs_task_get(p, n->tid, n->whole, &t))
        return -ESRCH;
    procfs_printf(b, "%lu 0 %lu\n", n->whole ? proc_cpu_time_ns(p) : t.runtime_ns, t.switches);
    return 0;
}

/* ---- the tables ---- */

static const struct procfs_dir procfs_task_dir;

static const struct procfs_entry procfs_pid_entries[] = {
    PROCFS_PROC_FILE("auxv", 0400, procfs_show_auxv),
    PROCFS_FILE_RO("cgroup", procfs_show_cgroup),
    PROCFS_PROC_FILE("cmdline", 0444, procfs_show_cmdline),
    PROCFS_PROC_RW("comm", procfs_show_comm, procfs_store_comm),
    PROCFS_PROC_LINK("cwd", procfs_link_cwd),
    PROCFS_PROC_FILE("environ", 0400, procfs_show_environ),
    PROCFS_PROC_LINK("exe", procfs_link_exe),
    { .name = "fd", .mode = 0500, .type = PROCFS_DIR, .dir = &procfs_fd_dir },
    PROCFS_DIR("fdinfo", procfs_fdinfo_dir),
    PROCFS_PROC_FILE("limits", 0444, procfs_show_limits),
    PROCFS_FILE_RW("loginuid", procfs_show_loginuid, NULL),
    PROCFS_PROC_FILE("maps", 0444, procfs_show_maps),
    PROCFS_PROC_FILE("mountinfo", 0444, procfs_show_mountinfo),
    PROCFS_PROC_FILE("mounts", 0444, procfs_show_mounts),
    PROCFS_PROC_FILE("oom_score", 0444, procfs_show_oom_score),
    PROCFS_FILE_RW("oom_score_adj", procfs_show_oom_score_adj, procfs_store_oom_score_adj),
    PROCFS_PROC_FILE("personality", 0400, procfs_show_personality),
    PROCFS_PROC_LINK("root", procfs_link_root),
    PROCFS_PROC_FILE("schedstat", 0444, procfs_show_schedstat),
    PROCFS_PROC_FILE("smaps", 0444, procfs_show_smaps),
    PROCFS_PROC_FILE("smaps_rollup", 0444, procfs_show_smaps_rollup),
    PROCFS_PROC_FILE("stat", 0444, procfs_show_stat),
    PROCFS_PROC_FILE("statm", 0444, procfs_show_statm),
    PROCFS_PROC_FILE("status", 0444, procfs_show_status),
    { .name = "task", .mode = 0555, .type = PROCFS_DIR, .flags = PROCFS_TGID_ONLY,
      .dir = &procfs_task_dir },
};

static const struct procfs_dir procfs_pid_dir = { PROCFS_TABLE(procfs_pid_entries) };

const struct procfs_entry procfs_pid_entry = PROCFS_DIR("pid", procfs_pid_dir);

static const struct procfs_dir procfs_task_dir = {
    .numbered = &procfs_pid_entry,
    .next_id = procfs_task_next_id,
    .has_id = procfs_task_has_id,
    .enter_id = procfs_task_enter_id,
};
