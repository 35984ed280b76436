/* The guest file tree being assembled (fstree.c) and its cpio output
 * (fstree_cpio.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum fs_kind { FS_DIR, FS_FILE, FS_LINK };

struct fs_node {
    char *path;          /* guest path: absolute, normalised, "/" is the root */
    enum fs_kind kind;
    uint32_t perm;       /* permission bits with setuid/setgid/sticky (07777) */
    int64_t mtime;
    char *host;          /* FS_FILE copied from the host: its path */
    char *data;          /* FS_FILE with inline contents, or FS_LINK's target */
    uint64_t size;       /* FS_FILE: bytes */
    dev_t dev;           /* host identity: files that are one host inode */
    ino_t ino;           /*   become hard links (0/0: none) */
    bool dead;           /* replaced; skipped */
};

struct fstree {
    struct fs_node **v;
    size_t n, cap;
    size_t *slots, nslots; /* open-addressing index: node index + 1, 0 empty */
};

struct wbuf;

struct fs_node *fstree_lookup(const struct fstree *t, const char *path);
/* Add or replace (the later addition wins; a directory already there only
 * takes the new attributes). Parents are created as needed. */
void fstree_add(struct fstree *t, const struct fs_node *n);
void fstree_add_dir(struct fstree *t, const char *path, uint32_t perm, int64_t mtime);
void fstree_add_bytes(struct fstree *t, const char *path, const char *data, size_t len, uint32_t perm);
void fstree_add_link(struct fstree *t, const char *path, const char *target, int64_t mtime);
bool fstree_add_host(struct fstree *t, const char *path, const char *host, const struct stat *st);
void fstree_add_tree(struct fstree *t, const char *host, const char *guest);
/* Where `path` leads in the tree, following symlinks in every component
 * (NULL when it leads nowhere). */
struct fs_node *fstree_resolve(struct fstree *t, const char *path);
/* The live nodes sorted by path (the archive's order); *count set. */
struct fs_node **fstree_sorted(const struct fstree *t, size_t *count);
void fstree_write_cpio(const struct fstree *t, struct wbuf *w);
/* mtime for generated files: $SOURCE_DATE_EPOCH, else 0. */
int64_t fstree_default_mtime(void);

/* fstree_ext4.c: the tree as an ext4 image made by mkfs.ext4 -d, in a
 * temporary directory that fstree_ext4_cleanup (or exit) removes; disk_size
 * 0 means the files plus headroom. Returns its path; *size its bytes. */
char *fstree_write_ext4(const struct fstree *t, uint64_t disk_size, uint64_t *size);
void fstree_ext4_cleanup(void);
uint64_t fstree_parse_disk_size(const char *s);

char *path_normalize(const char *p);
char *path_join(const char *dir, const char *rest);
char *read_link(const char *host);
void rootfs_add_defaults(struct fstree *t);
