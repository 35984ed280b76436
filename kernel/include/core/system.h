/* Ending the VM: the workload's exit status goes to the host. */
#pragma once

#include "lib/types.h"

/* Exit status when Osprey itself cannot run the command (bad boot option...),
 * the convention of env(1) and timeout(1). */
#define SYSTEM_FAIL_STATUS 125

/* Run fn (in the exiting thread) before the VM stops: for write-back. */
void system_add_exit_hook(void (*fn)(void));
/* Power off, reporting `status` (0-255) to the host. */
void system_exit(int status) __noreturn;
/* Print a one-line error and exit with SYSTEM_FAIL_STATUS. */
void system_fail(const char *fmt, ...) __noreturn __printf(1, 2);
