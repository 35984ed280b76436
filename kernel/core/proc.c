/* The application process: creation and the ids and limits it carries. */
#include "core/proc.h"
#include "core/clock.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct proc *proc_main;

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

struct proc *proc_create(int pid)
{
    struct proc *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->pid = pid;
    p->next_tid = pid + 1;
    spin_init(&p->lock);
    list_init(&p->threads);
    list_init(&p->ptimers);
    proc_default_rlimits(p);
    p->start_time_ns = clock_monotonic_ns();
    p->dumpable = 1;
    return p;
}

int proc_alloc_tid(struct proc *p)
{
    return __atomic_fetch_add(&p->next_tid, 1, __ATOMIC_RELAXED);
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
