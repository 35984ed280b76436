/* Tests of the cpio newc writer (through the tree writer) and reader, and of
 * the tree's path handling: sorted, deterministic output, hard links, modes,
 * symlinks resolved inside the tree. */
#include "selftest.h"
#include "fstree.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *write_archive(const struct fstree *t, const char *name, size_t *len)
{
    char *path = st_path(name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    struct wbuf w;
    wbuf_init(&w, fd, path);
    fstree_write_cpio(t, &w);
    wbuf_done(&w);
    close(fd);
    char *data = st_read_file(path, len);
    free(path);
    return data;
}

static void sample_tree(struct fstree *t)
{
    char *dir = st_path("src"), *a = st_path("src/a"), *b = st_path("src/b"), *big = st_path("src/big");
    mkdir(dir, 0750);
    st_write_file(a, "hello", 5);
    chmod(a, 04755);
    unlink(b);
    link(a, b); /* b and a: one inode */
    char *blob = xmalloc(300000);
    for (int i = 0; i < 300000; i++)
        blob[i] = (char)(i * 7);
    st_write_file(big, blob, 300000);
    free(blob);
    fstree_add_tree(t, dir, "/app");
    fstree_add_bytes(t, "/etc/motd", "hi\n", 3, 0644);
    fstree_add_link(t, "/app/link", "a", 0);
    fstree_add_dir(t, "/tmp", 01777, 0);
    free(dir), free(a), free(b), free(big);
}

void st_cpio(void)
{
    struct fstree t = { 0 };
    sample_tree(&t);
    size_t len1, len2;
    char *one = write_archive(&t, "one.cpio", &len1), *two = write_archive(&t, "two.cpio", &len2);
    CHECK(len1 == len2 && memcmp(one, two, len1) == 0); /* deterministic */
    CHECK(len1 % 4 == 0 && memcmp(one, "070701", 6) == 0);
    free(one), free(two);

    char *path = st_path("one.cpio");
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    struct cpio_reader r = { .fd = fd, .end = (uint64_t)st.st_size };
    struct cpio_entry *e = xmalloc(sizeof(*e));
    static const char *const want[] = { ".", "app", "app/a", "app/b", "app/big", "app/link", "etc", "etc/motd", "tmp" };
    size_t n = 0;
    uint32_t ino_a = 0;
    int rc;
    while ((rc = cpio_read_next(&r, e)) > 0) {
        CHECK(n < 9 && strcmp(e->name, want[n]) == 0);
        CHECK(e->uid == 0 && e->gid == 0);
        CHECK(e->data_offset % 4 == 0);
        if (!strcmp(e->name, "app"))
            CHECK(e->mode == 040750);
        if (!strcmp(e->name, "app/a")) {
            CHECK(e->mode == 0104755 && e->nlink == 2 && e->size == 0); /* data on the last link */
            ino_a = e->ino;
        }
        if (!strcmp(e->name, "app/b")) {
            CHECK(e->ino == ino_a && e->nlink == 2 && e->size == 5);
            char data[5];
            CHECK(pread(fd, data, 5, (off_t)e->data_offset) == 5 && memcmp(data, "hello", 5) == 0);
        }
        if (!strcmp(e->name, "app/big"))
            CHECK(e->size == 300000 && e->nlink == 1 && e->ino != ino_a);
        if (!strcmp(e->name, "app/link"))
            CHECK(e->mode == 0120777 && strcmp(e->target, "a") == 0);
        if (!strcmp(e->name, "tmp"))
            CHECK(e->mode == 041777);
        n++;
    }
    CHECK(rc == 0 && n == 9);
    CHECK(r.off == (uint64_t)st.st_size);
    /* a cut archive is refused */
    r = (struct cpio_reader){ .fd = fd, .end = (uint64_t)st.st_size - 200 };
    while ((rc = cpio_read_next(&r, e)) > 0)
        ;
    CHECK(rc < 0 && r.err[0]);
    close(fd);
    free(e), free(path);
}

static void add_file_under_file(void *arg)
{
    fstree_add_bytes(arg, "/etc/motd/x", "", 0, 0644);
}

void st_fstree(void)
{
    char *n = path_normalize("a//b/./c/../d/");
    CHECK(strcmp(n, "/a/b/d") == 0);
    free(n);
    n = path_normalize("/../..");
    CHECK(strcmp(n, "/") == 0);
    free(n);
    n = path_join("/usr/lib", "../bin/x");
    CHECK(strcmp(n, "/usr/bin/x") == 0);
    free(n);

    struct fstree t = { 0 };
    /* merged /usr: /lib is a link, files added through it land in /usr/lib */
    fstree_add_link(&t, "/lib", "usr/lib", 0);
    fstree_add_bytes(&t, "/lib/x86_64-linux-gnu/libc.so.6", "ELF", 3, 0755);
    CHECK(fstree_lookup(&t, "/usr/lib/x86_64-linux-gnu/libc.so.6") != NULL);
    CHECK(fstree_lookup(&t, "/lib/x86_64-linux-gnu/libc.so.6") == NULL);
    CHECK(fstree_resolve(&t, "/lib/x86_64-linux-gnu/libc.so.6") != NULL);
    /* a directory replaced by a link: its files move to the link's target */
    fstree_add_bytes(&t, "/bin/sh", "#!", 2, 0755);
    fstree_add_link(&t, "/bin", "usr/bin", 0);
    CHECK(fstree_lookup(&t, "/usr/bin/sh") != NULL && fstree_lookup(&t, "/bin")->kind == FS_LINK);
    /* an absolute link and a chain */
    fstree_add_link(&t, "/lib64/ld.so", "/lib/x86_64-linux-gnu/libc.so.6", 0);
    struct fs_node *r = fstree_resolve(&t, "/lib64/ld.so");
    CHECK(r && strcmp(r->path, "/usr/lib/x86_64-linux-gnu/libc.so.6") == 0);
    /* a loop resolves to nothing rather than forever */
    fstree_add_link(&t, "/loop", "/loop", 0);
    CHECK(fstree_resolve(&t, "/loop/x") == NULL);
    /* later additions win */
    fstree_add_bytes(&t, "/etc/motd", "one", 3, 0644);
    fstree_add_bytes(&t, "/etc/motd", "two!", 4, 0600);
    r = fstree_lookup(&t, "/etc/motd");
    CHECK(r && r->size == 4 && r->perm == 0600 && memcmp(r->data, "two!", 4) == 0);
    CHECK(st_dies_with(add_file_under_file, &t, "/etc/motd is a file there"));
}
