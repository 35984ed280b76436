/* The file system calls (kernel/fs/sys_*.c): Linux's names and argument
 * types, the result or -errno. The syscall table links each by name. */
#pragma once

#include "arch/uaccess.h"
#include "fs/uapi.h"
#include "lib/types.h"

/* sys_attr.c */
long sys_fchmodat2(int dirfd, const char __user *path, uint32_t mode, int flags);
long sys_fchmodat(int dirfd, const char __user *path, uint32_t mode);
long sys_chmod(const char __user *path, uint32_t mode);
long sys_fchmod(int fd, uint32_t mode);
long sys_fchownat(int dirfd, const char __user *path, uint32_t uid, uint32_t gid, int flags);
long sys_chown(const char __user *path, uint32_t uid, uint32_t gid);
long sys_lchown(const char __user *path, uint32_t uid, uint32_t gid);
long sys_fchown(int fd, uint32_t uid, uint32_t gid);
long sys_utimensat(int dirfd, const char __user *path, const struct timespec __user *times,
                   int flags);
long sys_futimesat(int dirfd, const char __user *path, const struct timeval __user *times);
long sys_utimes(const char __user *path, const struct timeval __user *times);
long sys_utime(const char __user *path, const struct utimbuf __user *times);
long sys_truncate(const char __user *path, int64_t length);
long sys_ftruncate(int fd, int64_t length);
long sys_fallocate(int fd, int mode, int64_t offset, int64_t len);

/* sys_copy.c */
long sys_sendfile(int out_fd, int in_fd, int64_t __user *offset, size_t count);
long sys_copy_file_range(int fd_in, int64_t __user *off_in, int fd_out, int64_t __user *off_out,
                         size_t len, unsigned flags);

/* sys_dir.c */
long sys_getdents64(int fd, void __user *dirp, size_t count);
long sys_getdents(int fd, void __user *dirp, unsigned count);

/* sys_fd.c */
long sys_dup(int fd);
long sys_dup3(int oldfd, int newfd, int flags);
long sys_dup2(int oldfd, int newfd);
long sys_fcntl(int fd, int cmd, unsigned long arg);
long sys_ioctl(int fd, unsigned cmd, unsigned long arg);
long sys_flock(int fd, unsigned op);
long sys_fsync(int fd);
long sys_fdatasync(int fd);
long sys_sync(void);
long sys_syncfs(int fd);
long sys_fadvise64(int fd, int64_t offset, int64_t len, int advice);
long sys_readahead(int fd, int64_t offset, size_t count);
long sys_name_to_handle_at(int dirfd, const char __user *path, void __user *handle,
                           int __user *mnt_id, int flags);

/* sys_mount.c */
long sys_mount(const char __user *usource, const char __user *utarget, const char __user *utype,
               unsigned long flags, const void __user *udata);
long sys_umount2(const char __user *utarget, int flags);

/* sys_namei.c */
long sys_mkdirat(int dirfd, const char __user *path, uint32_t mode);
long sys_mkdir(const char __user *path, uint32_t mode);
long sys_mknodat(int dirfd, const char __user *path, uint32_t mode, unsigned dev);
long sys_mknod(const char __user *path, uint32_t mode, unsigned dev);
long sys_unlinkat(int dirfd, const char __user *path, int flags);
long sys_unlink(const char __user *path);
long sys_rmdir(const char __user *path);
long sys_renameat2(int olddirfd, const char __user *oldpath, int newdirfd,
                   const char __user *newpath, unsigned flags);
long sys_renameat(int olddirfd, const char __user *oldpath, int newdirfd,
                  const char __user *newpath);
long sys_rename(const char __user *oldpath, const char __user *newpath);
long sys_linkat(int olddirfd, const char __user *oldpath, int newdirfd, const char __user *newpath,
                int flags);
long sys_link(const char __user *oldpath, const char __user *newpath);
long sys_symlinkat(const char __user *target, int newdirfd, const char __user *linkpath);
long sys_symlink(const char __user *target, const char __user *linkpath);
long sys_chdir(const char __user *path);
long sys_fchdir(int fd);
long sys_chroot(const char __user *path);
long sys_getcwd(char __user *buf, size_t size);
long sys_umask(uint32_t mask);

/* sys_open.c */
long sys_openat(int dirfd, const char __user *path, int flags, uint32_t mode);
long sys_open(const char __user *path, int flags, uint32_t mode);
long sys_creat(const char __user *path, uint32_t mode);
long sys_openat2(int dirfd, const char __user *path, const void __user *uhow, size_t size);
long sys_close(int fd);
long sys_close_range(unsigned first, unsigned last, unsigned flags);

/* sys_rw.c */
long sys_read(int fd, void __user *buf, size_t count);
long sys_write(int fd, const void __user *buf, size_t count);
long sys_pread64(int fd, void __user *buf, size_t count, int64_t pos);
long sys_pwrite64(int fd, const void __user *buf, size_t count, int64_t pos);
long sys_readv(int fd, const struct iovec __user *iov, int cnt);
long sys_writev(int fd, const struct iovec __user *iov, int cnt);
long sys_preadv(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                unsigned long pos_h);
long sys_pwritev(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                 unsigned long pos_h);
long sys_preadv2(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                 unsigned long pos_h, int flags);
long sys_pwritev2(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                  unsigned long pos_h, int flags);
long sys_lseek(int fd, int64_t offset, unsigned whence);

/* sys_stat.c */
long sys_newfstatat(int dirfd, const char __user *path, struct stat __user *buf, int flags);
long sys_stat(const char __user *path, struct stat __user *buf);
long sys_lstat(const char __user *path, struct stat __user *buf);
long sys_fstat(int fd, struct stat __user *buf);
long sys_statx(int dirfd, const char __user *path, int flags, unsigned mask,
               struct statx __user *buf);
long sys_statfs(const char __user *path, struct statfs __user *buf);
long sys_fstatfs(int fd, struct statfs __user *buf);
long sys_readlinkat(int dirfd, const char __user *path, char __user *buf, int bufsiz);
long sys_readlink(const char __user *path, char __user *buf, int bufsiz);
long sys_access(const char __user *path, int mode);
long sys_faccessat(int dirfd, const char __user *path, int mode);
long sys_faccessat2(int dirfd, const char __user *path, int mode, int flags);

/* pipe.c, eventfd.c, timerfd.c, signalfd.c, epoll.c, poll_select.c: the
 * file-descriptor kinds (docs/filesystems.md, "Pipes, eventfd, timerfd,
 * signalfd, epoll, poll and select"). */
struct pollfd;
struct epoll_event;
struct itimerspec;
long sys_pipe(int __user *fds);
long sys_pipe2(int __user *fds, int flags);
long sys_eventfd(unsigned initval);
long sys_eventfd2(unsigned initval, int flags);
long sys_timerfd_create(int clockid, int flags);
long sys_timerfd_settime(int fd, int flags, const struct itimerspec __user *new_value,
                         struct itimerspec __user *old_value);
long sys_timerfd_gettime(int fd, struct itimerspec __user *cur);
long sys_signalfd(int fd, const uint64_t __user *mask, size_t sizemask);
long sys_signalfd4(int fd, const uint64_t __user *mask, size_t sizemask, int flags);
long sys_epoll_create(int size);
long sys_epoll_create1(int flags);
long sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event __user *event);
long sys_epoll_wait(int epfd, struct epoll_event __user *events, int maxevents, int timeout);
long sys_epoll_pwait(int epfd, struct epoll_event __user *events, int maxevents, int timeout,
                     const uint64_t __user *sigmask, size_t sigsetsize);
long sys_epoll_pwait2(int epfd, struct epoll_event __user *events, int maxevents,
                      const struct timespec __user *timeout, const uint64_t __user *sigmask,
                      size_t sigsetsize);
long sys_poll(struct pollfd __user *fds, unsigned nfds, int timeout);
long sys_ppoll(struct pollfd __user *fds, unsigned nfds, struct timespec __user *tsp,
               const uint64_t __user *sigmask, size_t sigsetsize);
long sys_select(int nfds, uint64_t __user *readfds, uint64_t __user *writefds,
                uint64_t __user *exceptfds, struct timeval __user *timeout);
long sys_pselect6(int nfds, uint64_t __user *readfds, uint64_t __user *writefds,
                  uint64_t __user *exceptfds, struct timespec __user *timeout, void __user *sigarg);
