/* /proc/<pid>/ entries about files and memory: fd/ and fdinfo/, the exe,
 * cwd and root links, maps/smaps (the mm code formats them), and mounts and
 * mountinfo as the process sees the mount tree. */
#include "core/proc.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/namei.h"
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"
#include "vfs_internal.h"

/* ---- descriptors ---- */

/* The descriptor's file with a reference, or NULL. */
static struct file *procfs_proc_file(struct proc *p, int fd)
{
    struct fd_table *t = p && fd >= 0 ? proc_files_get(p) : NULL;
    struct file *f = t ? fd_get(t, fd) : NULL;
    if (t)
        fd_table_put(t);
    return f;
}

unsigned procfs_fd_fmode(const struct procfs_node *n)
{
    struct proc *p = procfs_proc_get(n->pid);
    struct file *f = procfs_proc_file(p, n->fd);
    procfs_proc_put(p);
    unsigned fmode = f ? f->fmode : 0;
    vfs_file_put(f);
    return fmode & (FMODE_READ | FMODE_WRITE); /* O_PATH: neither, l--x as on Linux */
}

static int procfs_fd_next_id(const struct procfs_node *dir, int from)
{
    struct proc *p = procfs_proc_get(dir->pid);
    struct fd_table *t = p ? proc_files_get(p) : NULL;
    int found = -1;
    if (t && from >= 0) {
        irqflags_t f = spin_lock(&t->lock);
        for (unsigned fd = (unsigned)from; fd < t->size && found < 0; fd++)
            if (t->files[fd])
                found = (int)fd;
        spin_unlock(&t->lock, f);
    }
    if (t)
        fd_table_put(t);
    procfs_proc_put(p);
    return found;
}

static bool procfs_fd_has_id(const struct procfs_node *dir, int id)
{
    struct proc *p = procfs_proc_get(dir->pid);
    struct file *f = procfs_proc_file(p, id);
    procfs_proc_put(p);
    vfs_file_put(f);
    return f != NULL;
}

static void procfs_fd_enter_id(struct procfs_node *child, int id)
{
    child->fd = id;
}

/* The link target as Linux shows it: a path, "pipe:[ino]", "socket:[ino]"... */
static ssize_t procfs_link_fd(const struct procfs_node *n, struct proc *p, char *buf, size_t size)
{
    struct file *f = procfs_proc_file(p, n->fd);
    if (!f)
        return -ENOENT;
    int len = vfs_file_path(f, buf, size);
    vfs_file_put(f);
    return len;
}

/* fdinfo: the offset, the open flags in octal (close-on-exec included, and
 * O_LARGEFILE, which the kernel adds to every open on x86-64) and the mount. */
static int procfs_show_fdinfo(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    struct file *f = procfs_proc_file(p, n->fd);
    if (!f)
        return -ENOENT;
    unsigned flags = f->flags;
    if (f->path.dentry)
        flags |= O_LARGEFILE;
    struct fd_table *t = proc_files_get(p);
    if (t && fd_get_cloexec(t, n->fd) > 0)
        flags |= O_CLOEXEC;
    if (t)
        fd_table_put(t);
    int mnt_id = f->path.mnt ? f->path.mnt->id : 0;
    procfs_printf(b, "pos:\t%lu\nflags:\t0%o\nmnt_id:\t%d\nino:\t%lu\n", READ_ONCE(f->pos), flags,
                  mnt_id, f->vnode->ino);
    vfs_file_put(f);
    return 0;
}

static const struct procfs_entry procfs_fd_entry = {
    .name = "fd", .mode = 0700, .type = PROCFS_LINK, .flags = PROCFS_FD_MODE, .link_proc = procfs_link_fd,
};
static const struct procfs_entry procfs_fdinfo_entry = PROCFS_PROC_FILE("fdinfo", 0444, procfs_show_fdinfo);

const struct procfs_dir procfs_fd_dir = {
    .numbered = &procfs_fd_entry,
    .next_id = procfs_fd_next_id,
    .has_id = procfs_fd_has_id,
    .enter_id = procfs_fd_enter_id,
};

const struct procfs_dir procfs_fdinfo_dir = {
    .numbered = &procfs_fdinfo_entry,
    .next_id = procfs_fd_next_id,
    .has_id = procfs_fd_has_id,
    .enter_id = procfs_fd_enter_id,
};

/* ---- exe, cwd, root ---- */

/* The program's path, resolved again as exec resolved it (from /), so
 * symlinks and "." in the name it was started by do not show. */
ssize_t procfs_link_exe(const struct procfs_node *n, struct proc *p, char *buf, size_t size)
{
    (void)n;
    if (!p->exe_path)
        return -ENOENT;
    struct path exe;
    if (vfs_lookup(NULL, NULL, p->exe_path, LOOKUP_FOLLOW, &exe) != 0)
        return procfs_link_string(p->exe_path, buf, size);
    ssize_t len = vfs_path_string(&exe, NULL, buf, size);
    path_put(&exe);
    return len;
}

static ssize_t procfs_fs_link(struct proc *p, bool cwd, char *buf, size_t size)
{
    struct fs_context *fs = proc_fs_get(p);
    if (!fs)
        return -ENOENT;
    struct path where, root;
    fs_context_root(fs, &root);
    if (cwd)
        fs_context_cwd(fs, &where);
    else
        fs_context_root(fs, &where);
    fs_context_put(fs);
    ssize_t len = vfs_path_string(&where, cwd ? &root : NULL, buf, size);
    path_put(&where);
    path_put(&root);
    return len;
}

ssize_t procfs_link_cwd(const struct procfs_node *n, struct proc *p, char *buf, size_t size)
{
    (void)n;
    return procfs_fs_link(p, true, buf, size);
}

ssize_t procfs_link_root(const struct procfs_node *n, struct proc *p, char *buf, size_t size)
{
    (void)n;
    return procfs_fs_link(p, false, buf, size);
}

/* ---- memory maps: formatted by mm ---- */

static int procfs_show_vm(struct proc *p, struct procfs_buf *b,
                          size_t (*format)(struct vm_space *, char *, size_t))
{
    struct vm_space *vm = proc_vm_get(p);
    if (!vm)
        return 0;
    size_t avail;
    char *at = procfs_room(b, &avail);
    procfs_advance(b, format(vm, at, avail));
    vm_space_put(vm);
    return 0;
}

int procfs_show_maps(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_vm(p, b, vm_format_maps);
}

int procfs_show_smaps(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_vm(p, b, vm_format_smaps);
}

int procfs_show_smaps_rollup(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    return procfs_show_vm(p, b, vm_format_smaps_rollup);
}

/* ---- mounts ---- */

int procfs_show_mounts(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    struct fs_context *fs = proc_fs_get(p);
    if (!fs)
        return -ESRCH;
    struct path root;
    fs_context_root(fs, &root);
    fs_context_put(fs);
    for (struct mount *m = vfs_next_mount(NULL); m; m = vfs_next_mount(m)) {
        size_t avail;
        char *at = procfs_room(b, &avail);
        size_t len = vfs_mount_describe(m, &root, at, avail);
        /* it reports what it wrote: a full buffer may mean a cut line */
        procfs_advance(b, len + 1 >= avail ? avail + PATH_MAX : len);
        procfs_puts(b, "\n");
    }
    path_put(&root);
    return 0;
}

/* Names in mountinfo escape space, tab, newline and backslash in octal. */
static void procfs_mangled(struct procfs_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
            procfs_printf(b, "\\%03o", (unsigned)(unsigned char)*s);
        else
            procfs_putbytes(b, s, 1);
    }
}

/* The mount's root inside its file system ("/" unless a bind mount of a
 * subdirectory): the names up to the file system's root, right-aligned. */
static void procfs_mount_fs_root(struct procfs_buf *b, struct mount *m, char *tmp, size_t size)
{
    size_t pos = size - 1;
    tmp[pos] = '\0';
    struct dentry *d = dentry_get(m->root);
    while (d) {
        struct dentry *parent = dentry_get_parent(d);
        if (parent) {
            char name[NAME_MAX + 1];
            size_t len = dentry_name(d, name, sizeof(name));
            if (len + 1 <= pos) { /* deeper than fits: show the part that does */
                pos -= len;
                memcpy(tmp + pos, name, len);
                tmp[--pos] = '/';
            }
        }
        dentry_put(d);
        d = parent;
    }
    procfs_mangled(b, tmp[pos] ? tmp + pos : "/");
}

static void procfs_mount_opts(struct procfs_buf *b, unsigned long flags)
{
    procfs_puts(b, flags & MS_RDONLY ? "ro" : "rw");
    if (flags & MS_NOSUID)
        procfs_puts(b, ",nosuid");
    if (flags & MS_NODEV)
        procfs_puts(b, ",nodev");
    if (flags & MS_NOEXEC)
        procfs_puts(b, ",noexec");
    procfs_puts(b, flags & MS_NOATIME ? ",noatime" : ",relatime");
}

/* One mountinfo line: ids, device, root, mount point, options, "-", type,
 * source, super options (proc_pid_mountinfo(5)). */
static void procfs_mountinfo_line(struct procfs_buf *b, struct mount *m, const struct path *root,
                                  char *tmp)
{
    struct path top = { m, m->root };
    int len = vfs_path_string(&top, root, tmp, PATH_MAX);
    if (len < 0)
        return; /* not reachable from the process's root */
    dev_t dev = m->sb->dev;
    procfs_printf(b, "%d %d %u:%u ", m->id, m->parent ? m->parent->id : m->id, DEV_MAJOR(dev),
                  DEV_MINOR(dev));
    char *where = kmalloc(PATH_MAX);
    if (where) {
        memcpy(where, tmp, (size_t)len + 1);
        procfs_mount_fs_root(b, m, tmp, PATH_MAX);
        procfs_puts(b, " ");
        procfs_mangled(b, where);
        kfree(where);
    }
    procfs_puts(b, " ");
    procfs_mount_opts(b, m->flags);
    procfs_printf(b, " - %s ", m->sb->type ? m->sb->type->name : "none");
    procfs_mangled(b, m->source ? m->source : "none");
    procfs_puts(b, m->sb->flags & MS_RDONLY ? " ro" : " rw");
    char opts[128] = "";
    if (m->sb->ops && m->sb->ops->show_options)
        m->sb->ops->show_options(m->sb, opts, sizeof(opts));
    procfs_printf(b, "%s%s\n", opts[0] ? "," : "", opts);
}

int procfs_show_mountinfo(const struct procfs_node *n, struct proc *p, struct procfs_buf *b)
{
    (void)n;
    struct fs_context *fs = proc_fs_get(p);
    if (!fs)
        return -ESRCH;
    char *tmp = kmalloc(PATH_MAX);
    struct path root;
    fs_context_root(fs, &root);
    fs_context_put(fs);
    if (!tmp) {
        path_put(&root);
        return -ENOMEM;
    }
    for (struct mount *m = vfs_next_mount(NULL); m; m = vfs_next_mount(m))
        procfs_mountinfo_line(b, m, &root, tmp);
    path_put(&root);
    kfree(tmp);
    return 0;
}
