/* Guest test: an ext4 image mounted with mount(2): every file in a manifest
 * made on the host is read back (read and mmap) and compared, then files
 * are written, renamed, linked, truncated and removed, and everything is
 * checked again after a remount (read-only: writes then fail with EROFS).
 * Usage: ext4_rw IMAGE|DEVICE MOUNTPOINT [MANIFEST], or ext4_rw --refused
 * IMAGE... (each damaged image must fail to mount); without arguments (as
 * tests/test_guest.py runs every guest program) there is nothing to check.
 * osprey: memory=512M timeout=120 */
#include "fs_check.h"
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>

static uint64_t fnv(const unsigned char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#define FNV_START 0xcbf29ce484222325ull

/* Checksum and size of a whole file, read in odd-sized pieces. */
static int file_sum(const char *path, uint64_t *sum, uint64_t *size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    static unsigned char buf[70001];
    *sum = FNV_START;
    *size = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        *sum = fnv(buf, (size_t)n, *sum);
        *size += (uint64_t)n;
    }
    close(fd);
    return n < 0 ? -1 : 0;
}

static bool mmap_matches(const char *path, uint64_t size)
{
    if (size == 0 || size > (64u << 20))
        return true;
    int fd = open(path, O_RDONLY);
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    unsigned char *buf = malloc(size);
    bool ok = m != MAP_FAILED && pread(fd, buf, size, 0) == (ssize_t)size && memcmp(m, buf, size) == 0;
    if (m != MAP_FAILED)
        munmap(m, size);
    free(buf);
    close(fd);
    return ok;
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Lines "f PATH SIZE SUM", "l PATH TARGET", "d PATH ENTRIES" (paths under the mount). */
static void check_manifest(const char *mnt, const char *manifest)
{
    FILE *f = fopen(manifest, "r");
    CHECK(f != NULL, "open the manifest %s", manifest);
    if (!f)
        return;
    char line[4600], kind, rel[4200], a[4200], path[4400];
    int files = 0, bad = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long size = 0, sum = 0;
        if (sscanf(line, "%c %4199s %4199s %llx", &kind, rel, a, &sum) < 3)
            continue;
        snprintf(path, sizeof(path), "%s/%s", mnt, rel);
        if (kind == 'f') {
            size = strtoull(a, NULL, 10);
            uint64_t got_sum, got_size;
            bool ok = file_sum(path, &got_sum, &got_size) == 0 && got_size == size && got_sum == sum &&
                      mmap_matches(path, size);
            if (!ok && bad++ < 10)
                CHECK(0, "file %s: %llu bytes, checksum %llx", rel, size, sum);
            files++;
        } else if (kind == 'l') {
            char t[4200];
            ssize_t n = readlink(path, t, sizeof(t) - 1);
            bool ok = n >= 0 && (t[n] = 0, strcmp(t, a) == 0);
            if (!ok && bad++ < 10)
                CHECK(0, "symlink %s -> %s", rel, a);
        } else if (kind == 'd') {
            int n = count_entries(path);
            if (n != atoi(a) && bad++ < 10)
                CHECK(0, "directory %s has %d entries, want %s", rel, n, a);
        }
    }
    fclose(f);
    CHECK(bad == 0, "%d files of the manifest read back (read and mmap) with the right contents", files);
}

static void pattern(unsigned char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31 + seed + (i >> 12));
}

static bool write_pattern(const char *path, size_t n, unsigned seed)
{
    unsigned char *buf = malloc(n + 1);
    pattern(buf, n, seed);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    size_t done = 0;
    while (fd >= 0 && done < n) { /* in uneven writes */
        size_t chunk = n - done < 12345 ? n - done : 12345;
        ssize_t w = write(fd, buf + done, chunk);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = fd >= 0 && done == n && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok;
}

static bool has_pattern(const char *path, size_t n, unsigned seed)
{
    unsigned char *want = malloc(n + 1), *got = malloc(n + 1);
    pattern(want, n, seed);
    int fd = open(path, O_RDONLY);
    ssize_t r = fd >= 0 ? pread(fd, got, n + 1, 0) : -1;
    bool ok = r == (ssize_t)n && memcmp(want, got, n) == 0;
    if (fd >= 0)
        close(fd);
    free(want);
    free(got);
    return ok;
}

static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000, 1 << 20, 3 << 20 };

static void write_phase(const char *mnt)
{
    char d[300], p[400], q[500];
    snprintf(d, sizeof(d), "%s/osprey-written", mnt);
    CHECK(mkdir(d, 0755) == 0, "mkdir %s", d);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(p, sizeof(p), "%s/size-%zu", d, sizes[i]);
        CHECK(write_pattern(p, sizes[i], (unsigned)i) && has_pattern(p, sizes[i], (unsigned)i),
              "write and read back %zu bytes", sizes[i]);
    }
    snprintf(p, sizeof(p), "%s/sparse", d);
    int fd = open(p, O_CREAT | O_RDWR, 0600);
    CHECK(fd >= 0 && pwrite(fd, "end", 3, 64 << 20) == 3, "write at 64 MiB: a sparse file");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (64 << 20) + 3 && st.st_blocks < 64, "sparse: size %ld, %ld blocks",
          (long)st.st_size, (long)st.st_blocks);
    char z[4096], zero[4096] = { 0 };
    CHECK(pread(fd, z, sizeof(z), 1 << 20) == (ssize_t)sizeof(z) && memcmp(z, zero, sizeof(z)) == 0,
          "the hole reads as zeros");
    CHECK(lseek(fd, 0, SEEK_DATA) == (off_t)(64 << 20) - (64 << 20) % 4096, "SEEK_DATA finds the data");
    close(fd);
    /* a shared writable mapping reaches the disk through msync */
    snprintf(p, sizeof(p), "%s/mapped", d);
    fd = open(p, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 3 * 4096) == 0, "ftruncate to 3 pages");
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED, "mmap shared");
    if (m != MAP_FAILED) {
        memcpy(m + 4096 + 100, "through the mapping", 19);
        CHECK(msync(m, 3 * 4096, MS_SYNC) == 0, "msync");
        munmap(m, 3 * 4096);
    }
    char buf[32] = { 0 };
    CHECK(pread(fd, buf, 19, 4096 + 100) == 19 && memcmp(buf, "through the mapping", 19) == 0,
          "read sees what the mapping wrote");
    close(fd);
    /* names */
    snprintf(p, sizeof(p), "%s/size-4097", d);
    snprintf(q, sizeof(q), "%s/renamed", d);
    CHECK(rename(p, q) == 0 && access(p, F_OK) != 0 && has_pattern(q, 4097, 4), "rename");
    snprintf(p, sizeof(p), "%s/hard", d);
    CHECK(link(q, p) == 0 && stat(q, &st) == 0 && st.st_nlink == 2, "hard link: 2 links");
    CHECK(unlink(q) == 0 && stat(p, &st) == 0 && st.st_nlink == 1 && has_pattern(p, 4097, 4), "unlink one name");
    snprintf(p, sizeof(p), "%s/fastlink", d);
    CHECK(symlink("size-1", p) == 0, "fast symlink");
    snprintf(p, sizeof(p), "%s/slowlink", d);
    CHECK(symlink("a/target/name/well/past/sixty/characters/so/it/needs/its/own/block", p) == 0, "slow symlink");
    snprintf(p, sizeof(p), "%s/size-1048576", d);
    CHECK(truncate(p, 1000) == 0 && has_pattern(p, 1000, 6), "truncate to 1000 bytes");
    snprintf(p, sizeof(p), "%s/many", d);
    CHECK(mkdir(p, 0755) == 0, "mkdir many");
    int made = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(q, sizeof(q), "%s/entry-%04d", p, i);
        int f = open(q, O_CREAT | O_WRONLY, 0644);
        made += f >= 0;
        close(f);
    }
    CHECK(made == 2000 && count_entries(p) == 2000, "2000 files in one directory");
    snprintf(q, sizeof(q), "%s/entry-1234", p);
    CHECK(unlink(q) == 0 && count_entries(p) == 1999, "unlink among them");
    snprintf(p, sizeof(p), "%s/gone", d);
    CHECK(mkdir(p, 0700) == 0 && rmdir(p) == 0, "mkdir and rmdir");
    sync();
}

/* Threads at once: each makes, writes, checks and removes its own files
 * while all of them read one shared file. */
struct worker {
    char dir[300];
    const char *shared;
    int failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char p[400];
    for (int round = 0; round < 20; round++) {
        snprintf(p, sizeof(p), "%s/r%d", w->dir, round);
        size_t n = 1000 + (size_t)round * 3000;
        if (!write_pattern(p, n, (unsigned)round) || !has_pattern(p, n, (unsigned)round))
            w->failures++;
        if (!has_pattern(w->shared, 100000, 5))
            w->failures++;
        if (round % 2 && unlink(p) != 0)
            w->failures++;
    }
    return NULL;
}

static void threads_phase(const char *mnt)
{
    enum { N = 4 };
    struct worker w[N];
    pthread_t t[N];
    char shared[400];
    snprintf(shared, sizeof(shared), "%s/osprey-written/size-100000", mnt);
    for (int i = 0; i < N; i++) {
        snprintf(w[i].dir, sizeof(w[i].dir), "%s/osprey-written/thread%d", mnt, i);
        mkdir(w[i].dir, 0755);
        w[i].shared = shared;
        w[i].failures = 0;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int failures = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    CHECK(failures == 0, "%d threads writing, reading and removing files at once", N);
    CHECK(count_entries(w[0].dir) == 10, "each thread's directory holds its 10 remaining files");
}

static void verify_phase(const char *mnt)
{
    char d[300], p[400];
    snprintf(d, sizeof(d), "%s/osprey-written", mnt);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (sizes[i] == 4097 || sizes[i] == (1 << 20))
            continue;
        snprintf(p, sizeof(p), "%s/size-%zu", d, sizes[i]);
        CHECK(has_pattern(p, sizes[i], (unsigned)i), "after remount: %zu bytes", sizes[i]);
    }
    snprintf(p, sizeof(p), "%s/hard", d);
    CHECK(has_pattern(p, 4097, 4), "after remount: the renamed and linked file");
    snprintf(p, sizeof(p), "%s/size-1048576", d);
    CHECK(has_pattern(p, 1000, 6), "after remount: the truncated file");
    char t[200];
    snprintf(p, sizeof(p), "%s/slowlink", d);
    ssize_t n = readlink(p, t, sizeof(t));
    CHECK(n == 66 && memcmp(t, "a/target/name", 13) == 0, "after remount: the slow symlink");
    snprintf(p, sizeof(p), "%s/many", d);
    CHECK(count_entries(p) == 1999, "after remount: 1999 entries");
    snprintf(p, sizeof(p), "%s/mapped", d);
    int fd = open(p, O_RDONLY);
    char buf[32] = { 0 };
    CHECK(fd >= 0 && pread(fd, buf, 19, 4096 + 100) == 19 && memcmp(buf, "through the mapping", 19) == 0,
          "after remount: the mapping's write");
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        printf("ext4_rw: no image or device given: nothing to check\n");
        return 0;
    }
    if (!strcmp(argv[1], "--refused")) {
        mkdir("/mnt", 0755);
        for (int i = 2; i < argc; i++) {
            errno = 0;
            int r = mount(argv[i], "/mnt", "ext4", 0, NULL);
            CHECK(r == -1 && errno != 0, "damaged %s: mount refused", argv[i]);
            if (r == 0)
                umount("/mnt");
        }
        return check_failures ? 1 : 0;
    }
    const char *src = argv[1], *mnt = argv[2];
    mkdir(mnt, 0755);
    CHECK(mount(src, mnt, "ext4", 0, NULL) == 0, "mount %s on %s", src, mnt);
    struct statfs sf;
    CHECK(statfs(mnt, &sf) == 0 && sf.f_type == 0xEF53 && sf.f_bsize >= 1024, "statfs: ext4, %ld-byte blocks",
          (long)sf.f_bsize);
    if (argc > 3)
        check_manifest(mnt, argv[3]);
    write_phase(mnt);
    threads_phase(mnt);
    CHECK(umount(mnt) == 0, "umount");
    CHECK(mount(src, mnt, "ext4", MS_RDONLY, NULL) == 0, "mount again read-only");
    verify_phase(mnt);
    char p[400];
    snprintf(p, sizeof(p), "%s/osprey-written/new", mnt);
    CHECK_ERR(open(p, O_CREAT | O_WRONLY, 0644), EROFS, "creating on a read-only mount: EROFS");
    if (argc > 3)
        check_manifest(mnt, argv[3]);
    CHECK(umount(mnt) == 0, "umount again");
    printf("%s: %d failures\n", argv[0], check_failures);
    return check_failures ? 1 : 0;
}
