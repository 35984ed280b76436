/* A tiny check framework for the file system guest tests: each check prints
 * "ok" or "FAIL" with what it tested; main returns the failure count, so the
 * same program judges Osprey and (run natively) the host's Linux. */
#pragma once

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int check_failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            printf("ok   ");                                                   \
        } else {                                                               \
            printf("FAIL (%s:%d, errno %d %s) ", __FILE__, __LINE__, errno,    \
                   strerror(errno));                                           \
            check_failures++;                                                  \
        }                                                                      \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
    } while (0)

/* The call fails with exactly this errno. */
#define CHECK_ERR(call, err, ...)                                              \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        CHECK(r_ == -1 && errno == (err), __VA_ARGS__);                        \
    } while (0)

/* A scratch directory of our own under /tmp: natively it must not collide. */
static char scratch[64];

static void scratch_init(const char *name)
{
    snprintf(scratch, sizeof(scratch), "/tmp/%s.%d", name, (int)getpid());
    mkdir(scratch, 0755);
    if (chdir(scratch) != 0) {
        perror("chdir scratch");
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static __attribute__((unused)) int write_file(const char *path, const char *s)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

static __attribute__((unused)) int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

static __attribute__((unused)) int content_is(const char *path, const char *s)
{
    char buf[4096];
    return read_file(path, buf, sizeof(buf)) >= 0 && strcmp(buf, s) == 0;
}

/* An address no program has mapped: bad pointers must give EFAULT. Hidden
 * from the compiler, which would otherwise warn about the obvious. */
static void *volatile bad_ptr_value = (void *)16;
#define BAD_PTR (bad_ptr_value)

/* Checks of what only Osprey promises (its /dev, its console) run only there. */
static __attribute__((unused)) int in_osprey(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.release, "osprey") != NULL;
}

static int check_summary(const char *name)
{
    printf("%s: %d failure(s)\n", name, check_failures);
    return check_failures ? 1 : 0;
}
