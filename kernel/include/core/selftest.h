/* Kernel self-tests, run with --test=NAME[,NAME...] (or all). Each test prints
 * what it checked and returns 0 on success; the VM's exit status is 0 only if
 * every selected test passed. */
#pragma once

#include "core/log.h"
#include "lib/types.h"

struct selftest {
    const char *name;
    const char *what;
    int (*run)(void);
    bool in_all; /* false for tests that crash on purpose */
};

#define SELFTEST(id, description, include_in_all)                                   \
    static int selftest_##id(void);                                                 \
    static const struct selftest selftest_desc_##id                                 \
        __attribute__((used, section(".selftests"), aligned(8))) = {                \
            #id, description, selftest_##id, include_in_all };                      \
    static int selftest_##id(void)

/* Report a check: prints "ok"/"FAIL" and the message; returns 1 on failure. */
int selftest_check(bool ok, const char *fmt, ...) __printf(2, 3);

/* Run the tests named in `spec`; returns the exit status. */
int selftest_run(const char *spec);
