/* Kernel threads: creation, exit and join, sleeping, waking. Application
 * threads will be kernel threads that also have a user context. */
#pragma once

#include "arch/uthread.h"
#include "core/signal.h"
#include "core/timer.h"
#include "core/waitq.h"
#include "lib/list.h"
#include "lib/rbtree.h"
#include "lib/types.h"

#define THREAD_NAME_MAX 24
#define THREAD_STACK_SIZE 16384

enum thread_state {
    THREAD_NEW,
    THREAD_RUNNING,  /* on a CPU */
    THREAD_RUNNABLE, /* in a run queue */
    THREAD_BLOCKED,  /* waiting for thread_wake */
    THREAD_DEAD,
};

struct thread {
    uint64_t saved_rsp;      /* while switched out */
    uintptr_t stack_top;
    size_t stack_size;       /* 0: a boot or idle stack not owned by the thread */
    volatile int state;
    volatile int cpu;        /* run queue it belongs to, or last CPU it ran on */
    int pinned_cpu;          /* -1: may run anywhere */
    uint64_t allowed_cpus;   /* sched_setaffinity mask; 0: every CPU */
    int migrate_to;          /* -1, or the CPU a thread leaving a forbidden CPU goes to */
    bool queued;             /* in a run queue's tree */
    uint64_t vruntime;       /* CPU time consumed, relative to its run queue */
    uint64_t exec_start_ns;
    uint64_t runtime_ns;     /* total CPU time */
    uint64_t switches;       /* times switched in */
    struct rb_node rq_node;
    uint32_t tid;
    char name[THREAD_NAME_MAX];
    void (*fn)(void *);
    void *arg;
    int exit_code;
    int refs;                /* one while alive, one for the join handle */
    struct waitq exit_wq;
    struct timer sleep_timer;

    /* Application threads only (proc != NULL). */
    struct proc *proc;
    struct list_node proc_link;    /* proc->threads */
    int utid;                      /* the thread id the application sees */
    struct arch_uthread uarch;     /* segment bases, FPU state */
    uint64_t clear_child_tid;      /* user address zeroed and woken at exit */
    uint64_t set_child_tid;        /* user address the new thread writes its id to first */
    uint64_t robust_list, robust_list_len;
    volatile bool interrupted;     /* a signal wants a blocking call to end */
    volatile bool sleep_interruptible; /* in waitq_sleep_intr: a signal may wake it */
    uint64_t sig_blocked;          /* blocked signals: bit (signo - 1) */
    struct sigpending sigpend;     /* pending for this thread */
    uint64_t sig_saved_mask;       /* restored after a handler when sig_restore_mask */
    bool sig_restore_mask;
    uint64_t altstack_sp, altstack_size;
    int altstack_flags;
    int sched_policy, sched_priority; /* recorded; one fair policy runs everything */
};

/* A stopped thread; thread_start makes it runnable. cpu = -1 for any CPU. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
/* Same, keeping `reserve` bytes at the top of the stack out of the thread's
 * call frames (application threads keep their user registers there). */
struct thread *thread_create_reserve(const char *name, void (*fn)(void *), void *arg, int cpu,
                                     size_t reserve);
void thread_start(struct thread *t);
/* Free a thread that was created but never started. */
void thread_destroy_unstarted(struct thread *t);
struct thread *thread_spawn(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_exit(int code) __noreturn;
/* Nobody will join t: its struct is freed once it has exited. */
void thread_detach(struct thread *t);
/* Wait for t to exit, free it and return its exit code. */
int thread_join(struct thread *t);

struct thread *thread_current(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_sleep_until(uint64_t deadline_ns);
/* Make a blocked thread runnable (no effect on a running or runnable one). */
void thread_wake(struct thread *t);

/* An application thread's sleep: until the monotonic deadline, or -EINTR
 * when a signal arrives first (sys_time.c). */
int thread_sleep_intr_until(uint64_t deadline_ns);
