/* Boot-time file system set-up: the root from the initrd (or empty), then
 * /dev, /tmp, /proc and /sys. */
#include "arch/boot_info.h"
#include "core/log.h"
#include "fs/cpio.h"
#include "fs/cpio_unpack.h"
#include "fs/devfs.h"
#include "fs/namei.h"
#include "fs/pipe.h"
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "mm/phys.h"
#include "vfs_internal.h"

static bool vfs_is_ready;

/* Set-up of the other file kinds and file systems, where they exist: each
 * registers its types (procfs "proc", sysfs "sysfs") or hooks (pipes). */
extern void pipe_init(void) __attribute__((weak));
extern void procfs_init(void) __attribute__((weak));
extern void sysfs_init(void) __attribute__((weak));
extern void ext4_register_fstypes(void) __attribute__((weak)); /* "ext4", "ext3", "ext2" */

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
    struct ramfs_sb *rs = root_from_initrd();
    if (boot_info.initrd_size)
        release_initrd();
    if (!rs && ramfs_create_sb(&ramfs_fstype, RAMFS_MAGIC, 0, 0755, &rs) != 0)
        return -ENOMEM;
    int err = vfs_mount_root_sb(&rs->sb, "rootfs");
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
            pr_err("vfs: cannot set up %s: error %d\n", mounts[i].where, err);
            return err;
        }
    }
    vfs_is_ready = true;
    return 0;
}
