/* What a Linux program expects to find in its root filesystem, added to an
 * image when absent: a root user and group, name resolution files (QEMU user
 * networking's DNS server is 10.0.2.3), /tmp, /root, and mount points for
 * the filesystems the kernel mounts itself. */
#include "osprey.h"
#include "fstree.h"

#include <string.h>

static const struct {
    const char *path, *text;
} default_files[] = {
    { "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" },
    { "/etc/group", "root:x:0:\n" },
    { "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" },
    { "/etc/resolv.conf", "nameserver 10.0.2.3\n" },
    { "/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
                            "networks: files\nprotocols: files\nservices: files\n" },
};

static const struct {
    const char *path;
    uint32_t perm;
} default_dirs[] = {
    { "/tmp", 01777 }, { "/root", 0700 }, { "/dev", 0755 }, { "/proc", 0755 }, { "/sys", 0755 },
};

void rootfs_add_defaults(struct fstree *t)
{
    int64_t mtime = fstree_default_mtime();
    for (size_t i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++)
        if (!fstree_resolve(t, default_dirs[i].path))
            fstree_add_dir(t, default_dirs[i].path, default_dirs[i].perm, mtime);
    for (size_t i = 0; i < sizeof(default_files) / sizeof(default_files[0]); i++)
        if (!fstree_resolve(t, default_files[i].path))
            fstree_add_bytes(t, default_files[i].path, default_files[i].text, strlen(default_files[i].text), 0644);
}
