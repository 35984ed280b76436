/* The virtual file system: vnodes, names (dentries), mounts, open files, and
 * the operations every file system (ramfs, devfs, later ext4, virtio-fs,
 * procfs, sysfs) and every file kind (pipes, sockets, devices) implements.
 * docs/filesystems.md describes the design and its locking. */
#pragma once

#include "core/mutex.h"
#include "fs/uapi.h"
#include "lib/errno.h"
#include "lib/list.h"
#include "lib/types.h"

struct vnode;
struct dentry;
struct mount;
struct vfs_sb;
struct file;
struct uio;
struct poll_table;
struct page;
struct fs_context;
struct vfs_lock;

/* ------------------------------------------------------------------ vnodes */

/* A setattr request: the fields named in mask change (ctime always does). */
#define VATTR_MODE 0x01
#define VATTR_UID 0x02
#define VATTR_GID 0x04
#define VATTR_SIZE 0x08
#define VATTR_ATIME 0x10
#define VATTR_MTIME 0x20
#define VATTR_CTIME 0x40 /* set ctime to `ctime` instead of now */

struct vattr {
    unsigned mask;
    uint32_t mode, uid, gid;
    uint64_t size;
    struct timespec atime, mtime, ctime;
};

/* Directory iteration: the file system calls emit for each entry from
 * ctx->pos on, giving the position just after the entry; emit returns false
 * when the caller's buffer is full (the entry is then not consumed). */
struct dir_ctx {
    uint64_t pos;
    bool (*emit)(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype,
                 uint64_t next_pos);
};

/* Namespace and attribute operations. Names are (pointer, length) and not
 * NUL-terminated. The VFS holds the directory's vnode lock around every
 * directory operation (both directories' for rename) and has checked the
 * name, the types and that the target does or does not exist. Any op may be
 * NULL: the VFS then answers EPERM (namespace ops) or EINVAL. */
struct vnode_ops {
    /* The vnode with one new reference, or -ENOENT. */
    int (*lookup)(struct vnode *dir, const char *name, size_t len, struct vnode **out);
    /* Regular files, device nodes, FIFOs and sockets (mode has the type). */
    int (*create)(struct vnode *dir, const char *name, size_t len, uint32_t mode, dev_t rdev,
                  struct vnode **out);
    int (*mkdir)(struct vnode *dir, const char *name, size_t len, uint32_t mode, struct vnode **out);
    int (*symlink)(struct vnode *dir, const char *name, size_t len, const char *target,
                   struct vnode **out);
    int (*link)(struct vnode *dir, const char *name, size_t len, struct vnode *target);
    int (*unlink)(struct vnode *dir, const char *name, size_t len, struct vnode *victim);
    /* -ENOTEMPTY when victim has entries. */
    int (*rmdir)(struct vnode *dir, const char *name, size_t len, struct vnode *victim);
    /* Move (odir, oname) to (ndir, nname), replacing or (RENAME_EXCHANGE)
     * swapping with `target` when that exists; -ENOTEMPTY for a directory
     * target with entries. */
    int (*rename)(struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir,
                  const char *nname, size_t nlen, struct vnode *target, unsigned flags);
    int (*readdir)(struct vnode *dir, struct dir_ctx *ctx);
    /* The target's length (not terminated) or -errno; size is at least PATH_MAX. */
    ssize_t (*readlink)(struct vnode *v, char *buf, size_t size);
    /* Refresh the vnode's attribute fields before a stat (optional). */
    int (*getattr)(struct vnode *v);
    int (*setattr)(struct vnode *v, const struct vattr *a);
};

/* A file system object. Attributes live here so that stat needs no call into
 * the file system; the file system keeps them current. `refs` counts
 * in-memory users (dentries, open files, the file system's own links such as
 * ramfs directory entries); when it reaches zero the superblock's evict op
 * decides what to free. */
struct vnode {
    uint32_t refs;                  /* atomic */
    uint32_t mode;
    uint32_t nlink, uid, gid;
    uint32_t blksize;
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;                /* 512-byte units actually used */
    dev_t rdev;
    struct timespec atime, mtime, ctime, btime;
    struct vfs_sb *sb;
    const struct vnode_ops *ops;
    const struct file_ops *fops;    /* what opening it gives (devices: from rdev) */
    struct mutex lock;              /* directory contents; file data and size */
    struct list_node locks;         /* advisory locks (fs/vfs_lock.c), under its own lock */
    void *priv;
};

void vnode_init(struct vnode *v, struct vfs_sb *sb, uint32_t mode, const struct vnode_ops *ops,
                const struct file_ops *fops);
struct vnode *vnode_get(struct vnode *v);
void vnode_put(struct vnode *v);
/* Set atime/mtime/ctime (bits VATTR_ATIME|VATTR_MTIME|VATTR_CTIME) to now. */
void vnode_touch(struct vnode *v, unsigned which);
struct timespec vfs_now(void);

/* ------------------------------------------------------------- file systems */

struct vfs_sb_ops {
    int (*statfs)(struct vfs_sb *sb, struct statfs *st); /* f_type, f_flags filled by the VFS */
    /* The last reference to v went away (e.g. free an unlinked ramfs file). */
    void (*evict)(struct vnode *v);
    /* The last mount is gone and no vnode is in use: free everything. */
    void (*destroy)(struct vfs_sb *sb);
    int (*sync)(struct vfs_sb *sb);
    /* Mount options as /proc/mounts shows them after "rw" (e.g. "size=64m"). */
    void (*show_options)(struct vfs_sb *sb, char *buf, size_t size);
};

struct vfs_sb {
    const struct vfs_fstype *type;
    const struct vfs_sb_ops *ops;
    struct vnode *root;
    dev_t dev;                      /* st_dev of its files */
    uint64_t magic;                 /* statfs f_type */
    unsigned long flags;            /* MS_RDONLY ... */
    uint32_t mounts;                /* mounts showing it (under the mount lock) */
    struct list_node dentries;      /* its cached names (under the dcache lock) */
    const char *anon_name;          /* pseudo file systems: "pipe", "socket", ... */
    bool dying;                     /* being destroyed: unused names are freed, not cached */
    void *priv;
};

struct vfs_fstype {
    const char *name;
    /* A new superblock for `source` with options `data` (may be NULL). */
    int (*mount)(const struct vfs_fstype *type, const char *source, unsigned long flags,
                 const char *data, struct vfs_sb **out);
    bool nodev;                     /* /proc/filesystems prints "nodev" */
    struct vfs_fstype *next;
};

void vfs_register_fstype(struct vfs_fstype *t);
const struct vfs_fstype *vfs_find_fstype(const char *name);
/* Iterate registered types (for /proc/filesystems): NULL starts. */
const struct vfs_fstype *vfs_next_fstype(const struct vfs_fstype *prev);
/* Common superblock set-up: a fresh device number, the dentry list. */
void vfs_sb_init(struct vfs_sb *sb, const struct vfs_fstype *type, const struct vfs_sb_ops *ops,
                 uint64_t magic);
/* A superblock for files that have no name (pipes, sockets, eventfds):
 * vfs_file_path shows "NAME:[ino]". */
struct vfs_sb *vfs_anon_sb(const char *name, uint64_t magic);
/* A kmalloc'd vnode on such a superblock (freed with its last reference). */
struct vnode *vfs_anon_vnode(struct vfs_sb *sb, uint32_t mode, const struct file_ops *fops);

/* ---------------------------------------------------------- names and mounts */

struct dentry {
    struct list_node hash_link;     /* cache bucket, while hashed */
    struct list_node lru_link;      /* unused list, while refs == 0 */
    struct list_node sb_link;
    struct dentry *parent;          /* NULL for a file system's root; holds a reference */
    struct vnode *vnode;            /* holds a reference */
    struct vfs_sb *sb;
    uint32_t refs;
    uint32_t hash;
    uint32_t mounted;               /* mounts whose mount point this is */
    uint16_t len;
    uint8_t flags;
    char *name;
    char inline_name[32];
};
#define DENTRY_HASHED 0x1
#define DENTRY_DEAD 0x2             /* its name was removed */

struct mount {
    struct list_node link;          /* the mount list (newest first) */
    struct vfs_sb *sb;
    struct dentry *root;
    struct mount *parent;           /* NULL for the root mount */
    struct dentry *mountpoint;      /* in parent */
    uint32_t refs;                  /* paths using it, plus one while attached */
    int id;
    unsigned long flags;            /* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME ... */
    bool attached;
    char *source;
};

/* A place in the tree: both members hold references (or both are NULL). */
struct path {
    struct mount *mnt;
    struct dentry *dentry;
};

static inline struct vnode *path_vnode(const struct path *p)
{
    return p->dentry ? p->dentry->vnode : NULL;
}

void path_get(struct path *p);
void path_put(struct path *p);
bool path_equal(const struct path *a, const struct path *b);

struct dentry *dentry_get(struct dentry *d);
void dentry_put(struct dentry *d);
/* The cached name `name` in parent, with a reference, or NULL. */
struct dentry *dcache_lookup(struct dentry *parent, const char *name, size_t len);
/* Cache a new name for v (taking a vnode reference): the dentry with a
 * reference, or NULL when out of memory. parent NULL: a file system root. */
struct dentry *dentry_add(struct dentry *parent, const char *name, size_t len, struct vnode *v);
/* The name was removed (unlink, rmdir, replaced by rename). */
void dentry_unhash(struct dentry *d);
/* rename: d now lives as (parent, name). 0 or -ENOMEM. */
int dentry_move(struct dentry *d, struct dentry *parent, const char *name, size_t len);
/* RENAME_EXCHANGE: the two names swap places. */
void dentry_exchange(struct dentry *a, struct dentry *b);
/* Drop every unused cached name of sb (before it is destroyed). */
void dcache_prune_sb(struct vfs_sb *sb);
/* Copy d's name into buf (NUL-terminated); its length. */
size_t dentry_name(struct dentry *d, char *buf, size_t size);
struct mount *mount_get(struct mount *m);
void mount_put(struct mount *m);

/* The root of everything (the first mount), with references. */
void vfs_root_path(struct path *out);

/* Mount a new instance of fstype on `where`. */
int vfs_mount(const char *source, const struct path *where, const char *fstype,
              unsigned long flags, const char *data);
int vfs_bind_mount(const struct path *from, const struct path *where, unsigned long flags);
int vfs_remount(const struct path *where, unsigned long flags);
int vfs_umount(const struct path *where, int flags);
/* Iterate attached mounts in mount order (for /proc/mounts): NULL starts; the
 * returned mount carries a reference the next call (or mount_put) drops. */
struct mount *vfs_next_mount(struct mount *prev);
/* "/proc/mounts"-style line for m (no newline); its length. */
size_t vfs_mount_describe(struct mount *m, const struct path *root, char *buf, size_t size);

/* ------------------------------------------------------------- open files */

/* I/O requests: a list of segments in application or kernel memory. */
struct uio {
    const struct iovec *iov;
    unsigned iovcnt;
    size_t iov_off;                 /* progress within iov[0] */
    size_t resid;                   /* bytes left */
    bool user;                      /* segments are application addresses */
    bool fault;                     /* a copy hit a bad address */
    struct iovec one;
};

void uio_init_kernel(struct uio *u, void *buf, size_t len);
void uio_init_user(struct uio *u, void *buf, size_t len);
/* The iov array must outlive the uio (segments are checked by the caller). */
void uio_init_iov(struct uio *u, const struct iovec *iov, unsigned iovcnt, size_t total, bool user);
/* Copy into the request (a read) or out of it (a write): bytes moved; fewer
 * than n when the request is exhausted or an address is bad (u->fault). */
size_t uio_copy_out(struct uio *u, const void *src, size_t n);
size_t uio_copy_in(struct uio *u, void *dst, size_t n);
size_t uio_zero(struct uio *u, size_t n);
/* Consume n bytes without touching them (/dev/null). */
size_t uio_skip(struct uio *u, size_t n);
/* What a read or write returns after moving `done` bytes. */
static inline ssize_t uio_result(const struct uio *u, size_t done)
{
    return done == 0 && u->fault ? -EFAULT : (ssize_t)done;
}

/* Per-open-file behaviour, chosen when a vnode is opened (or when an
 * anonymous file is made). Every op may be NULL. */
struct file_ops {
    int (*open)(struct vnode *v, struct file *f);
    void (*release)(struct file *f);
    /* Read or write at *pos and advance it; the caller holds the file's
     * position lock when pos is the file's own offset. O_APPEND is the
     * write op's job (it knows the size under its lock). */
    ssize_t (*read)(struct file *f, struct uio *u, uint64_t *pos);
    ssize_t (*write)(struct file *f, struct uio *u, uint64_t *pos);
    int (*ioctl)(struct file *f, unsigned long cmd, unsigned long arg);
    /* Readiness (POLLIN/POLLOUT/...); register with poll_wait(pt, head). */
    unsigned (*poll)(struct file *f, struct poll_table *pt);
    /* File mmap: the page holding pgoff with a reference for the caller. */
    int (*get_page)(struct file *f, uint64_t pgoff, struct page **out);
    int (*fsync)(struct file *f, bool datasync);
    int (*fallocate)(struct file *f, int mode, uint64_t off, uint64_t len);
    /* SEEK_DATA/SEEK_HOLE: the next data (or hole) offset at or after off. */
    int (*seek_data)(struct file *f, uint64_t off, int whence, uint64_t *out);
    /* fcntl commands the VFS does not know (F_GETPIPE_SZ, F_SETPIPE_SZ,
     * F_ADD_SEALS...); -EINVAL (or -EBADF for pipe sizes) when NULL. */
    long (*fcntl)(struct file *f, int cmd, unsigned long arg);
    unsigned flags;
};
#define FOPS_STREAM 0x1             /* no offset: lseek and pread give ESPIPE */
#define FOPS_SIZE_SEEK 0x2          /* SEEK_END uses the vnode size (regular files) */

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_PATH 0x4              /* O_PATH: only a handle */

/* An open file description: shared by dup'd descriptors. */
struct file {
    uint32_t refs;                  /* atomic */
    unsigned fmode;
    unsigned flags;                 /* O_ACCMODE and the status flags */
    struct mutex pos_lock;
    uint64_t pos;
    struct path path;               /* empty for anonymous files */
    struct vnode *vnode;            /* holds a reference */
    const struct file_ops *ops;
    void *priv;                     /* the file kind's state */
    bool locked;                    /* has held flock/OFD locks (close releases them) */
    struct list_node epoll_links;   /* its epoll registrations (fs/epoll.c); zeroed: none */
};

struct file *vfs_file_ref(struct file *f);
void vfs_file_put(struct file *f);
/* A file on a vnode without a name (pipes, sockets, eventfds); takes over
 * the caller's vnode reference. flags: O_ACCMODE | status flags. */
int vfs_file_alloc_anon(struct vnode *v, const struct file_ops *ops, unsigned flags, void *priv,
                        struct file **out);
/* Open the vnode at path p (references are taken, not consumed). */
int vfs_open_path(const struct path *p, unsigned flags, struct file **out);

ssize_t vfs_read(struct file *f, struct uio *u, uint64_t *pos);
ssize_t vfs_write(struct file *f, struct uio *u, uint64_t *pos);
/* read/write at the file's own offset (taking its lock). */
ssize_t vfs_read_at_pos(struct file *f, struct uio *u);
ssize_t vfs_write_at_pos(struct file *f, struct uio *u);
int64_t vfs_llseek(struct file *f, int64_t off, int whence);
unsigned vfs_poll(struct file *f, struct poll_table *pt);
int vfs_ioctl(struct file *f, unsigned long cmd, unsigned long arg);
int vfs_fsync(struct file *f, bool datasync);
int vfs_fallocate(struct file *f, int mode, uint64_t off, uint64_t len);
int vfs_iterate_dir(struct file *f, struct dir_ctx *ctx);
/* File mmap hook: -ENXIO beyond the end, -ENODEV when the file cannot be mapped. */
int vfs_file_get_page(struct file *f, uint64_t pgoff, struct page **out);
/* mmap permission check (prot: PROT_* bits): may a mapping of f be
 * written (shared mappings need a writable file)? 0, -EACCES, -ENODEV. */
int vfs_mmap_check(struct file *f, int prot, bool shared, bool *maywrite);
/* Device numbers and inode of f, for /proc/self/maps. */
void vfs_file_ids(struct file *f, uint32_t *dev_major, uint32_t *dev_minor, uint64_t *ino);
/* Absolute name of the file as seen from root (NULL: the global root);
 * unlinked files get " (deleted)"; anonymous ones "pipe:[ino]". Its length,
 * or -ENAMETOOLONG. */
int vfs_file_path(struct file *f, char *buf, size_t size);
int vfs_path_string(const struct path *p, const struct path *root, char *buf, size_t size);

/* Character devices: what opening a S_IFCHR vnode with this number gives. */
int vfs_chrdev_register(dev_t dev, const char *name, const struct file_ops *ops);
const struct file_ops *vfs_chrdev_ops(dev_t dev);
/* Set by the pipe code: what opening a FIFO gives (NULL: -ENXIO). */
extern const struct file_ops *vfs_fifo_fops;

/* ---------------------------------------------------------------- stat */

struct kstat {
    uint64_t dev, ino, nlink, size, blocks, rdev, mnt_id;
    uint32_t mode, uid, gid, blksize;
    struct timespec atime, mtime, ctime, btime;
};

int vfs_getattr(struct vnode *v, struct mount *mnt, struct kstat *st);
void kstat_to_stat(const struct kstat *k, struct stat *st);
void kstat_to_statx(const struct kstat *k, unsigned mask, struct statx *sx);
int vfs_setattr(struct vnode *v, struct mount *mnt, struct vattr *a);
int vfs_statfs(const struct path *p, struct statfs *st);
int vfs_truncate_vnode(struct vnode *v, struct mount *mnt, uint64_t size);

/* -------------------------------------------------------------- boot */

/* Build the root (the initrd's ramfs, else an empty one) and mount /dev,
 * /tmp; create /proc and /sys. 0 or -errno; a bad initrd is logged and the
 * root is then empty, which is not an error here. */
int vfs_init(void);
bool vfs_ready(void);
