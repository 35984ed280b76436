/* The /proc root: its fixed entries (system-wide files, self, thread-self,
 * sys/), the process directories after them, and the "proc" file system type. */
#include "core/proc.h"
#include "core/thread.h"
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/printf.h"

/* self and thread-self name the reader, so they resolve differently for
 * every thread; a kernel thread has neither. */
static ssize_t procfs_link_self(const struct procfs_node *n, char *buf, size_t size)
{
    (void)n;
    struct proc *p = proc_current();
    if (!p)
        return -ENOENT;
    char tmp[16];
    snprintf(tmp, sizeof(tmp), "%d", p->pid);
    return procfs_link_string(tmp, buf, size);
}

static ssize_t procfs_link_thread_self(const struct procfs_node *n, char *buf, size_t size)
{
    (void)n;
    struct thread *t = thread_current();
    if (!t || !t->proc)
        return -ENOENT;
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%d/task/%d", t->proc->pid, t->utid);
    return procfs_link_string(tmp, buf, size);
}

static ssize_t procfs_link_mounts(const struct procfs_node *n, char *buf, size_t size)
{
    (void)n;
    return procfs_link_string("self/mounts", buf, size);
}

static const struct procfs_entry procfs_root_entries[] = {
    PROCFS_FILE_RO("cmdline", procfs_show_cmdline_kernel),
    PROCFS_FILE_RO("cpuinfo", procfs_show_cpuinfo),
    PROCFS_FILE_RO("filesystems", procfs_show_filesystems),
    PROCFS_FILE_RO("loadavg", procfs_show_loadavg),
    PROCFS_FILE_RO("meminfo", procfs_show_meminfo),
    PROCFS_LINK("mounts", procfs_link_mounts),
    PROCFS_LINK("self", procfs_link_self),
    PROCFS_FILE_RO("stat", procfs_show_stat_system),
    PROCFS_FILE_RO("swaps", procfs_show_swaps),
    PROCFS_DIR("sys", procfs_sys_dir),
    PROCFS_LINK("thread-self", procfs_link_thread_self),
    PROCFS_FILE_RO("uptime", procfs_show_uptime),
    PROCFS_FILE_RO("version", procfs_show_version),
};

static const struct procfs_dir procfs_root_dir = {
    PROCFS_TABLE(procfs_root_entries),
    .numbered = &procfs_pid_entry,
    .next_id = procfs_root_next_id,
    .has_id = procfs_root_has_id,
    .enter_id = procfs_root_enter_id,
};

static const struct procfs_entry procfs_root_entry = PROCFS_DIR("/", procfs_root_dir);

static int procfs_mount(const struct vfs_fstype *type, const char *source, unsigned long flags,
                        const char *data, struct vfs_sb **out)
{
    (void)source, (void)flags, (void)data;
    return procfs_mount_table(type, PROC_SUPER_MAGIC, &procfs_root_entry, out);
}

struct vfs_fstype procfs_fstype = { .name = "proc", .mount = procfs_mount, .nodev = true };

void procfs_init(void)
{
    vfs_register_fstype(&procfs_fstype);
}
