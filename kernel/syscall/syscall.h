/* The system call table: one descriptor per Linux x86-64 syscall number,
 * built from syscalls.def. Private to kernel/syscall/. */
#pragma once

#include "lib/types.h"

#define SYSCALL_COUNT 463
#define SYSCALL_MAX_ARGS 6
#define SYSCALL_NR_EXIT 60
#define SYSCALL_NR_EXIT_GROUP 231
#define STRACE_NO_RETURN ((long)1 << 62) /* strace_print: show "= ?" */

typedef long (*syscall_fn_t)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* How --strace shows an argument. */
enum syscall_arg_kind {
    SARG_NONE,
    SARG_INT,      /* signed decimal (32-bit) */
    SARG_UINT,     /* unsigned decimal */
    SARG_HEX,
    SARG_PTR,
    SARG_STR,      /* NUL-terminated string the call reads */
    SARG_BUF,      /* data the call reads, its length in the next argument */
    SARG_FD,       /* file descriptor, AT_FDCWD shown by name */
    SARG_SIZE,
    SARG_OFLAGS,   /* open(2) flags */
    SARG_MODE,     /* octal */
};

struct syscall_desc {
    const char *name;   /* NULL: no syscall has this number */
    syscall_fn_t fn;    /* NULL: not implemented (-ENOSYS) */
    uint8_t nargs;
    uint8_t kinds[SYSCALL_MAX_ARGS];
};

extern const struct syscall_desc syscall_table[SYSCALL_COUNT];

/* --strace: print one finished call. */
struct trap_frame;
void strace_print(const struct syscall_desc *d, uint64_t nr, const uint64_t args[SYSCALL_MAX_ARGS],
                  long ret, int utid, const char *strs[SYSCALL_MAX_ARGS]);
