/* panic(): a broken kernel invariant. Prints the message, the registers when a
 * trap caused it, a symbolised backtrace, then stops every CPU and exits the VM
 * with the panic status (or halts, for a debugger, without
 * --power-off-on-abort). Never for bad input from the application or the world. */
#pragma once

#include "lib/types.h"

#define PANIC_EXIT_STATUS 70

struct trap_frame;

void panic(const char *fmt, ...) __noreturn __printf(1, 2);
void panic_from_trap(const struct trap_frame *f, const char *fmt, ...) __noreturn __printf(2, 3);
/* Whether a panic powers the VM off (default: halt, for a debugger). */
void panic_set_power_off(bool on);
bool panic_in_progress(void);
/* Stop other CPUs during a panic (installed once SMP runs). */
void panic_set_stop_others(void (*fn)(void));

#define BUG_ON(cond)                                                             \
    do {                                                                         \
        if (unlikely(cond))                                                      \
            panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);             \
    } while (0)
