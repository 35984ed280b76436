/* osbench disk: read a file on an ext4 disk, once per boot, so that the data
 * comes from the device and not from the page cache.
 *
 *   osbench disk [-m DEV:DIR] [-s SECONDS] seq|random FILE
 *
 * -m mounts DEV (Osprey's vblk0, Linux's /dev/vda) read-only as ext4 on DIR
 * first, waiting up to 10 s for the device to appear. `seq` reads FILE front
 * to back in 1 MiB read()s, the first read of it since boot, and prints the
 * rate in MiB/s. `random` makes 4 KiB pread()s at random 4 KiB-aligned
 * offsets for SECONDS (default 10) and prints reads per second; with a file
 * far larger than the guest's memory almost every read misses the cache. */
#define _GNU_SOURCE
#include "osbench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEQ_CHUNK (1u << 20)
#define RAND_CHUNK 4096u

static int mount_disk(char *spec)
{
    char *dir = strchr(spec, ':');
    if (!dir) {
        fprintf(stderr, "osbench: -m wants DEV:DIR\n");
        return -EINVAL;
    }
    *dir++ = '\0';
    mkdir(dir, 0755);
    /* Linux makes the disk's node in devtmpfs when its driver binds; Osprey
     * names disks by the block layer, so stat may fail there: just try. */
    for (int tries = 0; tries < 100; tries++) {
        if (mount(spec, dir, "ext4", MS_RDONLY, NULL) == 0)
            return 0;
        if (errno != ENOENT && errno != ENXIO && errno != ENODEV)
            break;
        struct timespec nap = { 0, 100 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    int err = errno;
    fprintf(stderr, "osbench: mount %s on %s: %s\n", spec, dir, strerror(err));
    return -err;
}

static int read_seq(int fd, char *buf, const char *path)
{
    uint64_t total = 0, t0 = now_ns();
    for (;;) {
        ssize_t n = read(fd, buf, SEQ_CHUNK);
        if (n < 0) {
            fprintf(stderr, "osbench: read %s: %s\n", path, strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
    }
    double s = (double)(now_ns() - t0) / 1e9;
    printf("OSB disk name=seq_read unit=MiB/s value=%.3f bytes=%llu seconds=%.3f\n",
           (double)total / 1048576.0 / s, (unsigned long long)total, s);
    return 0;
}

static int read_random(int fd, char *buf, off_t size, unsigned seconds, const char *path)
{
    uint64_t blocks = (uint64_t)size / RAND_CHUNK, state = 0x9e3779b97f4a7c15ull, reads = 0;
    if (blocks == 0) {
        fprintf(stderr, "osbench: %s is smaller than 4 KiB\n", path);
        return 1;
    }
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)seconds * 1000000000ull, t = t0, slowest = 0;
    while (t < end) {
        uint64_t batch = t;
        for (int i = 0; i < 16; i++, reads++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            off_t off = (off_t)(state % blocks) * RAND_CHUNK;
            if (pread(fd, buf, RAND_CHUNK, off) != RAND_CHUNK) {
                fprintf(stderr, "osbench: pread %s: %s\n", path, strerror(errno));
                return 1;
            }
        }
        t = now_ns();
        if (t - batch > slowest)
            slowest = t - batch;
    }
    double s = (double)(t - t0) / 1e9;
    printf("OSB disk name=random_read_4k unit=IOPS value=%.1f reads=%llu seconds=%.3f "
           "slowest_16_reads_ms=%.1f\n", (double)reads / s, (unsigned long long)reads, s,
           (double)slowest / 1e6);
    return 0;
}

int disk_main(int argc, char **argv)
{
    unsigned seconds = 10;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-m") == 0) {
            if (mount_disk(argv[i + 1]) != 0)
                return 1;
        } else if (strcmp(argv[i], "-s") == 0) {
            seconds = (unsigned)atoi(argv[i + 1]);
        } else {
            break;
        }
    }
    if (argc - i != 2 || (strcmp(argv[i], "seq") != 0 && strcmp(argv[i], "random") != 0)) {
        fprintf(stderr, "usage: osbench disk [-m DEV:DIR] [-s SECONDS] seq|random FILE\n");
        return 2;
    }
    const char *path = argv[i + 1];
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "osbench: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    char *buf = malloc(SEQ_CHUNK);
    if (!buf)
        return 1;
    int status = strcmp(argv[i], "seq") == 0 ? read_seq(fd, buf, path)
                                             : read_random(fd, buf, st.st_size, seconds, path);
    free(buf);
    close(fd);
    return status;
}
