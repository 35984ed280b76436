/* Pipes and FIFOs: a ring of page-sized slots shared by a read end and a
 * write end (pipe(7) semantics: PIPE_BUF atomicity, EOF, EPIPE + SIGPIPE,
 * packet mode, F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD). */
#pragma once

#include "fs/vfs.h"

#define PIPE_BUF 4096
#define PIPE_DEF_SIZE (16 * 4096)      /* Linux's default capacity */
#define PIPE_MAX_SIZE_USER (1u << 20)  /* /proc/sys/fs/pipe-max-size for non-root */

/* Boot: make FIFOs (S_IFIFO vnodes from mknod or an initrd) open as pipes. */
void pipe_init(void);
/* The pipe's fcntl commands (F_GETPIPE_SZ, F_SETPIPE_SZ); -EINVAL for the
 * rest. This is the pipe files' file_ops.fcntl, so sys_fcntl reaches it. */
long pipe_fcntl(struct file *f, int cmd, unsigned long arg);
/* A new anonymous pipe as two open files (kernel use; flags O_NONBLOCK,
 * O_DIRECT). Each holds one reference. */
int pipe_create_files(unsigned flags, struct file **rd, struct file **wr);
bool pipe_is(const struct file *f);
