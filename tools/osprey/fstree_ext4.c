/* The guest file tree as an ext4 file system (osprey build --format ext4):
 * the tree is written out into a temporary directory and mkfs.ext4 -d
 * (e2fsprogs) turns that into a disk image. */
#include "osprey.h"
#include "fstree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1ull << 20)
/* The features the kernel's ext4 reads and writes (tests/test_ext4.py runs
 * the same set): named, so that a newer e2fsprogs default (orphan_file,
 * metadata_csum_seed ...) cannot make an image this kernel refuses. */
#define EXT4_FEATURES "none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg," \
                      "sparse_super,large_file,huge_file,dir_nlink,extra_isize,metadata_csum,64bit"

uint64_t fstree_parse_disk_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult = 0;
    if (end != s && !errno && *s >= '0' && *s <= '9') {
        switch (*end) {
        case 'M': case 'm': case '\0': mult = MIB; break;
        case 'G': case 'g': mult = 1024 * MIB; break;
        default: break;
        }
        if (*end)
            end++;
    }
    if (!mult || *end || !v || v > (1ull << 44) / mult)
        die("bad --disk-size value \"%s\" (a size in MiB or GiB, e.g. 512M or 2G)", s);
    return v * mult;
}

/* An e2fsprogs program: in PATH, or where Debian puts it (root's PATH only). */
static char *find_e2fs_tool(const char *name)
{
    char *p = path_search(name);
    if (p)
        return p;
    static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/local/sbin" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *cand = xasprintf("%s/%s", dirs[i], name);
        if (access(cand, X_OK) == 0)
            return cand;
        free(cand);
    }
    die("--format ext4 needs %s, which is not in PATH, /sbin or /usr/sbin "
        "(install e2fsprogs: apt-get install e2fsprogs)", name);
}

static void copy_host_file(const char *host, const char *out, uint64_t size)
{
    int in = open(host, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        die("cannot read %s: %s", host, strerror(errno));
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("cannot create %s: %s", out, strerror(errno));
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = copy_file_range(in, NULL, fd, NULL, (size_t)(size - done < (1u << 30) ? size - done : 1u << 30), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            char buf[1 << 16];
            n = read(in, buf, sizeof(buf));
            if (n > 0 && write(fd, buf, (size_t)n) != n)
                die("cannot write %s: %s", out, strerror(errno));
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("cannot copy %s: %s", host, strerror(errno));
        if (n == 0)
            die("%s shrank while it was being packed; try again", host);
        done += (uint64_t)n;
    }
    close(in);
    if (close(fd) != 0)
        die("cannot write %s: %s", out, strerror(errno));
}

static void write_bytes(const char *out, const char *data, uint64_t size)
{
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        die("cannot write %s: %s", out, strerror(errno));
}

static void set_attrs(const char *out, const struct fs_node *n)
{
    struct timespec ts[2] = { { n->mtime, 0 }, { n->mtime, 0 } };
    /* mkfs copies owners from the files: make them root's (we may be root;
     * when not, the user namespace mkfs runs in maps us to root) */
    if (geteuid() == 0 && lchown(out, 0, 0) != 0)
        die("cannot chown %s: %s", out, strerror(errno));
    if (n->kind != FS_LINK && chmod(out, n->perm & 07777) != 0)
        die("cannot chmod %s: %s", out, strerror(errno));
    if (utimensat(AT_FDCWD, out, ts, AT_SYMLINK_NOFOLLOW) != 0)
        die("cannot set the time of %s: %s", out, strerror(errno));
}

/* Files that were one host inode stay one inode (mkfs -d keeps hard links). */
static const char *hard_link_source(struct fs_node **v, char **outs, size_t i)
{
    if (!v[i]->dev && !v[i]->ino)
        return NULL;
    for (size_t j = 0; j < i; j++)
        if (outs[j] && v[j]->kind == FS_FILE && v[j]->dev == v[i]->dev && v[j]->ino == v[i]->ino)
            return outs[j];
    return NULL;
}

/* Write the tree under dir; returns the bytes its contents take on disk. */
static uint64_t materialise(const struct fstree *t, const char *dir, size_t *count)
{
    size_t n;
    struct fs_node **v = fstree_sorted(t, &n);
    char **outs = calloc(n, sizeof(*outs));
    if (!outs)
        die("out of memory");
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fs_node *f = v[i];
        outs[i] = strcmp(f->path, "/") ? xasprintf("%s%s", dir, f->path) : xstrdup(dir);
        bytes += 4096 + (f->kind == FS_FILE ? (f->size + 4095) / 4096 * 4096 : 0);
        if (f->kind == FS_DIR) {
            if (strcmp(f->path, "/") && mkdir(outs[i], 0700) != 0)
                die("cannot create %s: %s", outs[i], strerror(errno));
        } else if (f->kind == FS_LINK) {
            if (symlink(f->data, outs[i]) != 0)
                die("cannot create %s: %s", outs[i], strerror(errno));
            set_attrs(outs[i], f);
        } else {
            const char *same = hard_link_source(v, outs, i);
            if (same) {
                if (link(same, outs[i]) != 0)
                    die("cannot link %s: %s", outs[i], strerror(errno));
                continue;
            }
            if (f->host)
                copy_host_file(f->host, outs[i], f->size);
            else
                write_bytes(outs[i], f->data, f->size);
            set_attrs(outs[i], f);
        }
    }
    /* directories last, deepest first: a read-only one was written into */
    for (size_t i = n; i-- > 0;)
        if (v[i]->kind == FS_DIR)
            set_attrs(outs[i], v[i]);
    for (size_t i = 0; i < n; i++)
        free(outs[i]);
    free(outs);
    free(v);
    *count = n;
    return bytes;
}

static int make_writable(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    if (type == FTW_D)
        chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st, (void)type, (void)f;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, make_writable, 32, FTW_PHYS);
    nftw(dir, remove_one, 32, FTW_PHYS | FTW_DEPTH);
}

/* The work directory, removed even when osprey dies half-way. */
static char *work_dir;
static pid_t work_owner;

static void remove_work_dir(void)
{
    if (work_dir && getpid() == work_owner)
        remove_tree(work_dir);
}

/* Not root: run mkfs where our user is root, so that the files it copies
 * are root's in the image. Without user namespaces they stay ours. */
static void become_root_in_userns(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (uid == 0)
        return;
    if (unshare(CLONE_NEWUSER) != 0) {
        warn("warning: no user namespace here (%s): the image's files are owned by uid %u, not root",
             strerror(errno), (unsigned)uid);
        return;
    }
    char map[64];
    int fd = open("/proc/self/setgroups", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, "deny", 4);
        close(fd);
    }
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, map, strlen(map));
        close(fd);
    }
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    fd = open("/proc/self/gid_map", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, map, strlen(map));
        close(fd);
    }
}

/* What makes the same inputs give the same bytes: mkfs.ext4 otherwise
 * picks random UUIDs and hash seed and stamps the current time. Both come
 * from a digest of the tree; the time is $SOURCE_DATE_EPOCH, else the
 * newest file's (e2fsprogs takes 0 as "not set"). */
struct mkfs_identity {
    char uuid[37], hash_seed[37];
    int64_t time;
};

static void format_uuid(char out[37], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    b = (b & 0xffff0fff) | 0x4000;          /* version 4 ... */
    c = (c & 0x3fffffff) | 0x80000000;      /* ... RFC 4122 variant: a valid random-looking UUID */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%04x%08x", a, b >> 16, b & 0xffff, c >> 16, c & 0xffff, d);
}

static void tree_identity(const struct fstree *t, struct mkfs_identity *id)
{
    size_t n;
    struct fs_node **v = fstree_sorted(t, &n);
    uint32_t h[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    int64_t newest = 0;
    for (size_t i = 0; i < n; i++) {
        char attrs[96];
        int len = snprintf(attrs, sizeof(attrs), "|%d|%o|%lld|%llu|", (int)v[i]->kind, (unsigned)v[i]->perm,
                           (long long)v[i]->mtime, (unsigned long long)v[i]->size);
        for (int k = 0; k < 8; k++) {
            h[k] = crc32_update(h[k] * 2654435761u, v[i]->path, strlen(v[i]->path));
            h[k] = crc32_update(h[k], attrs, (size_t)len);
            if (v[i]->kind == FS_LINK || (v[i]->kind == FS_FILE && !v[i]->host))
                h[k] = crc32_update(h[k], v[i]->data, v[i]->kind == FS_LINK ? strlen(v[i]->data) : v[i]->size);
        }
        if (v[i]->mtime > newest)
            newest = v[i]->mtime;
    }
    free(v);
    format_uuid(id->uuid, h[0], h[1], h[2], h[3]);
    format_uuid(id->hash_seed, h[4], h[5], h[6], h[7]);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    id->time = sde && *sde ? fstree_default_mtime() : newest;
    if (id->time <= 0)
        id->time = 1;
}

static char *read_small_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = xmalloc(65536);
    *n = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* Run an e2fsprogs tool; err_log: where its stderr goes (shown when it
 * fails), NULL for osprey's own. */
static void run_tool(char **argv, const char *fake_time, bool as_root, const char *err_log)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (as_root)
            become_root_in_userns();
        setenv("E2FSPROGS_FAKE_TIME", fake_time, 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO); /* banners and debugfs's echo of its commands */
        int log = err_log ? open(err_log, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
        if (log >= 0)
            dup2(log, STDERR_FILENO); /* debugfs's banner is on stderr */
        execv(argv[0], argv);
        fprintf(stderr, "osprey: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        size_t n;
        char *msg = err_log ? read_small_file(err_log, &n) : NULL;
        if (msg)
            fwrite(msg, 1, n, stderr);
        die("%s failed (status %d; its message is above)", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* mkfs -d copies each file's ctime, which is when we wrote it: debugfs
 * sets it to the mtime (what a cpio root has). Names debugfs cannot quote
 * keep theirs; the image is then not byte-for-byte reproducible. */
static void fix_ctimes(const struct fstree *t, const char *work, const char *img, const char *fake_time)
{
    char *script = xasprintf("%s/ctimes", work);
    FILE *f = fopen(script, "w");
    if (!f)
        die("cannot create %s: %s", script, strerror(errno));
    size_t n;
    struct fs_node **v = fstree_sorted(t, &n);
    for (size_t i = 0; i < n; i++)
        if (!strpbrk(v[i]->path, "\"\\\n"))
            fprintf(f, "sif \"%s\" ctime 0x%llx\n", v[i]->path,
                    (unsigned long long)(v[i]->mtime > 0 ? (uint32_t)v[i]->mtime : 0));
    free(v);
    if (fclose(f) != 0)
        die("cannot write %s: %s", script, strerror(errno));
    char *debugfs = find_e2fs_tool("debugfs");
    char *argv[] = { debugfs, "-w", "-f", script, (char *)img, NULL };
    char *log = xasprintf("%s/debugfs.log", work);
    run_tool(argv, fake_time, false, log);
    unlink(log);
    free(log);
    unlink(script);
    free(script);
    free(debugfs);
}

static void run_mkfs(const char *mkfs, const char *dir, const char *img, uint64_t inodes,
                     const struct mkfs_identity *id, char *fake_time)
{
    char inodes_s[32], ext_opts[128];
    snprintf(inodes_s, sizeof(inodes_s), "%llu", (unsigned long long)inodes);
    snprintf(ext_opts, sizeof(ext_opts), "root_owner=0:0,hash_seed=%s", id->hash_seed);
    char *argv[] = { (char *)mkfs, "-q", "-F", "-b", "4096", "-I", "256", "-N", inodes_s,
                     "-O", EXT4_FEATURES, "-E", ext_opts, "-U", (char *)id->uuid, "-L", "osprey-root",
                     "-d", (char *)dir, (char *)img, NULL };
    snprintf(fake_time, 32, "%lld", (long long)id->time);
    run_tool(argv, fake_time, true, NULL);
}

char *fstree_write_ext4(const struct fstree *t, uint64_t disk_size, uint64_t *size_out)
{
    char *mkfs = find_e2fs_tool("mkfs.ext4");
    const char *tmp = getenv("TMPDIR");
    char *work = xasprintf("%s/osprey-mkfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work))
        die("cannot create a directory in %s: %s (set TMPDIR)", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    work_dir = work;
    work_owner = getpid();
    atexit(remove_work_dir);
    char *dir = xasprintf("%s/root", work), *img = xasprintf("%s/root.ext4", work);
    if (mkdir(dir, 0700) != 0)
        die("cannot create %s: %s", dir, strerror(errno));
    size_t count;
    uint64_t content = materialise(t, dir, &count);
    /* room to write: half as much again as the files, plus the journal
     * (up to 64 MiB for these sizes) and the metadata */
    uint64_t want = (content + content / 2 + 96 * MIB + MIB - 1) / MIB * MIB;
    if (disk_size && disk_size < content + 32 * MIB)
        die("--disk-size %lluM is too small: the files need about %lluM (with the journal)",
            (unsigned long long)(disk_size / MIB), (unsigned long long)((content + 32 * MIB + MIB - 1) / MIB));
    uint64_t size = disk_size ? disk_size : want;
    int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || close(fd) != 0)
        die("cannot create %s: %s", img, strerror(errno));
    struct mkfs_identity id;
    tree_identity(t, &id);
    char fake_time[32];
    run_mkfs(mkfs, dir, img, count + count / 2 + 4096, &id, fake_time);
    fix_ctimes(t, work, img, fake_time);
    remove_tree(dir);
    free(dir);
    free(mkfs);
    *size_out = size;
    return img;
}

void fstree_ext4_cleanup(void)
{
    remove_work_dir();
    free(work_dir);
    work_dir = NULL;
}
