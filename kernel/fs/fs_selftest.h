/* Helpers shared by the VFS self-test files (fs_selftest*.c). */
#pragma once

#include "core/selftest.h"
#include "fs/namei.h"
#include "fs/vfs.h"

/* Report a check and count its failure in the caller's `fails`. */
#define T(cond, ...) (fails += selftest_check((cond), __VA_ARGS__))

/* Open with the kernel's context: the file or NULL (err in *errp if given). */
struct file *st_open(const char *path, int flags, int *errp);
/* Write a whole string at off; the bytes written or -errno. */
ssize_t st_write(struct file *f, const char *s, uint64_t off);
/* Create path with content s; 0 or -errno. */
int st_create(const char *path, const char *s);
/* Read up to size-1 bytes at off into buf, terminated; the count or -errno. */
ssize_t st_read(struct file *f, char *buf, size_t size, uint64_t off);
/* Whole content of path equals s? */
bool st_content_is(const char *path, const char *s);
int st_stat(const char *path, bool follow, struct kstat *st);

int fs_selftest_devices(void);
int fs_selftest_fds(void);
int fs_selftest_initrd(void);
int fs_selftest_locks(void);
int fs_selftest_stress(void);
