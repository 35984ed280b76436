/* devfs ("devtmpfs"): a ramfs instance filled with Osprey's device nodes and
 * the usual links; programs may add files as on Linux. /dev/ptmx and
 * /dev/pts are absent on purpose: there are no pseudo-terminals, and a
 * lookup of them logs that once so the ENOENT is explained. */
#include "core/log.h"
#include "fs/devfs.h"
#include "fs/ramfs.h"
#include "fs/random.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/mm.h"

static struct vnode_ops devfs_root_ops;

static int devfs_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
    int err = ramfs_dir_ops.lookup(dir, name, len, out);
    static bool told;
    if (err == -ENOENT && !told && ((len == 4 && memcmp(name, "ptmx", 4) == 0) ||
                                    (len == 3 && memcmp(name, "pts", 3) == 0))) {
        told = true;
        pr_notice("devfs: /dev/%.*s does not exist: Osprey has no pseudo-terminals\n", (int)len, name);
    }
    return err;
}

static int add_node(struct vnode *dir, const char *name, uint32_t mode, dev_t dev)
{
    struct vnode *v;
    int err = dir->ops->create(dir, name, strlen(name), mode, dev, &v);
    if (!err)
        vnode_put(v);
    return err;
}

static int add_link(struct vnode *dir, const char *name, const char *target)
{
    struct vnode *v;
    int err = dir->ops->symlink(dir, name, strlen(name), target, &v);
    if (!err)
        vnode_put(v);
    return err;
}

static int add_dir(struct vnode *dir, const char *name, uint32_t mode)
{
    struct vnode *v;
    int err = dir->ops->mkdir(dir, name, strlen(name), S_IFDIR | mode, &v);
    if (!err)
        vnode_put(v);
    return err;
}

static const struct {
    const char *name;
    unsigned major, minor;
    uint32_t mode;
} devfs_nodes[] = {
    { "null", DEV_MEM_MAJOR, DEV_NULL_MINOR, 0666 },
    { "zero", DEV_MEM_MAJOR, DEV_ZERO_MINOR, 0666 },
    { "full", DEV_MEM_MAJOR, DEV_FULL_MINOR, 0666 },
    { "random", DEV_MEM_MAJOR, DEV_RANDOM_MINOR, 0666 },
    { "urandom", DEV_MEM_MAJOR, DEV_URANDOM_MINOR, 0666 },
    { "tty", DEV_TTYAUX_MAJOR, DEV_TTY_MINOR, 0666 },
    { "console", DEV_TTYAUX_MAJOR, DEV_CONSOLE_MINOR, 0600 },
};

static int devfs_populate(struct vnode *root)
{
    int err = 0;
    for (size_t i = 0; i < ARRAY_SIZE(devfs_nodes) && !err; i++)
        err = add_node(root, devfs_nodes[i].name, S_IFCHR | devfs_nodes[i].mode,
                       MKDEV(devfs_nodes[i].major, devfs_nodes[i].minor));
    if (!err)
        err = add_link(root, "stdin", "/proc/self/fd/0");
    if (!err)
        err = add_link(root, "stdout", "/proc/self/fd/1");
    if (!err)
        err = add_link(root, "stderr", "/proc/self/fd/2");
    if (!err)
        err = add_link(root, "fd", "/proc/self/fd");
    if (!err)
        err = add_dir(root, "shm", 01777); /* POSIX shared memory (shm_open) */
    return err;
}

static int devfs_mount(const struct vfs_fstype *type, const char *source, unsigned long flags,
                       const char *data, struct vfs_sb **out)
{
    (void)source, (void)flags, (void)data;
    struct ramfs_sb *rs;
    int err = ramfs_create_sb(type, TMPFS_MAGIC, mm_total_ram() / 2, 0755, &rs);
    if (err)
        return err;
    rs->sb.root->ops = &devfs_root_ops;
    err = devfs_populate(rs->sb.root);
    if (err) {
        ramfs_destroy(&rs->sb);
        return err;
    }
    *out = &rs->sb;
    return 0;
}

struct vfs_fstype devfs_fstype = { .name = "devtmpfs", .mount = devfs_mount, .nodev = true };

void devfs_init(void)
{
    devfs_root_ops = ramfs_dir_ops;
    devfs_root_ops.lookup = devfs_lookup;
    random_init();
    devfs_mem_register();
    devfs_console_register();
}
