/* mount and umount2 for the file systems in the kernel (ramfs, tmpfs,
 * devtmpfs; proc and sysfs once they register), bind mounts, remounts.
 * Propagation flags (MS_SHARED, MS_PRIVATE...) are accepted and change
 * nothing: there is one mount namespace. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

static int get_opt_string(const char __user *u, char **out)
{
    *out = NULL;
    return u ? getname(u, out) : 0;
}

static long mount_new(const char *source, const struct path *where, const char *type, unsigned long flags,
                      const char *data)
{
    if (!type)
        return -EINVAL;
    return vfs_mount(source, where, type, flags, data);
}

static long do_mount(const char *source, const struct path *where, const char *type, unsigned long flags,
                     const char *data)
{
    if (flags & MS_REMOUNT)
        return vfs_remount(where, flags);
    if (flags & MS_BIND) {
        if (!source)
            return -EFAULT;
        struct path from;
        long err = vfs_lookup(cur_fs(), NULL, source, LOOKUP_FOLLOW, &from);
        if (err)
            return err;
        err = vfs_bind_mount(&from, where, flags);
        path_put(&from);
        return err;
    }
    if (flags & MS_MOVE)
        return -EINVAL; /* not supported */
    if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE))
        return 0;
    return mount_new(source, where, type, flags, data);
}

long sys_mount(const char __user *usource, const char __user *utarget, const char __user *utype,
               unsigned long flags, const void __user *udata)
{
    if ((flags & MS_MGC_MSK) == MS_MGC_VAL)
        flags &= ~(unsigned long)MS_MGC_MSK; /* the old magic number */
    char *source = NULL, *target = NULL, *type = NULL, *data = NULL;
    long err = get_opt_string(usource, &source);
    if (!err)
        err = getname(utarget, &target);
    if (!err)
        err = get_opt_string(utype, &type);
    if (!err)
        err = get_opt_string(udata, &data); /* our file systems take text options */
    struct path where = { NULL, NULL };
    if (!err)
        err = vfs_lookup(cur_fs(), NULL, target, LOOKUP_FOLLOW, &where);
    if (!err)
        err = do_mount(source, &where, type, flags, data);
    path_put(&where);
    putname(source);
    putname(target);
    putname(type);
    putname(data);
    return err;
}

long sys_umount2(const char __user *utarget, int flags)
{
    char *target;
    long err = getname(utarget, &target);
    if (err)
        return err;
    struct path p;
    err = vfs_lookup(cur_fs(), NULL, target, flags & UMOUNT_NOFOLLOW ? 0 : LOOKUP_FOLLOW, &p);
    putname(target);
    if (err)
        return err;
    err = vfs_umount(&p, flags);
    path_put(&p);
    return err;
}
