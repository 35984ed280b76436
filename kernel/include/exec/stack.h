/* The initial stack of a program, as the x86-64 psABI and Linux lay it out:
 * argc, argv, envp, the auxiliary vector, then the strings and the random
 * bytes they point to. Pure logic: built into a kernel buffer that is then
 * copied to the application's stack. */
#pragma once

#include "lib/types.h"

#define AT_NULL 0
#define AT_IGNORE 1
#define AT_EXECFD 2
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_NOTELF 10
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_BASE_PLATFORM 24
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33
#define AT_MINSIGSTKSZ 51

#define EXEC_MAX_AUXV 32

struct exec_stack_args {
    const char *const *argv;
    unsigned argc;
    const char *const *envp;
    unsigned envc;
    const char *execfn;        /* AT_EXECFN: the path the program was started by */
    const char *platform;      /* AT_PLATFORM: "x86_64" */
    uint8_t random[16];        /* AT_RANDOM's bytes */
    uint64_t auxv[2 * EXEC_MAX_AUXV]; /* key/value pairs without the three above or AT_NULL */
    unsigned nauxv;
};

/* Lay the stack out in buf, whose end stands for application address `top`.
 * On success sets *sp (the initial stack pointer, pointing at argc) and
 * *used (bytes at the end of buf to copy to [top - used, top)). -E2BIG when
 * it does not fit. The auxv actually written (with AT_NULL) is copied to
 * auxv_out when non-NULL (for /proc/self/auxv), its byte size in *auxv_len. */
int exec_build_stack(uint8_t *buf, size_t buflen, uint64_t top, const struct exec_stack_args *a, uint64_t *sp,
                     size_t *used, uint64_t *auxv_out, size_t *auxv_len);
