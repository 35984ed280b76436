/* The guest's file tree as it is being assembled: guest paths mapped to host
 * files, inline data, symlinks and directories. Paths are resolved through
 * symlinks already in the tree (so /lib/x lands in /usr/lib/x when /lib is a
 * link to usr/lib, as it would in the guest); the result is written as one
 * cpio archive in sorted order, with files that are one host inode written as
 * hard links. */
#include "osprey.h"
#include "fstree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_MAX_LINK_DEPTH 40

static uint64_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void hash_insert(struct fstree *t, size_t idx)
{
    size_t mask = t->nslots - 1, i = path_hash(t->v[idx]->path) & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = idx + 1;
}

static void hash_rebuild(struct fstree *t, size_t nslots)
{
    free(t->slots);
    t->nslots = nslots;
    t->slots = calloc(nslots, sizeof(*t->slots));
    if (!t->slots)
        die("out of memory");
    for (size_t i = 0; i < t->n; i++)
        if (!t->v[i]->dead)
            hash_insert(t, i);
}

struct fs_node *fstree_lookup(const struct fstree *t, const char *path)
{
    if (!t->nslots)
        return NULL;
    size_t mask = t->nslots - 1;
    for (size_t i = path_hash(path) & mask; t->slots[i]; i = (i + 1) & mask) {
        struct fs_node *n = t->v[t->slots[i] - 1];
        if (strcmp(n->path, path) == 0)
            return n;
    }
    return NULL;
}

static struct fs_node *node_insert(struct fstree *t, const char *path)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->v = realloc(t->v, t->cap * sizeof(*t->v));
        if (!t->v)
            die("out of memory");
    }
    struct fs_node *n = calloc(1, sizeof(*n));
    if (!n)
        die("out of memory");
    n->path = xstrdup(path);
    t->v[t->n++] = n;
    if ((t->n + 1) * 2 > t->nslots)
        hash_rebuild(t, t->nslots ? t->nslots * 2 : 1024);
    else
        hash_insert(t, t->n - 1);
    return n;
}

/* An absolute path with ".", ".." and repeated slashes taken out. */
char *path_normalize(const char *p)
{
    char *out = malloc(strlen(p) + 2);
    if (!out)
        die("out of memory");
    size_t len = 0;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[--len] != '/')
                ;
        } else {
            out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
        }
        p = end;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

/* dir + "/" + rest, normalised. */
char *path_join(const char *dir, const char *rest)
{
    char *j = xasprintf("%s/%s", dir, rest);
    char *n = path_normalize(j);
    free(j);
    return n;
}

static struct fs_node *make_dir(struct fstree *t, const char *path)
{
    struct fs_node *n = node_insert(t, path);
    n->kind = FS_DIR;
    n->perm = 0755;
    return n;
}

/* The path with every directory component resolved through the tree's
 * symlinks (the last component is left alone), creating missing parents when
 * `create` is set (NULL for a missing one otherwise). */
static char *resolve_parents(struct fstree *t, const char *path, int depth, bool create)
{
    if (depth > FS_MAX_LINK_DEPTH && !create)
        return NULL;
    if (depth > FS_MAX_LINK_DEPTH)
        die("too many levels of symbolic links in the image resolving %s", path);
    char *p = path_normalize(path);
    char *last = strrchr(p, '/');
    if (last == p)
        return p; /* "/" or "/name" */
    for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        struct fs_node *n = fstree_lookup(t, p);
        if (!n && !create) {
            free(p);
            return NULL;
        } else if (!n) {
            make_dir(t, p);
        } else if (n->kind == FS_FILE) {
            if (!create) {
                free(p);
                return NULL;
            }
            die("cannot add %s/%s to the image: %s is a file there", p, slash + 1, p);
        } else if (n->kind == FS_LINK) {
            char *dir = xstrdup(p);
            *strrchr(dir, '/') = '\0';
            char *target = path_join(n->data[0] == '/' ? "/" : (*dir ? dir : "/"), n->data);
            char *again = xasprintf("%s/%s", target, slash + 1);
            char *r = resolve_parents(t, again, depth + 1, create);
            free(dir), free(target), free(again), free(p);
            return r;
        }
        *slash = '/';
    }
    return p;
}

/* A directory whose entry becomes a symlink: its children move to wherever
 * the link points, as if they had been added after it. */
static void move_children(struct fstree *t, struct fs_node *dir)
{
    size_t plen = strlen(dir->path), nmoved = 0;
    struct fs_node **moved = malloc(t->n * sizeof(*moved));
    if (!moved)
        die("out of memory");
    for (size_t i = 0; i < t->n; i++) {
        struct fs_node *n = t->v[i];
        if (!n->dead && strncmp(n->path, dir->path, plen) == 0 && n->path[plen] == '/') {
            n->dead = true;
            moved[nmoved++] = n;
        }
    }
    if (!nmoved) {
        free(moved);
        return;
    }
    hash_rebuild(t, t->nslots);
    for (size_t i = 0; i < nmoved; i++)
        fstree_add(t, moved[i]);
    free(moved);
}

void fstree_add(struct fstree *t, const struct fs_node *src)
{
    char *path = resolve_parents(t, src->path, 0, true);
    if (strcmp(path, "/") == 0 && src->kind != FS_DIR)
        die("the image's root directory cannot be replaced by a file or symlink");
    struct fs_node *old = fstree_lookup(t, path);
    if (old && src->kind == FS_DIR) {
        if (old->kind == FS_DIR) {
            old->perm = src->perm;
            old->mtime = src->mtime;
        } else if (old->kind == FS_FILE) {
            die("cannot add directory %s to the image: a file is already there", path);
        } /* a symlink stays: what goes inside resolves through it */
        free(path);
        return;
    }
    if (old && old->kind == FS_DIR && src->kind == FS_FILE) {
        die("cannot add file %s to the image: a directory is already there", path);
    }
    struct fs_node *n = old ? old : node_insert(t, path);
    bool was_dir = old && old->kind == FS_DIR;
    char *keep_path = n->path;
    *n = *src;
    n->path = keep_path;
    n->host = src->host ? xstrdup(src->host) : NULL;
    n->data = src->data ? xstrdup_n(src->data, src->kind == FS_LINK ? strlen(src->data) : src->size) : NULL;
    n->dead = false;
    if (was_dir && src->kind == FS_LINK)
        move_children(t, n);
    free(path);
}

struct fs_node *fstree_resolve(struct fstree *t, const char *path)
{
    char *p = xstrdup(path);
    for (int depth = 0; depth <= FS_MAX_LINK_DEPTH; depth++) {
        char *r = resolve_parents(t, p, 0, false);
        free(p);
        struct fs_node *n = r ? fstree_lookup(t, r) : NULL;
        if (!n || n->kind != FS_LINK) {
            free(r);
            return n;
        }
        *strrchr(r, '/') = '\0';
        p = path_join(n->data[0] == '/' ? "/" : (*r ? r : "/"), n->data);
        free(r);
    }
    free(p);
    return NULL;
}

void fstree_add_dir(struct fstree *t, const char *path, uint32_t perm, int64_t mtime)
{
    struct fs_node n = { .path = (char *)path, .kind = FS_DIR, .perm = perm, .mtime = mtime };
    fstree_add(t, &n);
}

void fstree_add_bytes(struct fstree *t, const char *path, const char *data, size_t len, uint32_t perm)
{
    struct fs_node n = { .path = (char *)path, .kind = FS_FILE, .perm = perm, .data = (char *)data,
                         .size = len, .mtime = fstree_default_mtime() };
    fstree_add(t, &n);
}

void fstree_add_link(struct fstree *t, const char *path, const char *target, int64_t mtime)
{
    if (!*target)
        die("empty symlink target for %s", path);
    struct fs_node n = { .path = (char *)path, .kind = FS_LINK, .perm = 0777, .data = (char *)target,
                         .mtime = mtime };
    fstree_add(t, &n);
}

char *read_link(const char *host)
{
    struct stat st;
    size_t cap = lstat(host, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            die("out of memory");
        ssize_t n = readlink(host, buf, cap);
        if (n < 0)
            die("cannot read symlink %s: %s", host, strerror(errno));
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        cap *= 2;
    }
}

/* One host object (not followed if it is a symlink). False for a special
 * file (device, FIFO, socket), which is skipped with a warning. */
bool fstree_add_host(struct fstree *t, const char *path, const char *host, const struct stat *st)
{
    struct fs_node n = { .path = (char *)path, .perm = st->st_mode & 07777, .mtime = st->st_mtime };
    if (S_ISDIR(st->st_mode)) {
        n.kind = FS_DIR;
    } else if (S_ISREG(st->st_mode)) {
        n.kind = FS_FILE;
        n.host = (char *)host;
        n.size = (uint64_t)st->st_size;
        n.dev = st->st_dev;
        n.ino = st->st_ino;
    } else if (S_ISLNK(st->st_mode)) {
        char *target = read_link(host);
        fstree_add_link(t, path, target, st->st_mtime);
        free(target);
        return true;
    } else {
        warn("skipping %s: devices, FIFOs and sockets are not packed", host);
        return false;
    }
    fstree_add(t, &n);
    return true;
}

/* A host directory tree, recursively, at guest path `guest`. */
void fstree_add_tree(struct fstree *t, const char *host, const char *guest)
{
    struct stat st;
    if (lstat(host, &st) != 0)
        die("cannot read %s: %s", host, strerror(errno));
    if (!fstree_add_host(t, guest, host, &st) || !S_ISDIR(st.st_mode))
        return;
    DIR *d = opendir(host);
    if (!d)
        die("cannot read directory %s: %s", host, strerror(errno));
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *h = xasprintf("%s/%s", host, de->d_name);
        char *g = path_join(guest, de->d_name);
        fstree_add_tree(t, h, g);
        free(h);
        free(g);
    }
    if (errno)
        die("cannot read directory %s: %s", host, strerror(errno));
    closedir(d);
}
