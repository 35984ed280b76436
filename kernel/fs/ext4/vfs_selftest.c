/* Kernel self-test --test=ext4 (with two ext4 disks, vblk0 and vblk1, each
 * holding /hello): the boot-time mounts (--mount-fs syntax, fstab), one
 * mount per disk, sync and the shutdown write-back. tests/test_ext4.py
 * prepares the disks and checks them on the host afterwards. */
#include "core/selftest.h"
#include "fs/ext4.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vfs_glue.h"

static int write_kernel_file(const char *path, const char *text)
{
    struct file *f;
    int err = vfs_openat(NULL, NULL, path, O_CREAT | O_WRONLY | O_TRUNC, 0644, &f);
    if (err)
        return err;
    ssize_t n = vfs_pwrite_kernel(f, text, strlen(text), 0);
    int e2 = vfs_fsync(f, false);
    vfs_file_put(f);
    return n == (ssize_t)strlen(text) ? e2 : (n < 0 ? (int)n : -EIO);
}

static bool has_hello(const char *path)
{
    struct kstat st;
    return vfs_stat_kernel(path, 0, &st) == 0 && st.size == 6;
}

SELFTEST(ext4, "ext4 boot mounts, fstab, sync and shutdown (disks vblk0 and vblk1)", false)
{
    int failures = 0;
    failures += selftest_check(ext4_boot_mount("ext4,/dev/vblk0,/data/one") == 0,
                               "--mount-fs=ext4,/dev/vblk0,/data/one (the directory is made)");
    failures += selftest_check(has_hello("/data/one/hello"), "a file of the disk is there");
    failures += selftest_check(write_kernel_file("/data/one/written", "written by the self-test\n") == 0,
                               "a new file, written and fsync'ed");
    failures += selftest_check(ext4_boot_mount("ext4,/dev/vblk0,/data/two") == -EBUSY, "the same disk twice: EBUSY");
    failures += selftest_check(ext4_boot_mount("ext4,/dev/vblk9,/data/x") != 0, "a disk that is not there: refused");
    failures += selftest_check(ext4_boot_mount("ext4") == -EINVAL, "a malformed --mount-fs: EINVAL");
    failures += selftest_check(ext4_boot_mount("ext4,/dev/vblk1,relative") == -EINVAL, "a relative mount point: EINVAL");
    static const char fstab[] = "# the image's fstab\n"
                                "/dev/vblk0  /           ext4  defaults  0 1\n"
                                "/dev/vblk1\t/data/fstab\text4\tro,noatime\t0 2\n"
                                "proc        /proc       proc  defaults  0 0\n"
                                "/dev/vblk1  /data/skip  ext4  noauto    0 0\n"
                                "\n";
    failures += selftest_check(write_kernel_file("/tmp/fstab", fstab) == 0, "an fstab in /tmp");
    failures += selftest_check(ext4_mount_fstab("/tmp/fstab") == 1, "fstab: one mount (root, proc and noauto skipped)");
    failures += selftest_check(has_hello("/data/fstab/hello"), "fstab: vblk1's file is there");
    failures += selftest_check(write_kernel_file("/data/fstab/new", "x") == -EROFS, "fstab: ro is honoured (EROFS)");
    failures += selftest_check(ext4_mount_fstab("/tmp/no-such-fstab") == 0, "a missing fstab mounts nothing");
    failures += selftest_check(ext4_sync_all() == 0, "sync of every ext4 mount");
    ext4_shutdown_all(); /* the host checks the disks are marked clean */
    return failures;
}
