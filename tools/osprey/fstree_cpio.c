/* Writing the assembled tree as a cpio newc archive: sorted by path (so the
 * same input gives the same bytes and parents come before children), inode
 * numbers in that order, uid/gid 0, host files that are one inode written as
 * hard links with the data on the last link, as GNU cpio does. */
#include "osprey.h"
#include "fstree.h"

#include <stdlib.h>
#include <string.h>

static int cmp_path(const void *a, const void *b)
{
    return strcmp((*(struct fs_node *const *)a)->path, (*(struct fs_node *const *)b)->path);
}

struct fs_node **fstree_sorted(const struct fstree *t, size_t *count)
{
    struct fs_node **v = malloc((t->n + 1) * sizeof(*v));
    if (!v)
        die("out of memory");
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!t->v[i]->dead)
            v[n++] = t->v[i];
    qsort(v, n, sizeof(*v), cmp_path);
    *count = n;
    return v;
}

int64_t fstree_default_mtime(void)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    return e && *e ? strtoll(e, NULL, 10) : 0;
}

struct link_info {
    uint32_t ino, nlink;
    bool data;          /* this entry carries the file's data */
};

struct by_inode {
    const struct fs_node *n;
    size_t pos;         /* index in the sorted archive order */
};

static int cmp_inode(const void *a, const void *b)
{
    const struct by_inode *x = a, *y = b;
    if (x->n->dev != y->n->dev)
        return x->n->dev < y->n->dev ? -1 : 1;
    if (x->n->ino != y->n->ino)
        return x->n->ino < y->n->ino ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Every entry gets its own inode number, except host files sharing one
 * inode: they share the number of the first of them. */
static struct link_info *plan_links(struct fs_node **v, size_t n)
{
    struct link_info *li = calloc(n ? n : 1, sizeof(*li));
    struct by_inode *files = malloc((n ? n : 1) * sizeof(*files));
    if (!li || !files)
        die("out of memory");
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        li[i] = (struct link_info){ (uint32_t)(i + 1), 1, true };
        if (v[i]->kind == FS_FILE && v[i]->host && (v[i]->dev || v[i]->ino))
            files[nf++] = (struct by_inode){ v[i], i };
    }
    qsort(files, nf, sizeof(*files), cmp_inode);
    for (size_t s = 0, e; s < nf; s = e) {
        for (e = s + 1; e < nf && files[e].n->dev == files[s].n->dev && files[e].n->ino == files[s].n->ino; e++)
            ;
        for (size_t k = s; k < e; k++)
            li[files[k].pos] = (struct link_info){ (uint32_t)(files[s].pos + 1), (uint32_t)(e - s), k == e - 1 };
    }
    free(files);
    return li;
}

static uint32_t type_bits(enum fs_kind k)
{
    return k == FS_DIR ? 0040000 : k == FS_LINK ? 0120000 : 0100000;
}

static void write_node(struct wbuf *w, const struct fs_node *n, const struct link_info *li)
{
    uint64_t size = n->kind == FS_LINK ? strlen(n->data) : n->kind == FS_FILE && li->data ? n->size : 0;
    struct cpio_hdr h = { .name = n->path[1] ? n->path + 1 : ".", .ino = li->ino,
                          .mode = type_bits(n->kind) | (n->perm & 07777),
                          .nlink = n->kind == FS_DIR ? 2 : li->nlink, .mtime = n->mtime, .size = size };
    cpio_write_header(w, &h);
    if (n->kind == FS_LINK)
        wbuf_write(w, n->data, size);
    else if (size && n->host)
        wbuf_copy_file(w, n->host, size);
    else if (size)
        wbuf_write(w, n->data, size);
    cpio_write_data_pad(w, size);
}

void fstree_write_cpio(const struct fstree *t, struct wbuf *w)
{
    size_t n;
    struct fs_node **v = fstree_sorted(t, &n);
    if (n == 0 || strcmp(v[0]->path, "/") != 0) {
        static struct fs_node root = { .path = "/", .kind = FS_DIR, .perm = 0755 };
        memmove(v + 1, v, n * sizeof(*v));
        v[0] = &root;
        n++;
    }
    struct link_info *li = plan_links(v, n);
    for (size_t i = 0; i < n; i++)
        write_node(w, v[i], &li[i]);
    cpio_write_trailer(w);
    free(li);
    free(v);
}
