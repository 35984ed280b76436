/* The syscall table. Every handler is referenced weakly: a subsystem that
 * defines sys_NAME is called for NAME's number, and a number whose handler
 * does not exist returns -ENOSYS. Handlers take Linux's argument types; the
 * table calls them with six 64-bit registers, which the x86-64 calling
 * convention makes equivalent (narrower parameters read the low bits, as
 * Linux's own syscalls truncate them). */
#include "syscall.h"

#define SYSCALL(nr, name, nargs, ...) extern long sys_##name(void) __attribute__((weak));
#include "syscalls.def"
#undef SYSCALL

#define D SARG_INT
#define U SARG_UINT
#define X SARG_HEX
#define P SARG_PTR
#define S SARG_STR
#define B SARG_BUF
#define F SARG_FD
#define Z SARG_SIZE
#define O SARG_OFLAGS
#define M SARG_MODE

#define SYSCALL(nr, name, nargs, ...) \
    [nr] = { #name, (syscall_fn_t)(void (*)(void))sys_##name, nargs, { __VA_ARGS__ } },

const struct syscall_desc syscall_table[SYSCALL_COUNT] = {
#include "syscalls.def"
};
