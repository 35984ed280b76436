/* Boot-time file system set-up: the root from the initrd (or empty) or a
 * disk (--rootfs), then /dev, /tmp, /proc and /sys, /etc/fstab, --mount-fs. */
#include "arch/boot_info.h"
#include "core/bootopts.h"
#include "core/log.h"
#include "fs/cpio.h"
#include "fs/cpio_unpack.h"
#include "fs/devfs.h"
#include "fs/namei.h"
#include "fs/pipe.h"
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"
#include "vfs_internal.h"

static bool vfs_is_ready;

/* Set-up of the other file kinds and file systems, where they exist: each
 * registers its types (procfs "proc", sysfs "sysfs") or hooks (pipes). */
extern void pipe_init(void) __attribute__((weak));
extern void procfs_init(void) __attribute__((weak));
extern void sysfs_init(void) __attribute__((weak));
extern void ext4_register_fstypes(void) __attribute__((weak)); /* "ext4", "ext3", "ext2" */
/* Disk roots and boot-time mounts live with ext4 (kernel/fs/ext4/vfs_boot.c);
 * a kernel without it refuses --rootfs=DISK and --mount-fs clearly. */
extern int ext4_root_sb(const char *source, unsigned long flags, struct vfs_sb **out) __attribute__((weak));
extern int ext4_boot_mount(const char *spec) __attribute__((weak));
extern int ext4_mount_fstab(const char *path) __attribute__((weak));

bool vfs_ready(void)
{
    return vfs_is_ready;
}

/* The initrd's frames were never given to the allocator; once unpacked (or
 * refused) nothing refers to them, so whole pages go back. */
static void release_initrd(void)
{
    uint64_t start = ALIGN_UP(boot_info.initrd_base, (uint64_t)4096);
    uint64_t end = ALIGN_DOWN(boot_info.initrd_base + boot_info.initrd_size, (uint64_t)4096);
    if (end > start)
        phys_release_range(start, end);
}

/* A ramfs root filled from the initrd, or NULL (the reason logged). */
static struct ramfs_sb *root_from_initrd(void)
{
    if (!boot_info.initrd_size)
        return NULL;
    struct ramfs_sb *rs;
    if (ramfs_create_sb(&ramfs_fstype, RAMFS_MAGIC, 0, 0755, &rs) != 0) {
        pr_err("initrd: out of memory for the root file system\n");
        return NULL;
    }
    static char err[CPIO_ERR_MAX + 256];
    struct cpio_unpack_stats st;
    int rc = cpio_unpack(phys_to_virt(boot_info.initrd_base), boot_info.initrd_size, &rs->sb, &st,
                         err, sizeof(err));
    if (rc) {
        pr_err("initrd: refused, not a valid cpio newc archive: %s; booting with an empty root\n", err);
        ramfs_destroy(&rs->sb);
        return NULL;
    }
    pr_info("initrd: %lu entries (%lu files, %lu directories, %lu symlinks, %lu hard links), %lu KiB of data\n",
            st.entries, st.files, st.dirs, st.symlinks, st.hardlinks, st.bytes >> 10);
    return rs;
}

/* --rootfs=/dev/NAME (or a type name: the first disk). The value's form was
 * checked with the other boot options; here the disk itself may be missing
 * or hold no file system we know, and the log says which. */
static int root_from_disk(const char *spec, const char *dev, struct vfs_sb **out)
{
    if (!ext4_root_sb) {
        pr_err("--rootfs=%s: this kernel has no disk file systems (ext4 is not built in)\n", spec);
        return -ENODEV;
    }
    int err = ext4_root_sb(dev, 0, out);
    if (err == -ENODEV)
        pr_err("--rootfs=%s: no disk %s (disks are /dev/vblk0, /dev/vblk1, ... in the order attached)\n", spec, dev);
    else if (err)
        pr_err("--rootfs=%s: cannot mount %s as the root: %s\n", spec, dev, errno_name(err));
    else
        pr_info("vfs: the root file system is %s\n", dev);
    return err;
}

static bool root_is_initrd(void)
{
    const char *r = boot_options.rootfs;
    return !r || !strcmp(r, "initrd") || !strcmp(r, "ramfs");
}

/* The root: a disk when asked for, else the initrd's files in a ramfs. */
static int mount_root(void)
{
    if (!root_is_initrd()) {
        if (boot_info.initrd_size) {
            pr_info("initrd: not used, the root file system is on a disk\n");
            release_initrd();
        }
        const char *spec = boot_options.rootfs, *dev = spec[0] == '/' ? spec : "/dev/vblk0";
        struct vfs_sb *sb;
        int err = root_from_disk(spec, dev, &sb);
        return err ? err : vfs_mount_root_sb(sb, dev);
    }
    struct ramfs_sb *rs = root_from_initrd();
    if (boot_info.initrd_size)
        release_initrd();
    if (!rs && ramfs_create_sb(&ramfs_fstype, RAMFS_MAGIC, 0, 0755, &rs) != 0)
        return -ENOMEM;
    return vfs_mount_root_sb(&rs->sb, "rootfs");
}

/* What the image's /etc/fstab and the --mount-fs options ask for, in that
 * order (the command line may mount over the image's choices). A mount that
 * fails stops the boot: the program would otherwise run on the wrong files. */
static int mount_requested(void)
{
    if (ext4_mount_fstab) {
        int n = ext4_mount_fstab("/etc/fstab");
        if (n < 0) {
            pr_err("vfs: /etc/fstab: a file system it lists cannot be mounted (add nofail to its options "
                   "to boot without it)\n");
            return n;
        }
        if (n > 0)
            pr_info("vfs: %d file system(s) mounted from /etc/fstab\n", n);
    }
    for (unsigned i = 0; i < boot_options.mount_count; i++) {
        if (!ext4_boot_mount) {
            pr_err("--mount-fs=%s: this kernel has no disk file systems (ext4 is not built in)\n",
                   boot_options.mount_fs[i]);
            return -ENODEV;
        }
        int err = ext4_boot_mount(boot_options.mount_fs[i]);
        if (err)
            return err; /* ext4_boot_mount logged why */
    }
    return 0;
}

static int mount_at(const char *where, const char *fstype, unsigned long flags, const char *data)
{
    int err = vfs_mkdir_kernel(where, 0755);
    if (err && err != -EEXIST)
        return err;
    struct path p;
    err = vfs_lookup(NULL, NULL, where, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
    if (err)
        return err;
    if (fstype)
        err = vfs_mount(fstype, &p, fstype, flags, data);
    path_put(&p);
    return err;
}

int vfs_init(void)
{
    if (vfs_is_ready)
        return 0;
    vfs_register_fstype(&ramfs_fstype);
    vfs_register_fstype(&tmpfs_fstype);
    vfs_register_fstype(&devfs_fstype);
    devfs_init();
    if (pipe_init)
        pipe_init(); /* FIFOs open as pipes */
    if (procfs_init)
        procfs_init(); /* the "proc" and "sysfs" types: /proc and /sys mount below */
    if (sysfs_init)
        sysfs_init();
    if (ext4_register_fstypes)
        ext4_register_fstypes();
    int err = mount_root();
    if (err)
        return err;
    static const struct { const char *where, *type; unsigned long flags; } mounts[] = {
        { "/dev", "devtmpfs", MS_NOSUID },
        { "/tmp", "tmpfs", MS_NOSUID | MS_NODEV },
        { "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC }, /* when registered */
        { "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC },
    };
    for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
        const char *type = mounts[i].type && vfs_find_fstype(mounts[i].type) ? mounts[i].type : NULL;
        err = mount_at(mounts[i].where, type, mounts[i].flags, NULL);
        if (err) {
            pr_err("vfs: cannot set up %s: %s%s\n", mounts[i].where, errno_name(err),
                   err == -EROFS ? " (the read-only root has no such directory; create it in the image)" : "");
            return err;
        }
    }
    err = mount_requested();
    if (err)
        return err;
    vfs_is_ready = true;
    return 0;
}
