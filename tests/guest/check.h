/* The check framework of the guest test programs: each check prints "ok" or
 * "FAIL" with what it tested, and check_exit() makes the failure count the
 * exit status, so the same binary judges Osprey and, run natively, Linux. */
#pragma once

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        int check_errno_ = errno;                                                  \
        if (cond) {                                                                \
            printf("ok   ");                                                       \
        } else {                                                                   \
            printf("FAIL (%s:%d, errno %d %s) ", __FILE__, __LINE__, check_errno_,  \
                   strerror(check_errno_));                                        \
            check_failures++;                                                      \
        }                                                                          \
        printf(__VA_ARGS__);                                                       \
        printf("\n");                                                              \
        fflush(stdout);                                                            \
    } while (0)

/* The call fails with exactly this errno. */
#define CHECK_ERR(call, err, ...)                                                  \
    do {                                                                           \
        errno = 0;                                                                 \
        long check_r_ = (long)(call);                                              \
        CHECK(check_r_ == -1 && errno == (err), __VA_ARGS__);                      \
    } while (0)

static inline int check_exit(void)
{
    printf("%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
