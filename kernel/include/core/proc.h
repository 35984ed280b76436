/* The application process: one thread group sharing an address space, a file
 * descriptor table, a filesystem context (root, cwd, umask) and signal
 * handlers. Osprey runs one application, so there is one process, but nothing
 * here assumes it: a future fork would make a second. */
#pragma once

#include "arch/spinlock.h"
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

struct proc {
    int pid;
    int next_tid;                 /* thread ids the application sees: pid, pid+1, ... */
    spinlock_t lock;              /* threads list, counters, exit state */
    struct list_node threads;     /* struct thread.proc_link */
    unsigned nthreads;            /* live threads */
    bool exiting;                 /* exit_group or a fatal signal began */
    int exit_status;              /* the VM's exit status once exiting */

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

/* The application, once exec has started it (NULL before). */
extern struct proc *proc_main;

/* The process of the running thread, or NULL in a kernel thread. */
struct proc *proc_current(void);
/* A process with no threads, address space or files yet. */
struct proc *proc_create(int pid);
int proc_alloc_tid(struct proc *p);
/* The live thread with that id, or NULL. The pointer stays valid only while
 * the thread cannot exit (the caller is that thread, or holds it otherwise). */
struct thread *proc_find_thread(struct proc *p, int tid);
/* CPU time of every thread, live and gone. */
uint64_t proc_cpu_time_ns(struct proc *p);
/* CPU time of one thread, including the slice it is running now. */
uint64_t thread_cpu_time_ns(const struct thread *t);
