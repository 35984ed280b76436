/* osbench file micro-benchmarks: sequential and random read of a file in a
 * directory (tmpfs in every environment), through the page cache. */
#define _GNU_SOURCE
#include "osbench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEQ_CHUNK (64u << 10)
#define RAND_CHUNK 4096u

static int file_fd = -1;
static char file_path[512];
static size_t file_bytes;
static char *buf;
static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 7;
    rand_state ^= rand_state << 17;
    return rand_state;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int setup_file(const struct micro_options *opt)
{
    file_bytes = (size_t)opt->file_mib << 20;
    snprintf(file_path, sizeof(file_path), "%s/osbench.%ld", opt->dir, (long)getpid());
    buf = malloc(SEQ_CHUNK);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < SEQ_CHUNK; i++)
        buf[i] = (char)(i * 31);
    file_fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (file_fd < 0)
        return -errno;
    unlink(file_path);   /* the open descriptor keeps the data */
    for (size_t off = 0; off < file_bytes; off += SEQ_CHUNK) {
        int err = write_all(file_fd, buf, SEQ_CHUNK);
        if (err)
            return err;
    }
    return 0;
}

static void teardown_file(void)
{
    if (file_fd >= 0)
        close(file_fd);
    file_fd = -1;
    free(buf);
    buf = NULL;
}

/* One op = one 64 KiB read(), front to back, starting over at the end. */
static int op_seq(uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++) {
        ssize_t n = read(file_fd, buf, SEQ_CHUNK);
        if (n == 0) {
            if (lseek(file_fd, 0, SEEK_SET) != 0)
                return -errno;
            n = read(file_fd, buf, SEQ_CHUNK);
        }
        if (n != SEQ_CHUNK)
            return n < 0 ? -errno : -EIO;
    }
    return 0;
}

/* One op = one 4 KiB pread at a random 4 KiB-aligned offset. */
static int op_random(uint64_t iters)
{
    size_t blocks = file_bytes / RAND_CHUNK;
    for (uint64_t i = 0; i < iters; i++) {
        off_t off = (off_t)(xorshift() % blocks) * RAND_CHUNK;
        if (pread(file_fd, buf, RAND_CHUNK, off) != RAND_CHUNK)
            return -EIO;
    }
    return 0;
}

/* Throughput in MiB/s: `scale` is the MiB one op moves. */
const struct micro micro_file[] = {
    { "file_seq_read", "MiB/s", SEQ_CHUNK / 1048576.0, 1, setup_file, op_seq, teardown_file },
    { "file_random_read_4k", "MiB/s", RAND_CHUNK / 1048576.0, 1, setup_file, op_random,
      teardown_file },
};
const unsigned micro_file_count = sizeof(micro_file) / sizeof(micro_file[0]);
