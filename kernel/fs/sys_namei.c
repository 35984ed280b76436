/* Names: mkdir, mknod, unlink, rmdir, rename, link, symlink (and their *at
 * forms); the working directory (chdir, fchdir, getcwd), chroot, umask. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

/* A name and its starting point, ready for a vfs_*at call. */
struct at_name {
    char *name;
    struct path start;
};

static int at_name_get(int dirfd, const char __user *u, struct at_name *n)
{
    n->start = (struct path){ NULL, NULL };
    int err = getname(u, &n->name);
    if (err)
        return err;
    err = at_start(dirfd, n->name, &n->start);
    if (err)
        putname(n->name);
    return err;
}

static void at_name_put(struct at_name *n)
{
    path_put(&n->start);
    putname(n->name);
}

long sys_mkdirat(int dirfd, const char __user *path, uint32_t mode)
{
    struct at_name n;
    long err = at_name_get(dirfd, path, &n);
    if (err)
        return err;
    err = vfs_mkdirat(cur_fs(), start_or_null(&n.start), n.name, mode);
    at_name_put(&n);
    return err;
}

long sys_mkdir(const char __user *path, uint32_t mode)
{
    return sys_mkdirat(AT_FDCWD, path, mode);
}

long sys_mknodat(int dirfd, const char __user *path, uint32_t mode, unsigned dev)
{
    struct at_name n;
    long err = at_name_get(dirfd, path, &n);
    if (err)
        return err;
    /* the old 32-bit encoding: 12 bits of major, 20 of minor */
    dev_t d = MKDEV((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    err = vfs_mknodat(cur_fs(), start_or_null(&n.start), n.name, mode, d);
    at_name_put(&n);
    return err;
}

long sys_mknod(const char __user *path, uint32_t mode, unsigned dev)
{
    return sys_mknodat(AT_FDCWD, path, mode, dev);
}

long sys_unlinkat(int dirfd, const char __user *path, int flags)
{
    struct at_name n;
    long err = at_name_get(dirfd, path, &n);
    if (err)
        return err;
    err = vfs_unlinkat(cur_fs(), start_or_null(&n.start), n.name, flags);
    at_name_put(&n);
    return err;
}

long sys_unlink(const char __user *path)
{
    return sys_unlinkat(AT_FDCWD, path, 0);
}

long sys_rmdir(const char __user *path)
{
    return sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

long sys_renameat2(int olddirfd, const char __user *oldpath, int newdirfd, const char __user *newpath,
                   unsigned flags)
{
    struct at_name o, n;
    long err = at_name_get(olddirfd, oldpath, &o);
    if (err)
        return err;
    err = at_name_get(newdirfd, newpath, &n);
    if (!err) {
        err = vfs_renameat(cur_fs(), start_or_null(&o.start), o.name, start_or_null(&n.start), n.name, flags);
        at_name_put(&n);
    }
    at_name_put(&o);
    return err;
}

long sys_renameat(int olddirfd, const char __user *oldpath, int newdirfd, const char __user *newpath)
{
    return sys_renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

long sys_rename(const char __user *oldpath, const char __user *newpath)
{
    return sys_renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

long sys_linkat(int olddirfd, const char __user *oldpath, int newdirfd, const char __user *newpath, int flags)
{
    struct at_name o, n;
    long err = at_name_get(olddirfd, oldpath, &o);
    if (err)
        return err;
    err = at_name_get(newdirfd, newpath, &n);
    if (!err) {
        err = vfs_linkat(cur_fs(), start_or_null(&o.start), o.name, start_or_null(&n.start), n.name, flags);
        at_name_put(&n);
    }
    at_name_put(&o);
    return err;
}

long sys_link(const char __user *oldpath, const char __user *newpath)
{
    return sys_linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

long sys_symlinkat(const char __user *target, int newdirfd, const char __user *linkpath)
{
    char *t;
    long err = getname(target, &t);
    if (err)
        return err;
    struct at_name n;
    err = at_name_get(newdirfd, linkpath, &n);
    if (!err) {
        err = vfs_symlinkat(cur_fs(), t, start_or_null(&n.start), n.name);
        at_name_put(&n);
    }
    putname(t);
    return err;
}

long sys_symlink(const char __user *target, const char __user *linkpath)
{
    return sys_symlinkat(target, AT_FDCWD, linkpath);
}

long sys_chdir(const char __user *path)
{
    char *name;
    long err = getname(path, &name);
    if (err)
        return err;
    struct path p;
    err = vfs_lookup(cur_fs(), NULL, name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
    putname(name);
    if (err)
        return err;
    fs_context_set_cwd(cur_fs(), &p);
    path_put(&p);
    return 0;
}

long sys_fchdir(int fd)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err = 0;
    if (!f->path.dentry || !S_ISDIR(f->vnode->mode))
        err = -ENOTDIR;
    else
        fs_context_set_cwd(cur_fs(), &f->path);
    vfs_file_put(f);
    return err;
}

long sys_chroot(const char __user *path)
{
    char *name;
    long err = getname(path, &name);
    if (err)
        return err;
    struct path p;
    err = vfs_lookup(cur_fs(), NULL, name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
    putname(name);
    if (err)
        return err;
    fs_context_set_root(cur_fs(), &p); /* the working directory stays, as on Linux */
    path_put(&p);
    return 0;
}

/* Returns the length including the NUL, as the system call does on Linux. */
long sys_getcwd(char __user *buf, size_t size)
{
    struct fs_context *fs = cur_fs();
    struct path cwd, root;
    fs_context_cwd(fs, &cwd);
    fs_context_root(fs, &root);
    char *tmp = kmalloc(PATH_MAX);
    long n = tmp ? vfs_path_string(&cwd, &root, tmp, PATH_MAX) : -ENOMEM;
    path_put(&cwd);
    path_put(&root);
    if (n >= 0) {
        if ((size_t)n + 1 > size)
            n = -ERANGE;
        else if (copy_to_user(buf, tmp, (size_t)n + 1))
            n = -EFAULT;
        else
            n++;
    }
    kfree(tmp);
    return n;
}

long sys_umask(uint32_t mask)
{
    return fs_context_umask(cur_fs(), mask);
}
