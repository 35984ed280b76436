/* Processes: creation, ids, the process table and tree, and the limits a
 * process carries. Freed when the last reference goes (a zombie holds one
 * until its parent waits for it). */
#include "core/proc.h"
#include "core/clock.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "mm/vm.h"

struct proc *proc_main;

#define PID_MAX 4194304 /* Linux's pid_max on 64-bit */

static spinlock_t table_lock = SPINLOCK_INIT;
static struct list_node all_procs = LIST_INIT(all_procs);
static int next_id = 1;

irqflags_t proc_table_lock(void)
{
    return spin_lock(&table_lock);
}

void proc_table_unlock(irqflags_t f)
{
    spin_unlock(&table_lock, f);
}

int proc_last_id(void)
{
    return __atomic_load_n(&next_id, __ATOMIC_RELAXED) - 1;
}

/* Ids are not reused (a wrap at PID_MAX is where reuse would start), so a
 * stale id can never name a newer process or thread. */
static int alloc_id(void)
{
    int id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    return id < PID_MAX ? id : -1;
}

struct proc *proc_current(void)
{
    struct thread *t = thread_current();
    return t ? t->proc : NULL;
}

#define RLIM_INFINITY (~0ull)

static void proc_default_rlimits(struct proc *p)
{
    for (unsigned i = 0; i < PROC_RLIMIT_COUNT; i++)
        p->rlimits[i] = (struct rlimit64){ RLIM_INFINITY, RLIM_INFINITY };
    p->rlimits[PROC_RLIMIT_STACK] = (struct rlimit64){ PROC_STACK_SIZE, RLIM_INFINITY };
    p->rlimits[PROC_RLIMIT_CORE] = (struct rlimit64){ 0, RLIM_INFINITY };
    p->rlimits[PROC_RLIMIT_NOFILE] = (struct rlimit64){ PROC_NOFILE, PROC_NOFILE_MAX };
    p->rlimits[PROC_RLIMIT_NPROC] = (struct rlimit64){ 4096, 4096 };
    p->rlimits[PROC_RLIMIT_SIGPENDING] = (struct rlimit64){ 4096, 4096 };
    p->rlimits[PROC_RLIMIT_MEMLOCK] = (struct rlimit64){ 8ull << 20, 8ull << 20 };
    p->rlimits[PROC_RLIMIT_MSGQUEUE] = (struct rlimit64){ 819200, 819200 };
}

struct proc *proc_create(void)
{
    struct proc *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->pid = alloc_id();
    if (p->pid < 0) {
        kfree(p);
        return NULL;
    }
    p->refs = 1; /* the table's, dropped when the process is reaped */
    p->pgid = p->sid = p->pid;
    spin_init(&p->lock);
    list_init(&p->threads);
    list_init(&p->ptimers);
    list_init(&p->children);
    waitq_init(&p->child_wq);
    waitq_init(&p->thread_wq);
    proc_default_rlimits(p);
    p->start_time_ns = clock_monotonic_ns();
    p->dumpable = 1;
    irqflags_t f = proc_table_lock();
    list_add_tail(&all_procs, &p->all_link);
    spin_unlock(&table_lock, f);
    p->next_tid = next_id;
    return p;
}

int proc_alloc_tid(struct proc *p)
{
    int id = alloc_id();
    p->next_tid = next_id;
    return id;
}

void proc_get(struct proc *p)
{
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void proc_free(struct proc *p);

void proc_put(struct proc *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
        proc_free(p);
}

struct proc *proc_find(int pid)
{
    struct proc *found = NULL;
    irqflags_t f = proc_table_lock();
    for (struct list_node *n = all_procs.next; n != &all_procs; n = n->next) {
        struct proc *p = list_entry(n, struct proc, all_link);
        if (p->pid == pid) {
            found = p;
            proc_get(p);
            break;
        }
    }
    proc_table_unlock(f);
    return found;
}

static bool has_thread(struct proc *p, int tid)
{
    bool found = false;
    spin_lock_raw(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads && !found; n = n->next)
        found = list_entry(n, struct thread, proc_link)->utid == tid;
    spin_unlock_raw(&p->lock);
    return found;
}

struct proc *proc_find_by_tid(int tid)
{
    struct proc *found = NULL;
    irqflags_t f = proc_table_lock();
    for (struct list_node *n = all_procs.next; n != &all_procs && !found; n = n->next) {
        struct proc *p = list_entry(n, struct proc, all_link);
        if (p->pid == tid || (p->state == PROC_LIVE && has_thread(p, tid))) {
            found = p;
            proc_get(p);
        }
    }
    proc_table_unlock(f);
    return found;
}

void proc_for_each(bool (*fn)(struct proc *p, void *ctx), void *ctx)
{
    irqflags_t f = proc_table_lock();
    for (struct list_node *n = all_procs.next; n != &all_procs; n = n->next)
        if (!fn(list_entry(n, struct proc, all_link), ctx))
            break;
    proc_table_unlock(f);
}

/* Off the table (the process has been reaped); called with the table lock. */
void proc_unlink_locked(struct proc *p)
{
    list_remove(&p->all_link);
    if (p->parent)
        list_remove(&p->sibling);
    p->parent = NULL;
}

struct thread *proc_find_thread(struct proc *p, int tid)
{
    struct thread *found = NULL;
    irqflags_t f = spin_lock(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *t = list_entry(n, struct thread, proc_link);
        if (t->utid == tid) {
            found = t;
            break;
        }
    }
    spin_unlock(&p->lock, f);
    return found;
}

/* p->lock orders these with each other, so a reader's reference is taken
 * before the last one can go. */
struct vm_space *proc_vm_get(struct proc *p)
{
    irqflags_t f = spin_lock(&p->lock);
    struct vm_space *vm = p->vm ? vm_space_get(p->vm) : NULL;
    spin_unlock(&p->lock, f);
    return vm;
}

struct vm_space *proc_vm_set(struct proc *p, struct vm_space *vm)
{
    irqflags_t f = spin_lock(&p->lock);
    struct vm_space *old = p->vm;
    p->vm = vm;
    spin_unlock(&p->lock, f);
    return old;
}

struct fd_table *proc_files_get(struct proc *p)
{
    irqflags_t f = spin_lock(&p->lock);
    struct fd_table *t = p->files ? fd_table_get(p->files) : NULL;
    spin_unlock(&p->lock, f);
    return t;
}

struct fs_context *proc_fs_get(struct proc *p)
{
    irqflags_t f = spin_lock(&p->lock);
    struct fs_context *fs = p->fs ? fs_context_get(p->fs) : NULL;
    spin_unlock(&p->lock, f);
    return fs;
}

void proc_get_ids(struct proc *p, struct proc_ids *out)
{
    irqflags_t f = proc_table_lock();
    out->ppid = p->parent ? p->parent->pid : 0;
    out->pgid = p->pgid;
    out->sid = p->sid;
    proc_table_unlock(f);
}
