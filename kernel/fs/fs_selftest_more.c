/* --test=vfs, continued: devfs, descriptor tables and contexts, advisory
 * locks, and what the initrd put in the root (when tests/test_vfs.py gave one). */
#include "core/cpu.h"
#include "core/thread.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/lock.h"
#include "fs_selftest.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

int fs_selftest_devices(void)
{
    int fails = 0, err;
    char buf[64];
    struct file *f = st_open("/dev/null", O_RDWR, NULL);
    T(f && vfs_pread_kernel(f, buf, sizeof(buf), 0) == 0 && vfs_pwrite_kernel(f, "abc", 3, 0) == 3,
      "/dev/null: reads nothing, swallows writes");
    vfs_file_put(f);
    f = st_open("/dev/zero", O_RDONLY, NULL);
    memset(buf, 1, sizeof(buf));
    T(f && vfs_pread_kernel(f, buf, sizeof(buf), 0) == 64 && buf[0] == 0 && buf[63] == 0, "/dev/zero: zeros");
    vfs_file_put(f);
    f = st_open("/dev/full", O_RDWR, NULL);
    T(f && vfs_pwrite_kernel(f, "x", 1, 0) == -ENOSPC, "/dev/full: ENOSPC");
    vfs_file_put(f);
    f = st_open("/dev/urandom", O_RDONLY, NULL);
    uint64_t r[4] = { 0 };
    T(f && vfs_pread_kernel(f, r, sizeof(r), 0) == sizeof(r) && r[0] != r[1] && (r[2] | r[3]) != 0,
      "/dev/urandom: varying bytes");
    vfs_file_put(f);
    T(!st_open("/dev/ptmx", O_RDWR, &err) && err == -ENOENT, "/dev/ptmx: ENOENT (no pseudo-terminals)");
    ssize_t n = vfs_readlink_kernel("/dev/stdin", buf, sizeof(buf));
    T(n == 15 && memcmp(buf, "/proc/self/fd/0", 15) == 0, "/dev/stdin -> /proc/self/fd/0");
    n = vfs_readlink_kernel("/dev/fd", buf, sizeof(buf));
    T(n == 13 && memcmp(buf, "/proc/self/fd", 13) == 0, "/dev/fd -> /proc/self/fd");
    struct kstat st;
    T(st_stat("/dev/console", true, &st) == 0 && S_ISCHR(st.mode) && DEV_MAJOR(st.rdev) == 5 &&
          DEV_MINOR(st.rdev) == 1, "/dev/console is char 5:1");
    f = st_open("/dev/console", O_RDWR | O_NONBLOCK, NULL);
    const char *hello = "vfs selftest: hello on the console\n";
    T(f && vfs_pwrite_kernel(f, hello, strlen(hello), 0) == (ssize_t)strlen(hello), "write to the console");
    ssize_t got = f ? vfs_pread_kernel(f, buf, 1, 0) : -1;
    /* osprey run sends ^D when its stdin ends, which reads as end of input */
    T(got == -EAGAIN || got == 0 || got == 1, "a non-blocking console read returns at once (%ld)", got);
    T(f && vfs_llseek(f, 0, SEEK_SET) == -ESPIPE, "lseek on the console: ESPIPE");
    vfs_file_put(f);
    T(st_create("/dev/shm/seg", "shm") == 0, "/dev/shm takes files");
    return fails;
}

static int fds_basic(struct fd_table *t, struct file *f)
{
    int fails = 0;
    T(fd_install(t, f, 0, false) == 0 && fd_install(t, f, 0, false) == 1, "lowest free descriptors 0, 1");
    T(fd_close(t, 0) == 0 && fd_install(t, f, 0, false) == 0, "a closed descriptor is reused first");
    T(fd_close(t, 7) == -EBADF && !fd_get(t, 7), "closing an unused descriptor: EBADF");
    T(fd_dup_to(t, 1, 5, true) == 5 && fd_get_cloexec(t, 5) == 1 && fd_get_cloexec(t, 1) == 0,
      "dup to 5 with close-on-exec; 1 keeps its flag");
    T(fd_install(t, f, 3, false) == 3, "F_DUPFD-style minimum");
    struct file *a = fd_get(t, 1), *b = fd_get(t, 5);
    char buf[8];
    struct uio u;
    uio_init_kernel(&u, buf, 4);
    vfs_read_at_pos(a, &u);
    T(a == b && b->pos == 4, "dup'd descriptors share the offset");
    vfs_file_put(a);
    vfs_file_put(b);
    T(fd_close_range(t, 2, ~0u, CLOSE_RANGE_CLOEXEC) == 0 && fd_get_cloexec(t, 3) == 1, "close_range CLOEXEC");
    fd_close_on_exec(t);
    T(!fd_get(t, 3) && !fd_get(t, 5) && fd_get_cloexec(t, 1) == 0, "exec closes close-on-exec descriptors");
    T(fd_close_range(t, 0, ~0u, 0) == 0 && fd_table_count(t) == 0, "close_range closes everything");
    T(fd_table_set_limit(t, 4) == 0, "limit 4");
    int last = 0;
    for (int i = 0; i < 6 && last >= 0; i++)
        last = fd_install(t, f, 0, false);
    T(last == -EMFILE && fd_table_count(t) == 4, "the fifth descriptor: EMFILE");
    T(fd_dup_to(t, 0, 4, false) == -EBADF, "dup2 beyond the limit: EBADF");
    return fails;
}

int fs_selftest_fds(void)
{
    int fails = 0;
    st_create("/tmp/vt/fdfile", "0123456789");
    struct file *f = st_open("/tmp/vt/fdfile", O_RDONLY, NULL);
    struct fd_table *t = fd_table_create();
    if (!f || !t)
        return selftest_check(false, "set-up");
    fails += fds_basic(t, f);
    fd_table_put(t);
    vfs_file_put(f);

    t = fd_table_create();
    T(fd_install_console(t) == 0, "fd_install_console");
    struct file *in = fd_get(t, 0), *err = fd_get(t, 2);
    T(in && in == err && (in->flags & O_ACCMODE) == O_RDWR, "0, 1, 2: one read-write console file");
    vfs_file_put(in);
    vfs_file_put(err);
    fd_table_put(t);

    struct fs_context *fs = fs_context_create();
    struct path cwd;
    vfs_lookup(fs, NULL, "/tmp/vt", 0, &cwd);
    fs_context_set_cwd(fs, &cwd);
    path_put(&cwd);
    struct path p;
    T(vfs_lookup(fs, NULL, "g/r3", 0, &p) == 0, "a name relative to the working directory");
    path_put(&p);
    T(fs_context_umask(fs, 077) == 022, "umask starts at 022");
    struct file *nf = NULL;
    T(vfs_openat(fs, NULL, "umasked", O_CREAT | O_WRONLY, 0666, &nf) == 0 && (nf->vnode->mode & 0777) == 0600,
      "umask 077 applies to new files");
    vfs_file_put(nf);
    fs_context_put(fs);
    return fails;
}

static volatile int waiter_state;

static void lock_waiter(void *arg)
{
    struct file *f2 = arg;
    struct vfs_lock_req r = { F_WRLCK, 0, 10, -1 };
    waiter_state = 1;
    int err = vfs_lock_set(f2, VFS_LOCK_OFD, f2, &r, true);
    waiter_state = err == 0 ? 2 : 3;
}

int fs_selftest_locks(void)
{
    int fails = 0;
    st_create("/tmp/vt/lockme", "");
    struct file *f1 = st_open("/tmp/vt/lockme", O_RDWR, NULL), *f2 = st_open("/tmp/vt/lockme", O_RDWR, NULL);
    struct vfs_lock_req w = { F_WRLCK, 0, 99, -1 }, r;
    T(vfs_lock_set(f1, VFS_LOCK_OFD, f1, &w, false) == 0, "OFD write lock on [0, 99]");
    struct vfs_lock_req w2 = { F_WRLCK, 50, 60, -1 };
    T(vfs_lock_set(f2, VFS_LOCK_OFD, f2, &w2, false) == -EAGAIN, "another open file conflicts: EAGAIN");
    r = w2;
    vfs_lock_test(f2, VFS_LOCK_OFD, f2, &r);
    T(r.type == F_WRLCK && r.start == 0 && r.end == 99 && r.pid == -1, "F_OFD_GETLK reports the holder");
    r = w2;
    vfs_lock_test(f1, VFS_LOCK_OFD, f1, &r);
    T(r.type == F_UNLCK, "the owner never conflicts with itself");
    void *proc = (void *)0x1234; /* a process's POSIX locks: owned by its fd table */
    struct vfs_lock_req p1 = { F_WRLCK, 300, 400, 7 }, p2 = { F_RDLCK, 350, 360, 7 };
    T(vfs_lock_set(f1, VFS_LOCK_POSIX, proc, &p1, false) == 0 &&
          vfs_lock_set(f2, VFS_LOCK_POSIX, proc, &p2, false) == 0, "POSIX locks of one process never conflict");
    struct vfs_lock_req p3 = { F_RDLCK, 0, 10, 7 };
    T(vfs_lock_set(f1, VFS_LOCK_POSIX, proc, &p3, false) == -EAGAIN, "POSIX and OFD locks do conflict");
    struct vfs_lock_req fl = { F_WRLCK, 0, UINT64_MAX, -1 }, fs = { F_RDLCK, 0, UINT64_MAX, -1 };
    T(vfs_lock_set(f1, VFS_LOCK_FLOCK, f1, &fl, false) == 0 && vfs_lock_set(f2, VFS_LOCK_FLOCK, f2, &fs, false) == -EAGAIN,
      "flock: exclusive excludes shared");
    struct thread *t = thread_spawn("lockwait", lock_waiter, f2, -1);
    while (waiter_state == 0)
        thread_yield();
    thread_sleep_ns(20000000);
    T(waiter_state == 1, "F_OFD_SETLKW blocks while the lock is held");
    vfs_file_put(f1); /* closing releases its OFD and flock locks */
    thread_join(t);
    T(waiter_state == 2, "and gets the lock once the holder closes");
    T(vfs_lock_set(f2, VFS_LOCK_FLOCK, f2, &fs, false) == 0, "flock free after close");
    struct vfs_lock_req un = { F_UNLCK, 0, UINT64_MAX, 7 };
    vfs_lock_set(f2, VFS_LOCK_POSIX, proc, &un, false);
    T(list_empty(&f2->vnode->locks) == false, "f2's own locks remain until it closes");
    vfs_file_put(f2);
    return fails;
}

int fs_selftest_initrd(void)
{
    int fails = 0;
    struct kstat st, a, b;
    if (st_stat("/selftest", true, &st) != 0)
        return selftest_check(true, "no initrd with /selftest: its checks skipped");
    T(st_content_is("/selftest/hello", "hello from the initrd\n"), "initrd file content");
    T(st_stat("/selftest/hello", true, &st) == 0 && (st.mode & 07777) == 0640 && st.uid == 1000 && st.gid == 100 &&
          st.mtime.tv_sec == 1234567890, "mode 0640, owner 1000:100, mtime kept");
    T(st_stat("/selftest/link", false, &st) == 0 && S_ISLNK(st.mode) && st_content_is("/selftest/link", "hello from the initrd\n"),
      "symlink");
    T(st_stat("/selftest/hard1", true, &a) == 0 && st_stat("/selftest/hard2", true, &b) == 0 && a.ino == b.ino &&
          a.nlink == 2 && st_content_is("/selftest/hard1", "shared data\n"), "hard links share one inode and its data");
    T(st_stat("/selftest/private", true, &st) == 0 && S_ISDIR(st.mode) && (st.mode & 0777) == 0700 &&
          st.mtime.tv_sec == 1234567890, "directory mode and mtime (set after its entries)");
    T(st_content_is("/selftest/private/secret", "s\n"), "a file in it");
    T(st_stat("/deep/a/b/c/file", true, &st) == 0 && st_stat("/deep/a", true, &a) == 0 && S_ISDIR(a.mode) &&
          (a.mode & 0777) == 0755, "missing parent directories were created");
    T(st_stat("/selftest/dotted", true, &st) == 0 && st_stat("/selftest/abs", true, &a) == 0, "./ and / prefixes normalised");
    T(st_stat("/selftest/fifo", false, &st) == 0 && S_ISFIFO(st.mode), "a FIFO");
    struct file *f = st_open("/selftest/null", O_RDWR, NULL);
    char buf[16];
    T(f && vfs_pread_kernel(f, buf, sizeof(buf), 0) == 0, "a device node in the initrd opens the device");
    vfs_file_put(f);
    f = st_open("/selftest/big", O_RDONLY, NULL);
    bool ok = f && f->vnode->size == 100000;
    for (uint64_t off = 0; ok && off < 100000; off += 4999) {
        ok = vfs_pread_kernel(f, buf, 1, off) == 1 && (uint8_t)buf[0] == off % 251;
    }
    T(ok, "a 100000-byte file, byte for byte");
    vfs_file_put(f);
    return fails;
}

/* Several threads on every CPU create, rename (within and across
 * directories, over each other's files), stat, list and remove names in the
 * same directories: no deadlock, no lost or doubled entry. */
#define STRESS_ROUNDS 150

static volatile int stress_errors;

static void stress_worker(void *arg)
{
    int id = (int)(uintptr_t)arg;
    char a[48], b[48], d[48];
    struct kstat st;
    for (int i = 0; i < STRESS_ROUNDS; i++) {
        snprintf(a, sizeof(a), "/tmp/stress/d%d/f%d_%d", i % 2, id, i);
        snprintf(b, sizeof(b), "/tmp/stress/d%d/shared%d", (i + 1) % 2, i % 3);
        snprintf(d, sizeof(d), "/tmp/stress/d%d/dir%d", i % 2, id);
        if (st_create(a, "x") != 0)
            stress_errors++;
        int r = vfs_renameat(NULL, NULL, a, NULL, b, 0); /* over whatever another thread put there */
        if (r != 0 && r != -ENOENT)
            stress_errors++;
        st_stat(b, true, &st);
        if (vfs_mkdirat(NULL, NULL, d, 0755) == 0) {
            char d2[48];
            snprintf(d2, sizeof(d2), "/tmp/stress/d%d/dir%d", (i + 1) % 2, id);
            if (vfs_renameat(NULL, NULL, d, NULL, d2, 0) != 0 || vfs_unlinkat(NULL, NULL, d2, AT_REMOVEDIR) != 0)
                stress_errors++;
        }
        r = vfs_unlinkat(NULL, NULL, b, 0);
        if (r != 0 && r != -ENOENT)
            stress_errors++;
    }
}

static bool count_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype, uint64_t next)
{
    (void)name, (void)ino, (void)dtype;
    if (len > 2 || name[0] != '.')
        (*(int *)((char *)ctx + sizeof(*ctx)))++;
    ctx->pos = next;
    return true;
}

static int dir_entries(const char *path)
{
    struct { struct dir_ctx ctx; int n; } c = { { 0, count_emit }, 0 };
    struct file *f = st_open(path, O_RDONLY | O_DIRECTORY, NULL);
    if (!f)
        return -1;
    vfs_iterate_dir(f, &c.ctx);
    vfs_file_put(f);
    return c.n;
}

int fs_selftest_stress(void)
{
    int fails = 0;
    vfs_mkdirat(NULL, NULL, "/tmp/stress", 0755);
    vfs_mkdirat(NULL, NULL, "/tmp/stress/d0", 0755);
    vfs_mkdirat(NULL, NULL, "/tmp/stress/d1", 0755);
    unsigned n = 2 * cpu_count + 1;
    struct thread *t[2 * MAX_CPUS + 1];
    stress_errors = 0;
    for (unsigned i = 0; i < n; i++)
        t[i] = thread_spawn("vfsstress", stress_worker, (void *)(uintptr_t)i, (int)(i % cpu_count));
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    T(stress_errors == 0, "%u threads on %u CPUs renaming over each other: %d unexpected errors", n, cpu_count,
      stress_errors);
    int left = dir_entries("/tmp/stress/d0") + dir_entries("/tmp/stress/d1");
    struct kstat a, b;
    st_stat("/tmp/stress/d0", true, &a);
    st_stat("/tmp/stress/d1", true, &b);
    T(left == 0 && a.nlink == 2 && b.nlink == 2, "every name is gone again (%d left), link counts %lu and %lu", left,
      a.nlink, b.nlink);
    return fails;
}
