/* Processes: thread groups sharing an address space, a file descriptor table,
 * a filesystem context (root, cwd, umask) and signal handlers. The first one
 * (pid 1) is the application; it may start others (fork, vfork, posix_spawn),
 * and the VM ends when pid 1 does. Process and thread ids share one space,
 * as on Linux: a process's id is its first thread's. */
#pragma once

#include "arch/spinlock.h"
#include "core/waitq.h"
#include "lib/list.h"
#include "lib/types.h"

struct vm_space;    /* mm/vm.h */
struct fd_table;    /* fs/fdtable.h */
struct fs_context;  /* fs/fs_context.h */
struct sighand;     /* core/signal.h */
struct ptimer;      /* core/sys_timer.c */
struct thread;

#define PROC_RLIMIT_COUNT 16
/* RLIMIT_* numbers, as Linux */
#define PROC_RLIMIT_CPU 0
#define PROC_RLIMIT_FSIZE 1
#define PROC_RLIMIT_DATA 2
#define PROC_RLIMIT_STACK 3
#define PROC_RLIMIT_CORE 4
#define PROC_RLIMIT_RSS 5
#define PROC_RLIMIT_NPROC 6
#define PROC_RLIMIT_NOFILE 7
#define PROC_RLIMIT_MEMLOCK 8
#define PROC_RLIMIT_AS 9
#define PROC_RLIMIT_LOCKS 10
#define PROC_RLIMIT_SIGPENDING 11
#define PROC_RLIMIT_MSGQUEUE 12
#define PROC_RLIMIT_NICE 13
#define PROC_RLIMIT_RTPRIO 14
#define PROC_RLIMIT_RTTIME 15

#define PROC_STACK_SIZE (8ull << 20) /* the main thread's stack, as Linux's default limit */
#define PROC_NOFILE 1024
#define PROC_NOFILE_MAX 524288
#define PROC_MAX_GROUPS 64
#define PROC_SIGPENDING_MAX 4096      /* RLIMIT_SIGPENDING */

struct rlimit64 {
    uint64_t cur, max;
};

enum proc_state {
    PROC_LIVE,
    PROC_ZOMBIE,                  /* exited; its parent has not waited for it yet */
};

struct proc {
    int pid;
    int next_tid;                 /* the next id to be handed out anywhere (for /proc) */
    spinlock_t lock;              /* threads list, counters, exit state */
    struct list_node threads;     /* struct thread.proc_link */
    unsigned nthreads;            /* live threads */
    bool exiting;                 /* exit_group or a fatal signal began */
    struct thread *exit_leader;   /* the thread that began the group exit or exec */
    bool zap_others;              /* an exec wants the other threads gone */
    struct waitq thread_wq;       /* woken as threads leave (exec waits to be alone) */

    /* The process tree, under the table lock (proc.c). */
    int refs;
    struct proc *parent;
    struct list_node children;    /* struct proc.sibling */
    struct list_node sibling;
    struct list_node all_link;
    int pgid, sid;
    int exit_signal;              /* sent to the parent at exit (SIGCHLD, or 0) */
    enum proc_state state;
    int wait_status;              /* as wait4 reports it: exit code << 8, or the signal */
    struct waitq child_wq;        /* this process waiting for its children */
    struct waitq *vfork_wq;       /* a vfork parent waiting for this child to exec or exit */
    volatile bool vfork_done;

    struct vm_space *vm;
    struct fd_table *files;
    struct fs_context *fs;
    struct sighand *sighand;

    uint32_t uid, euid, suid, gid, egid, sgid; /* root; set*id calls record changes */
    uint32_t groups[PROC_MAX_GROUPS];
    unsigned ngroups;
    unsigned personality;
    int nice;
    int ioprio;
    int pdeathsig, dumpable, keepcaps;
    bool no_new_privs;
    uint64_t dead_threads_ns;     /* CPU time of threads that have exited */
    struct ptimer *itimers[3];    /* ITIMER_REAL, _VIRTUAL, _PROF, made on first use */
    struct list_node ptimers;     /* timer_create's timers */
    unsigned nptimers;
    int next_ptimer_id;
    struct rlimit64 rlimits[PROC_RLIMIT_COUNT];

    /* What /proc/self shows: copies made at exec. */
    char *exe_path;
    char *cmdline;                /* argv strings, each NUL-terminated */
    size_t cmdline_len;
    char *environ;
    size_t environ_len;
    uint64_t *auxv;               /* AT_* pairs, ending with AT_NULL */
    size_t auxv_len;              /* bytes */
    uint64_t start_time_ns;       /* monotonic, for /proc/self/stat */
};

/* The application (pid 1), once exec has started it (NULL before). */
extern struct proc *proc_main;

/* The process of the running thread, or NULL in a kernel thread. */
struct proc *proc_current(void);
/* A process with no threads, address space or files yet, with a fresh pid
 * (1 for the first), in the process table; NULL when out of memory or ids. */
struct proc *proc_create(void);
/* A new id for a thread, from the space process ids come from. */
int proc_alloc_tid(struct proc *p);
/* The process with this pid (a zombie too), with a reference; NULL if none. */
struct proc *proc_find(int pid);
void proc_get(struct proc *p);
void proc_put(struct proc *p);
/* The live process one of whose threads has this id, with a reference. */
struct proc *proc_find_by_tid(int tid);
/* Call fn for every process (table lock held: fn must not sleep) until it returns false. */
void proc_for_each(bool (*fn)(struct proc *p, void *ctx), void *ctx);
/* p's address space with a reference (vm_space_put it); NULL once p has
 * exited. For readers that are not p's own threads (/proc). */
struct vm_space *proc_vm_get(struct proc *p);
/* p's parent, group and session, read together under the table lock. */
struct proc_ids {
    int ppid, pgid, sid;
};
void proc_get_ids(struct proc *p, struct proc_ids *out);
/* The same for p's descriptor table and filesystem context (put them with
 * fd_table_put, fs_context_put). */
struct fd_table *proc_files_get(struct proc *p);
struct fs_context *proc_fs_get(struct proc *p);
/* Make vm p's space (exec, exit: NULL); the old one is returned with the
 * reference p held. */
struct vm_space *proc_vm_set(struct proc *p, struct vm_space *vm);
/* The table lock guards the tree (parent, children, state, pgid/sid). */
irqflags_t proc_table_lock(void);
void proc_table_unlock(irqflags_t f);
/* The VM's exit status for a wait status (pid 1): the code, or 128 + signal. */
static inline int proc_vm_status(int wait_status)
{
    return (wait_status & 0x7f) ? 128 + (wait_status & 0x7f) : (wait_status >> 8) & 0xff;
}
/* The last thread of p is leaving: release what p holds, become a zombie
 * for the parent (or end the VM for pid 1). */
void proc_exit(struct proc *p);
/* A vfork parent may go on: the child exec'd or exited. */
void proc_vfork_release(struct proc *p);
/* Ids handed out so far (for /proc/stat's "processes" and /proc/loadavg). */
int proc_last_id(void);
/* The live thread with that id, or NULL. The pointer stays valid only while
 * the thread cannot exit (the caller is that thread, or holds it otherwise). */
struct thread *proc_find_thread(struct proc *p, int tid);
/* CPU time of every thread, live and gone. */
uint64_t proc_cpu_time_ns(struct proc *p);
/* CPU time of one thread, including the slice it is running now. */
uint64_t thread_cpu_time_ns(const struct thread *t);
