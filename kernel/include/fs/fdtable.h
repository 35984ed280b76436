/* Per-process file descriptor table: the lowest free number first, a
 * close-on-exec bit per descriptor, and an RLIMIT_NOFILE-style limit. */
#pragma once

#include "arch/spinlock.h"
#include "lib/types.h"

struct file;

#define FD_DEFAULT_LIMIT 1024
#define FD_HARD_LIMIT 1048576

struct fd_table {
    spinlock_t lock;
    unsigned size;            /* slots allocated */
    unsigned limit;           /* descriptors must be below this */
    unsigned lowest_free;     /* no free slot below it */
    struct file **files;
    uint64_t *cloexec;        /* one bit per slot */
    uint32_t refs;
};

struct fd_table *fd_table_create(void);
/* A copy sharing the open files (fork without CLONE_FILES). */
struct fd_table *fd_table_clone(struct fd_table *t);
struct fd_table *fd_table_get(struct fd_table *t);
void fd_table_put(struct fd_table *t);
/* RLIMIT_NOFILE: new descriptors must be below limit (1..FD_HARD_LIMIT). */
int fd_table_set_limit(struct fd_table *t, unsigned limit);

/* Install f (taking a new reference) at the lowest free number >= min:
 * that number, or -EMFILE / -EINVAL / -ENOMEM. */
int fd_install(struct fd_table *t, struct file *f, unsigned min, bool cloexec);
/* The file with a reference, or NULL (EBADF). */
struct file *fd_get(struct fd_table *t, int fd);
int fd_close(struct fd_table *t, int fd);
/* Put f (a new reference) at fd, closing what was there. */
int fd_install_at(struct fd_table *t, struct file *f, int fd, bool cloexec);
/* dup2/dup3: newfd is closed first if open; returns newfd. */
int fd_dup_to(struct fd_table *t, int oldfd, int newfd, bool cloexec);
int fd_get_cloexec(struct fd_table *t, int fd);
int fd_set_cloexec(struct fd_table *t, int fd, bool on);
/* close_range: flags CLOSE_RANGE_CLOEXEC marks instead of closing. */
int fd_close_range(struct fd_table *t, unsigned first, unsigned last, unsigned flags);
/* exec: close every close-on-exec descriptor. */
void fd_close_on_exec(struct fd_table *t);
/* fds 0, 1, 2: one O_RDWR open file of /dev/console. */
int fd_install_console(struct fd_table *t);
/* Highest open descriptor + 1 (for /proc/self/fd). */
unsigned fd_table_count(struct fd_table *t);
