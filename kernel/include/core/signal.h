/* Signals: per-process actions, per-thread masks and pending sets, delivery
 * on the way back to ring 3. */
#pragma once

#include "arch/trap.h"
#include "lib/types.h"

#define NSIG 64
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGSTKFLT 16
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO 29
#define SIGPWR 30
#define SIGSYS 31
#define SIGRTMIN 32

#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2

/* si_code values */
#define SI_USER_CODE 0
#define SI_KERNEL_CODE 0x80
#define SI_QUEUE_CODE (-1)
#define SI_TIMER_CODE (-2)
#define SI_TKILL_CODE (-6)
#define ILL_ILLOPN 2
#define FPE_INTDIV 1
#define FPE_FLTINV 7
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define BUS_ADRALN 1
#define BUS_ADRERR 2
#define TRAP_BRKPT 1
#define TRAP_TRACE 2
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3

#define SA_NOCLDSTOP 0x00000001u
#define SA_NOCLDWAIT 0x00000002u
#define SA_SIGINFO 0x00000004u
#define SA_UNSUPPORTED 0x00000400u
#define SA_EXPOSE_TAGBITS 0x00000800u
#define SA_RESTORER 0x04000000u
#define SA_ONSTACK 0x08000000u
#define SA_RESTART 0x10000000u
#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u
#define SIG_DFL_HANDLER 0
#define SIG_IGN_HANDLER 1

#define SIG_BIT(sig) (1ull << ((sig) - 1))
#define SIG_UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))

#include "lib/list.h"
#include "arch/spinlock.h"

/* struct sigaction as the rt_sigaction system call passes it. */
struct k_sigaction {
    uint64_t handler, flags, restorer, mask;
};

/* siginfo_t, 128 bytes, as Linux lays it out on x86-64. */
struct siginfo_abi {
    int32_t signo, err, code, pad;
    union {
        uint8_t bytes[112];
        struct { int32_t pid; uint32_t uid; uint64_t value; } rt;     /* kill, sigqueue */
        struct { int32_t pid; uint32_t uid; int32_t status, pad; int64_t utime, stime; } chld;
        struct { int32_t tid; int32_t overrun; uint64_t value; } timer;
        struct { uint64_t addr; } fault;
        struct { int64_t band; int32_t fd; } poll;
    };
};
_Static_assert(sizeof(struct siginfo_abi) == 128, "siginfo_t is 128 bytes");

struct sigqueued {
    struct list_node link;
    struct siginfo_abi info;
};

/* Signals waiting: a set, and the siginfo of each (real-time signals may be
 * queued several times). */
struct sigpending {
    uint64_t set;
    struct list_node queue;
};

/* The process-wide part: actions and process-directed pending signals. */
struct sighand {
    int refs;
    spinlock_t lock;            /* every signal field of the process and its threads */
    struct k_sigaction action[NSIG];
    struct sigpending shared;
    unsigned queued;            /* siginfos allocated, for RLIMIT_SIGPENDING */
};

struct thread;
struct proc;

struct sighand *sighand_create(void);
/* fork: a new table with the same actions (pending signals are not inherited). */
struct sighand *sighand_copy(struct sighand *from);
void sighand_put(struct sighand *sh);
/* execve: handled signals go back to their default action (ignored stay ignored). */
void sighand_reset_for_exec(struct sighand *sh);
/* Signals whose default action does nothing (SIGCHLD, SIGURG, stop signals...). */
bool signal_default_ignored(int sig);
/* A new thread's per-thread signal state. */
void signal_thread_init(struct thread *t);

/* Send sig to a thread (t) or to the process (t NULL: any thread that does
 * not block it takes it). info may be NULL (then SI_USER from the kernel).
 * Safe from interrupt handlers. 0, or -EAGAIN when too many are queued. */
int signal_send(struct proc *p, struct thread *t, int sig, const struct siginfo_abi *info);

const char *signal_name(int sig);
/* rt_sigreturn: the alternate stack as the frame recorded it (errors ignored). */
void signal_altstack_restore(uint64_t sp, int flags, uint64_t size);

/* The same, to the thread with that id: -ESRCH when there is none. Safe
 * against the thread exiting meanwhile. sig 0 only checks it exists. */
int signal_send_tid(struct proc *p, int tid, int sig, const struct siginfo_abi *info);

/* Whether the thread has an unblocked pending signal (the return path asks). */
bool signal_work_pending(struct thread *t);
/* Deliver what is pending to the current thread, editing its user frame:
 * a handler frame, a restarted call, or the end of the application. */
void signal_handle(struct trap_frame *f);
/* A syscall ended with an -ERESTART* code and no signal is to be delivered:
 * restart it (the dispatcher calls this). */
void signal_restart_syscall(struct trap_frame *f);
/* Take the lowest pending signal of `set` for the current thread (for
 * sigtimedwait, signalfd): its number, or 0. Caller holds sighand->lock. */
int signal_dequeue_locked(struct thread *t, uint64_t set, struct siginfo_abi *info);
/* Recompute t->interrupted after its mask or pending sets changed. Caller
 * holds sighand->lock. */
void signal_recalc_locked(struct thread *t);

/* A synchronous signal caused by the current thread's instruction (fault,
 * illegal instruction...): delivered even if blocked or ignored, as Linux
 * does, terminating the application when no handler can run. */
void signal_force_fault(int sig, int code, uint64_t addr, struct trap_frame *f);
