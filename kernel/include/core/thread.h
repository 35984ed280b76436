/* Kernel threads: creation, exit and join, sleeping, waking. Application
 * threads will be kernel threads that also have a user context. */
#pragma once

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
};

/* A stopped thread; thread_start makes it runnable. cpu = -1 for any CPU. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_start(struct thread *t);
struct thread *thread_spawn(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_exit(int code) __noreturn;
/* Wait for t to exit, free it and return its exit code. */
int thread_join(struct thread *t);

struct thread *thread_current(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_sleep_until(uint64_t deadline_ns);
/* Make a blocked thread runnable (no effect on a running or runnable one). */
void thread_wake(struct thread *t);
