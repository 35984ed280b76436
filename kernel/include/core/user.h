/* Application threads: kernel threads that also run in ring 3. Each has a
 * struct trap_frame at the top of its kernel stack holding its user
 * registers while it is in the kernel. */
#pragma once

#include "arch/trap.h"
#include "arch/uthread.h"
#include "lib/types.h"

struct proc;
struct thread;

/* A new application thread of `proc` that starts in ring 3 with registers
 * `regs` (copied). Not started yet; NULL when out of memory. `clone_from`:
 * copy FPU state and segment bases from this thread (clone), or NULL for the
 * initial state (exec). */
struct thread *user_thread_create(struct proc *proc, const struct trap_frame *regs,
                                  struct thread *clone_from);
/* Undo user_thread_create for a thread that was never started. */
void user_thread_abandon(struct thread *t);
/* The user registers of the current application thread. */
struct trap_frame *user_frame(void);

/* Before returning to ring 3, with the frame about to be restored: reschedule
 * if needed, deliver pending signals. Returns with interrupts disabled. */
void user_return_work(struct trap_frame *f);

/* Linux's wait status: exit code << 8, or the terminating signal. */
#define WSTATUS_EXITED(code) (((code) & 0xff) << 8)
#define WSTATUS_SIGNALED(sig) ((sig) & 0x7f)

/* The current thread leaves (exit): clears and wakes clear_child_tid; the
 * process ends with its last thread (proc_exit). */
void user_thread_exit(int status) __noreturn;
/* The process ends (exit_group, a fatal signal): every thread leaves; for
 * pid 1 the VM stops at once with the matching status. */
void user_group_exit(int wait_status) __noreturn;
/* execve: make every other thread of the process leave and wait until they
 * have; -EAGAIN when the process is already exiting. */
int user_zap_other_threads(void);
/* Whether t must leave at once because its process is exiting or exec'ing. */
bool user_thread_must_leave(struct thread *t);
