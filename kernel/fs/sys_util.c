/* Helpers for the file system calls (sys_internal.h). */
#include "core/proc.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

struct fd_table *cur_files(void)
{
    struct proc *p = proc_current();
    return p ? p->files : NULL;
}

struct fs_context *cur_fs(void)
{
    struct proc *p = proc_current();
    return p && p->fs ? p->fs : fs_context_kernel();
}

struct file *cur_file(int fd)
{
    struct fd_table *t = cur_files();
    return t ? fd_get(t, fd) : NULL;
}

int cur_fd_install(struct file *f, unsigned min, bool cloexec)
{
    struct fd_table *t = cur_files();
    if (!t)
        return -EMFILE;
    struct proc *p = proc_current();
    uint64_t lim = p->rlimits[PROC_RLIMIT_NOFILE].cur;
    fd_table_set_limit(t, (unsigned)MIN(MAX(lim, (uint64_t)1), (uint64_t)FD_HARD_LIMIT));
    return fd_install(t, f, min, cloexec);
}

int getname(const char __user *u, char **out)
{
    *out = NULL;
    char *buf = kmalloc(PATH_MAX);
    if (!buf)
        return -ENOMEM;
    long n = strncpy_from_user(buf, u, PATH_MAX);
    if (n < 0 || n >= PATH_MAX) { /* a length that cannot be is a fault too */
        kfree(buf);
        return n < 0 && n >= -4095 ? (int)n : -EFAULT;
    }
    *out = buf;
    return 0;
}

void putname(char *name)
{
    kfree(name);
}

int at_start(int dirfd, const char *name, struct path *start)
{
    start->mnt = NULL;
    start->dentry = NULL;
    if (name[0] == '/' || dirfd == AT_FDCWD)
        return 0;
    struct file *f = cur_file(dirfd);
    if (!f)
        return -EBADF;
    int err = 0;
    if (!f->path.dentry)
        err = -ENOTDIR;
    else if (name[0] && !S_ISDIR(f->vnode->mode))
        err = -ENOTDIR;
    if (!err) {
        *start = f->path;
        path_get(start);
    }
    vfs_file_put(f);
    return err;
}

int at_lookup(int dirfd, const char *name, unsigned lflags, struct path *out)
{
    struct path start;
    int err = at_start(dirfd, name, &start);
    if (err)
        return err;
    if (!name[0] && (lflags & LOOKUP_EMPTY) && !start.dentry && dirfd != AT_FDCWD)
        err = -EBADF;
    if (!err)
        err = vfs_lookup(cur_fs(), start_or_null(&start), name, lflags, out);
    path_put(&start);
    return err;
}

int at_target_get(int dirfd, const char __user *uname, int atflags, bool follow_default,
                  struct at_target *t)
{
    *t = (struct at_target){ 0 };
    char *name = NULL;
    int err = getname(uname, &name);
    if (err)
        return err;
    t->empty = !name[0];
    if (!name[0] && (atflags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
        t->file = cur_file(dirfd); /* the descriptor itself, named or not */
        putname(name);
        if (!t->file)
            return -EBADF;
        t->vnode = t->file->vnode;
        t->mnt = t->file->path.mnt;
        return 0;
    }
    unsigned lf = (follow_default && !(atflags & AT_SYMLINK_NOFOLLOW)) ? LOOKUP_FOLLOW : 0;
    if (atflags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    err = at_lookup(dirfd, name, lf, &t->path);
    putname(name);
    if (err)
        return err;
    t->vnode = path_vnode(&t->path);
    t->mnt = t->path.mnt;
    return 0;
}

void at_target_put(struct at_target *t)
{
    path_put(&t->path);
    vfs_file_put(t->file);
    t->file = NULL;
}
