/* Mounting at boot: OSv's --mount-fs=TYPE,DEVICE,DIR[,OPTS] (any registered
 * type), the image's /etc/fstab, and a root file system from a disk
 * (--rootfs=DEVICE). */
#include "core/log.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_glue.h"

/* mkdir -p for the mount point (its parents may be missing too). */
static int make_dirs(const char *path)
{
    char buf[256];
    if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int err = vfs_mkdir_kernel(buf, 0755);
        if (err && err != -EEXIST)
            return err;
        if (!c)
            return 0;
        *p = c;
    }
}

/* Is `word` one of the comma-separated options? */
static bool has_option(const char *opts, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = opts; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == wl && !memcmp(p, word, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

static unsigned long mount_flags(const char *opts)
{
    return (has_option(opts, "ro") ? MS_RDONLY : 0) | (has_option(opts, "noatime") ? MS_NOATIME : 0);
}

static int mount_one(const char *type, const char *dev, const char *dir, const char *opts)
{
    int err = make_dirs(dir);
    struct path where;
    if (!err)
        err = vfs_lookup(NULL, NULL, dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &where);
    if (!err) {
        err = vfs_mount(dev, &where, type, mount_flags(opts), opts);
        path_put(&where);
    }
    return err;
}

int ext4_boot_mount(const char *spec)
{
    char buf[256], *type = buf, *dev, *dir, *opts;
    if (strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    if (!(dev = strchr(type, ',')) || !(dir = strchr(dev + 1, ','))) {
        pr_err("--mount-fs=%s: want TYPE,DEVICE,DIR[,OPTIONS]\n", spec);
        return -EINVAL;
    }
    *dev++ = '\0';
    *dir++ = '\0';
    if ((opts = strchr(dir, ',')) != NULL)
        *opts++ = '\0';
    if (dir[0] != '/') {
        pr_err("--mount-fs=%s: the mount point must be an absolute path\n", spec);
        return -EINVAL;
    }
    int err = mount_one(type, dev, dir, opts);
    if (err)
        pr_err("--mount-fs=%s: cannot mount %s on %s: %s\n", spec, dev, dir, errno_name(err));
    return err;
}

/* The next whitespace-separated field of a line, NUL-terminated in place. */
static char *field(char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
    if (!**p)
        return NULL;
    char *start = *p;
    while (**p && **p != ' ' && **p != '\t')
        (*p)++;
    if (**p)
        *(*p)++ = '\0';
    return start;
}

/* One fstab line: "DEVICE DIR TYPE OPTIONS [DUMP PASS]". */
static int fstab_line(char *line, unsigned *mounted)
{
    char *p = line, *dev = field(&p), *dir = field(&p), *type = field(&p), *opts = field(&p);
    if (!dev || dev[0] == '#')
        return 0;
    if (!dir || !type || dir[0] != '/') {
        pr_err("fstab: cannot read the line for %s\n", dev);
        return -EINVAL;
    }
    static const char *const kernel_made[] = { "swap", "proc", "sysfs", "devtmpfs", "devpts" };
    for (size_t i = 0; i < ARRAY_SIZE(kernel_made); i++)
        if (!strcmp(type, kernel_made[i]))
            return 0; /* no swap; the kernel mounts the pseudo file systems itself */
    if (!strcmp(dir, "/") || !vfs_find_fstype(type))
        return 0; /* the root is mounted already; unknown types are someone else's */
    if (has_option(opts, "noauto"))
        return 0;
    int err = mount_one(type, dev, dir, opts && strcmp(opts, "defaults") ? opts : NULL);
    if (err && has_option(opts, "nofail")) {
        pr_warn("fstab: cannot mount %s on %s (%s): %s; nofail, so booting on\n", dev, dir, type, errno_name(err));
        return 0;
    }
    if (err)
        pr_err("fstab: cannot mount %s on %s (%s): %s\n", dev, dir, type, errno_name(err));
    else
        (*mounted)++;
    return err;
}

int ext4_mount_fstab(const char *path)
{
    struct file *f;
    int err = vfs_open_kernel(path, O_RDONLY, &f);
    if (err)
        return err == -ENOENT ? 0 : err;
    enum { MAX = 8192 };
    char *buf = kmalloc(MAX + 1);
    ssize_t n = buf ? vfs_pread_kernel(f, buf, MAX, 0) : -ENOMEM;
    vfs_file_put(f);
    if (n < 0) {
        kfree(buf);
        return (int)n;
    }
    buf[n] = '\0';
    unsigned mounted = 0;
    int first_err = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        err = fstab_line(line, &mounted);
        if (err && !first_err)
            first_err = err;
        line = nl ? nl + 1 : NULL;
    }
    kfree(buf);
    return first_err ? first_err : (int)mounted;
}

extern struct vfs_fstype ext4_fstype;
/* From the block layer, when it is built in (as ext4_blk_open). */
struct blockdev;
extern struct blockdev *blockdev_find(const char *name) __attribute__((weak));

int ext4_root_sb(const char *source, unsigned long flags, struct vfs_sb **out)
{
    /* Only a disk: an image file would be looked up in a root that does
     * not exist yet. */
    if (!blockdev_find || !blockdev_find(source))
        return -ENODEV;
    int err = ext4_fstype.mount(&ext4_fstype, source, flags, NULL, out);
    if (!err && ((*out)->flags & MS_RDONLY) && !(flags & MS_RDONLY))
        pr_warn("ext4: the root file system %s is read-only\n", source);
    return err;
}
