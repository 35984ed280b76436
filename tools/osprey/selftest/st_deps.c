/* Tests of the --from-host dependency walk: the test binary itself, $ORIGIN
 * in DT_RUNPATH with a symlink chain, a #! script, and the one-line errors
 * for a malformed ELF and a missing library. */
#include "selftest.h"
#include "elfdeps.h"
#include "fstree.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fstree *walk(const char *host, const char *guest)
{
    struct fstree *t = calloc(1, sizeof(*t));
    struct deps *d = deps_new(t);
    deps_add_program(d, host, guest);
    deps_finish(d);
    return t;
}

static void walk_and_die(void *arg)
{
    walk(arg, arg);
}

static const char *host_interp(void)
{
    return access("/lib64/ld-linux-x86-64.so.2", R_OK) == 0 ? "/lib64/ld-linux-x86-64.so.2" : NULL;
}

static void self_binary(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n > 0 ? n : 0] = '\0';
    struct fstree *t = walk(self, "/bin/selftest");
    struct fs_node *exe = fstree_lookup(t, "/bin/selftest");
    CHECK(exe && exe->kind == FS_FILE);
    CHECK(fstree_resolve(t, "/lib/x86_64-linux-gnu/libc.so.6") || fstree_resolve(t, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    if (host_interp()) {
        struct fs_node *ld = fstree_resolve(t, host_interp());
        CHECK(ld && ld->kind == FS_FILE);
    }
}

/* bin/prog needs libfoo.so.1 through DT_RUNPATH $ORIGIN/../lib, where
 * libfoo.so.1 -> libfoo.so.1.0. */
static void origin_runpath(void)
{
    if (!host_interp())
        return;
    char *bin = st_path("app/bin"), *lib = st_path("app/lib");
    char *app = st_path("app");
    mkdir(app, 0755), mkdir(bin, 0755), mkdir(lib, 0755);
    char *prog = st_path("app/bin/prog"), *foo = st_path("app/lib/libfoo.so.1.0"), *link_ = st_path("app/lib/libfoo.so.1");
    struct elf_spec p = { .type = 2 /* ET_EXEC */, .interp = host_interp(), .needed = { "libfoo.so.1" },
                          .runpath = "$ORIGIN/../lib" };
    struct elf_spec l = { .soname = "libfoo.so.1" };
    st_write_elf(prog, &p);
    chmod(prog, 0755);
    st_write_elf(foo, &l);
    unlink(link_);
    symlink("libfoo.so.1.0", link_);
    struct fstree *t = walk(prog, "/opt/app/bin/prog");
    struct fs_node *ln = fstree_lookup(t, "/opt/app/lib/libfoo.so.1");
    CHECK(ln && ln->kind == FS_LINK && !strcmp(ln->data, "libfoo.so.1.0"));
    struct fs_node *f = fstree_lookup(t, "/opt/app/lib/libfoo.so.1.0");
    CHECK(f && f->kind == FS_FILE && f->size == 1024);
    CHECK(fstree_resolve(t, host_interp()) != NULL);
    free(bin), free(lib), free(app), free(prog), free(foo), free(link_);
}

static void errors(void)
{
    char *bad = st_path("bad.elf");
    st_write_file(bad, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0", 20);
    CHECK(st_dies_with(walk_and_die, bad, "bad.elf is a malformed ELF file: shorter than its ELF header"));
    char *text = st_path("notes.txt");
    st_write_file(text, "just text\n", 10);
    CHECK(st_dies_with(walk_and_die, text, "notes.txt is not an ELF executable or a #! script"));
    CHECK(st_dies_with(walk_and_die, "/nonexistent/prog", "--from-host /nonexistent/prog: No such file"));
    if (host_interp()) {
        char *prog = st_path("needs-missing");
        struct elf_spec p = { .type = 2, .interp = host_interp(), .needed = { "libosprey-missing.so.9" } };
        st_write_elf(prog, &p);
        CHECK(st_dies_with(walk_and_die, prog, "cannot find libosprey-missing.so.9, needed by"));
        free(prog);
    }
    free(bad), free(text);
}

static void script(void)
{
    if (access("/bin/sh", X_OK) != 0)
        return;
    char *s = st_path("hello.sh");
    st_write_file(s, "#!/bin/sh -e\necho hi\n", 21);
    struct fstree *t = walk(s, "/hello.sh");
    CHECK(fstree_lookup(t, "/hello.sh") != NULL);
    CHECK(fstree_resolve(t, "/bin/sh") != NULL);
    free(s);
}

void st_deps(void)
{
    self_binary();
    origin_runpath();
    errors();
    script();
}
