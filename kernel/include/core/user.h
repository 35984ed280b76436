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

/* The current thread leaves (exit): clears and wakes clear_child_tid; the
 * VM ends when the last thread of the application is gone. */
void user_thread_exit(int status) __noreturn;
/* The application ends (exit_group, fatal signal): the VM stops with `status`. */
void user_process_exit(int status) __noreturn;
