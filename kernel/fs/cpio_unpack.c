/* Unpack a cpio newc archive into a fresh, not yet mounted ramfs instance:
 * the whole archive is checked first, so a bad one changes nothing; then
 * every entry is created (missing parent directories too), hard links are
 * joined by inode number, and directory times are set last, since adding
 * entries would move them. File data is copied once, a page at a time. */
#include "core/log.h"
#include "fs/cpio.h"
#include "fs/cpio_unpack.h"
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct link_key {
    uint32_t major, minor, ino;
    struct vnode *v;          /* holds a reference */
};

struct dir_time {
    struct vnode *v;          /* holds a reference */
    uint32_t mtime;
};

struct unpack {
    struct vnode *root;
    struct link_key *links;
    size_t nlinks, links_cap;
    struct dir_time *dirs;
    size_t ndirs, dirs_cap;
    char *path;               /* PATH_MAX scratch: the normalised name */
    char *err;
    size_t errlen;
    struct cpio_unpack_stats *stats;
};

static int unpack_fail(struct unpack *u, const char *what, int err)
{
    snprintf(u->err, u->errlen, "%s: %s", u->path[0] ? u->path : "/", what);
    return err;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 32;
    void *p = kmalloc(ncap * elem);
    if (!p)
        return false;
    if (*arr)
        memcpy(p, *arr, n * elem);
    kfree(*arr);
    *arr = p;
    *cap = ncap;
    return true;
}

static struct vnode *child(struct vnode *dir, const char *name, size_t len)
{
    struct vnode *v;
    return dir->ops->lookup(dir, name, len, &v) == 0 ? v : NULL;
}

/* Find or make the directory `path[0..len)`; a new reference. */
static int walk_dirs(struct unpack *u, size_t len, struct vnode **out)
{
    struct vnode *dir = vnode_get(u->root);
    for (size_t i = 0; i < len;) {
        size_t start = i;
        while (i < len && u->path[i] != '/')
            i++;
        struct vnode *next = child(dir, u->path + start, i - start);
        if (!next) {
            int err = dir->ops->mkdir(dir, u->path + start, i - start, S_IFDIR | 0755, &next);
            if (err) {
                vnode_put(dir);
                return unpack_fail(u, "cannot create a parent directory", err);
            }
            u->stats->dirs++;
        } else if (!S_ISDIR(next->mode)) {
            vnode_put(next);
            vnode_put(dir);
            return unpack_fail(u, "a parent is not a directory", -ENOTDIR);
        }
        vnode_put(dir);
        dir = next;
        i++; /* the slash */
    }
    *out = dir;
    return 0;
}

static void set_attrs(struct vnode *v, const struct cpio_entry *e)
{
    v->mode = (v->mode & S_IFMT) | (e->mode & S_IALLUGO);
    v->uid = e->uid;
    v->gid = e->gid;
    v->atime = v->mtime = (struct timespec){ e->mtime, 0 };
}

static int remember_dir(struct unpack *u, struct vnode *v, uint32_t mtime)
{
    if (!grow((void **)&u->dirs, &u->dirs_cap, u->ndirs, sizeof(*u->dirs)))
        return -ENOMEM;
    u->dirs[u->ndirs++] = (struct dir_time){ vnode_get(v), mtime };
    return 0;
}

/* A name that already exists: directories merge, anything else is replaced. */
static int clear_existing(struct unpack *u, struct vnode *dir, const char *name, size_t len,
                          struct vnode *old)
{
    int err = S_ISDIR(old->mode) ? dir->ops->rmdir(dir, name, len, old) : dir->ops->unlink(dir, name, len, old);
    if (err == -ENOTEMPTY)
        return unpack_fail(u, "a non-empty directory would be replaced by a file", err);
    return err ? unpack_fail(u, "cannot replace an earlier entry", err) : 0;
}

static struct link_key *find_link(struct unpack *u, const struct cpio_entry *e)
{
    for (size_t i = 0; i < u->nlinks; i++)
        if (u->links[i].ino == e->ino && u->links[i].major == e->devmajor && u->links[i].minor == e->devminor)
            return &u->links[i];
    return NULL;
}

static int write_data(struct unpack *u, struct vnode *v, const struct cpio_entry *e)
{
    if (!e->filesize)
        return 0;
    ramfs_file_resize(RAMFS_NODE(v), 0); /* data stored with a later link replaces */
    int err = ramfs_file_append(RAMFS_NODE(v), e->data, (size_t)e->filesize);
    u->stats->bytes += e->filesize;
    return err ? unpack_fail(u, err == -ENOSPC ? "out of space" : "out of memory", err) : 0;
}

static int create_node(struct unpack *u, struct vnode *dir, const char *name, size_t len,
                       const struct cpio_entry *e, struct vnode **out)
{
    uint32_t type = e->mode & S_IFMT;
    int err;
    if (type == S_IFDIR) {
        err = dir->ops->mkdir(dir, name, len, e->mode, out);
        u->stats->dirs++;
    } else if (type == S_IFLNK) {
        char *target = kmalloc((size_t)e->filesize + 1);
        if (!target)
            return -ENOMEM;
        memcpy(target, e->data, (size_t)e->filesize);
        target[e->filesize] = '\0';
        err = dir->ops->symlink(dir, name, len, target, out);
        kfree(target);
        u->stats->symlinks++;
    } else {
        dev_t rdev = type == S_IFCHR || type == S_IFBLK ? MKDEV(e->rdevmajor, e->rdevminor) : 0;
        err = dir->ops->create(dir, name, len, e->mode, rdev, out);
        if (!err && type == S_IFREG)
            err = write_data(u, *out, e);
        u->stats->files++;
    }
    return err ? (u->err[0] ? err : unpack_fail(u, "cannot create", err)) : 0;
}

static int unpack_link(struct unpack *u, struct vnode *dir, const char *name, size_t len,
                       const struct cpio_entry *e, struct link_key *k)
{
    int err = dir->ops->link(dir, name, len, k->v);
    if (err)
        return unpack_fail(u, "cannot create a hard link", err);
    u->stats->hardlinks++;
    set_attrs(k->v, e);
    return write_data(u, k->v, e);
}

static int unpack_entry(struct unpack *u, const struct cpio_entry *e)
{
    size_t plen = strlen(u->path);
    if (plen == 0) { /* "." : the root itself */
        if (!S_ISDIR(e->mode))
            return unpack_fail(u, "the archive's root is not a directory", -ENOTDIR);
        set_attrs(u->root, e);
        return remember_dir(u, u->root, e->mtime);
    }
    char *slash = strrchr(u->path, '/');
    size_t dlen = slash ? (size_t)(slash - u->path) : 0;
    const char *name = slash ? slash + 1 : u->path;
    size_t nlen = plen - (size_t)(name - u->path);
    struct vnode *dir, *v = NULL;
    int err = walk_dirs(u, dlen, &dir);
    if (err)
        return err;
    struct vnode *old = child(dir, name, nlen);
    if (old && S_ISDIR(old->mode) && S_ISDIR(e->mode)) {
        v = old; /* a directory listed again: take the new attributes */
    } else if (old) {
        err = clear_existing(u, dir, name, nlen, old);
        vnode_put(old);
    }
    struct link_key *k = !v && !err && !S_ISDIR(e->mode) && e->nlink > 1 ? find_link(u, e) : NULL;
    if (!err && k) {
        err = unpack_link(u, dir, name, nlen, e, k);
    } else if (!err) {
        if (!v)
            err = create_node(u, dir, name, nlen, e, &v);
        if (!err) {
            set_attrs(v, e);
            if (S_ISDIR(e->mode))
                err = remember_dir(u, v, e->mtime);
            else if (e->nlink > 1 && grow((void **)&u->links, &u->links_cap, u->nlinks, sizeof(*u->links)))
                u->links[u->nlinks++] = (struct link_key){ e->devmajor, e->devminor, e->ino, vnode_get(v) };
        }
    }
    vnode_put(v);
    vnode_put(dir);
    return err;
}

static void unpack_cleanup(struct unpack *u, bool apply_times)
{
    for (size_t i = 0; i < u->ndirs; i++) {
        if (apply_times)
            u->dirs[i].v->atime = u->dirs[i].v->mtime = (struct timespec){ u->dirs[i].mtime, 0 };
        vnode_put(u->dirs[i].v);
    }
    for (size_t i = 0; i < u->nlinks; i++)
        vnode_put(u->links[i].v);
    kfree(u->dirs);
    kfree(u->links);
    kfree(u->path);
}

/* Pass 1: every entry well-formed and every name acceptable. */
static int cpio_check(const void *buf, size_t size, struct unpack *u)
{
    struct cpio_reader r;
    struct cpio_entry e;
    int rc;
    cpio_reader_init(&r, buf, size);
    while ((rc = cpio_next(&r, &e)) == 1) {
        int err = cpio_normalize_name(e.name, e.namelen, u->path, PATH_MAX);
        if (err) {
            snprintf(u->err, u->errlen, "entry \"%.100s\" (offset %zu): %s", e.name, e.offset,
                     err == -EINVAL ? "name has a \"..\" component" : "name too long");
            return err;
        }
        u->stats->entries++;
    }
    if (rc < 0)
        strlcpy(u->err, r.err, u->errlen);
    return rc;
}

int cpio_unpack(const void *buf, size_t size, struct vfs_sb *sb, struct cpio_unpack_stats *stats,
                char *err, size_t errlen)
{
    struct unpack u = { .root = sb->root, .err = err, .errlen = errlen, .stats = stats };
    memset(stats, 0, sizeof(*stats));
    err[0] = '\0';
    u.path = kmalloc(PATH_MAX);
    if (!u.path) {
        strlcpy(err, "out of memory", errlen);
        return -ENOMEM;
    }
    u.path[0] = '\0';
    int rc = cpio_check(buf, size, &u);
    if (rc < 0) {
        unpack_cleanup(&u, false);
        return rc;
    }
    memset(stats, 0, sizeof(*stats));
    struct cpio_reader r;
    struct cpio_entry e;
    cpio_reader_init(&r, buf, size);
    while (rc == 0 && cpio_next(&r, &e) == 1) {
        cpio_normalize_name(e.name, e.namelen, u.path, PATH_MAX);
        stats->entries++;
        rc = unpack_entry(&u, &e);
    }
    unpack_cleanup(&u, rc == 0);
    return rc;
}
