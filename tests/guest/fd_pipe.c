/* Pipes and FIFOs: pipe2 flags, blocking and non-blocking ends, PIPE_BUF
 * atomicity between writer threads, EOF, EPIPE and SIGPIPE, pipe sizes,
 * FIONREAD, packet mode, signals interrupting a blocked read (EINTR and
 * SA_RESTART), named FIFOs.
 * osprey: cpus=2 timeout=90 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Write everything, however many rounds it takes. */
static ssize_t write_all(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r <= 0)
            return done ? (ssize_t)done : r;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

static void check_basics(void)
{
    int p[2];
    CHECK(pipe(p) == 0 && p[0] >= 0 && p[1] > p[0], "pipe gives two descriptors (%d, %d)", p[0], p[1]);
    CHECK(write(p[1], "hello", 5) == 5, "write 5 bytes");
    char buf[16] = { 0 };
    CHECK(read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0, "read returns what is there");
    CHECK(read(p[0], buf, 0) == 0 && write(p[1], buf, 0) == 0, "zero-length read and write return 0");
    struct stat st;
    CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat says S_IFIFO");
    CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY && (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY,
          "read end O_RDONLY, write end O_WRONLY");
    CHECK_ERR(write(p[0], "x", 1), EBADF, "writing the read end: EBADF");
    CHECK_ERR(read(p[1], buf, 1), EBADF, "reading the write end: EBADF");
    CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE, "lseek: ESPIPE");
    CHECK_ERR(pread(p[0], buf, 1, 0), ESPIPE, "pread: ESPIPE");
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536, "default capacity 64 KiB (%d)", fcntl(p[0], F_GETPIPE_SZ));
    close(p[0]);
    close(p[1]);

    CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2 O_CLOEXEC|O_NONBLOCK");
    CHECK((fcntl(p[0], F_GETFD) & FD_CLOEXEC) && (fcntl(p[1], F_GETFD) & FD_CLOEXEC), "both close-on-exec");
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFL) & O_NONBLOCK), "both non-blocking");
    CHECK_ERR(read(p[0], buf, 1), EAGAIN, "empty non-blocking read: EAGAIN");
    close(p[0]);
    close(p[1]);
    CHECK_ERR(pipe2(p, 0x1), EINVAL, "pipe2 with an unknown flag: EINVAL");
    CHECK_ERR(syscall(SYS_pipe2, (void *)16, 0), EFAULT, "pipe2 to a bad address: EFAULT");
}

static void check_capacity(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    static char big[1 << 17];
    memset(big, 'a', sizeof(big));
    ssize_t total = 0, w;
    while ((w = write(p[1], big, 4096)) > 0)
        total += w;
    CHECK(w < 0 && errno == EAGAIN && total == 65536, "a full pipe holds 64 KiB, then EAGAIN (%zd)", total);
    int n = -1;
    CHECK(ioctl(p[0], FIONREAD, &n) == 0 && n == 65536, "FIONREAD counts the bytes (%d)", n);
    CHECK_ERR(fcntl(p[0], F_SETPIPE_SZ, 4096), EBUSY, "shrinking below the content: EBUSY");
    char out[4096];
    while (read(p[0], out, sizeof(out)) > 0)
        ;
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096 && fcntl(p[0], F_GETPIPE_SZ) == 4096,
          "F_SETPIPE_SZ 4096, seen from both ends");
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 10000) == 16384, "sizes round up to a power of two pages");
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 1) == 4096, "and at least one page");
    CHECK(write(p[1], big, 8192) == 4096, "a large non-blocking write into one page: partial (4096)");
    CHECK_ERR(write(p[1], big, 10), EAGAIN, "then a small write: EAGAIN");
    while (read(p[0], out, sizeof(out)) > 0)
        ;
    fcntl(p[1], F_SETPIPE_SZ, 65536);
    CHECK(write(p[1], big, 65436) == 65436, "fill all but 100 bytes");
    CHECK_ERR(write(p[1], big, 200), EAGAIN, "a 200-byte write (atomic) that does not fit: EAGAIN");
    CHECK(write(p[1], big, 30) == 30, "a 30-byte write fits in the last page");
    while (read(p[0], out, sizeof(out)) > 0)
        ;
    CHECK(write(p[1], big, 65536 - 8192) == 65536 - 8192, "fill 56 KiB");
    w = write(p[1], big, 16384);
    CHECK(w == 8192, "a 16 KiB non-blocking write takes what fits (%zd)", w);
    int fd = open("/tmp", O_RDONLY);
    CHECK_ERR(fcntl(fd, F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ on a directory: EBADF");
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void check_eof_and_epipe(void)
{
    int p[2];
    pipe(p);
    write(p[1], "ab", 2);
    close(p[1]);
    char buf[8];
    CHECK(read(p[0], buf, 8) == 2 && read(p[0], buf, 8) == 0, "data, then EOF when the writer is gone");
    close(p[0]);

    signal(SIGPIPE, SIG_IGN);
    pipe(p);
    close(p[0]);
    CHECK_ERR(write(p[1], "x", 1), EPIPE, "no reader: EPIPE (SIGPIPE ignored)");
    close(p[1]);
}

static volatile sig_atomic_t sig_count;
static void on_signal(int sig)
{
    (void)sig;
    sig_count++;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void check_sigpipe(void)
{
    install(SIGPIPE, 0);
    int p[2];
    pipe(p);
    close(p[0]);
    sig_count = 0;
    CHECK_ERR(write(p[1], "x", 1), EPIPE, "no reader with a handler: EPIPE");
    CHECK(sig_count == 1, "and SIGPIPE ran the handler (%d)", (int)sig_count);
    close(p[1]);
    signal(SIGPIPE, SIG_IGN);
}

struct job {
    int fd;
    long delay_ms;
    size_t len;
    char fill;
    ssize_t result;
    int err;
    pthread_t target;
    volatile int stop;
};

static void *writer_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->delay_ms);
    static char buf[4096];
    memset(buf, j->fill, sizeof(buf));
    j->result = write(j->fd, buf, j->len);
    return NULL;
}

static void check_blocking(void)
{
    int p[2];
    pipe(p);
    struct job j = { .fd = p[1], .delay_ms = 50, .len = 10, .fill = 'z' };
    pthread_t t;
    pthread_create(&t, NULL, writer_later, &j);
    char buf[64];
    ssize_t r = read(p[0], buf, sizeof(buf));
    CHECK(r == 10 && buf[0] == 'z', "a blocked read wakes for another thread's write (%zd)", r);
    pthread_join(t, NULL);

    /* a writer blocked on a full pipe wakes with EPIPE when the reader goes */
    set_nonblock(p[1], 1);
    char fill[4096] = { 0 };
    while (write(p[1], fill, sizeof(fill)) > 0)
        ;
    set_nonblock(p[1], 0);
    struct job w = { .fd = p[1], .delay_ms = 0, .len = 100, .fill = 'w' };
    pthread_create(&t, NULL, writer_later, &w);
    sleep_ms(80);
    close(p[0]);
    pthread_join(t, NULL);
    CHECK(w.result == -1, "a writer blocked on a full pipe fails when the last reader closes");
    close(p[1]);
}

/* Big transfers: checksum a stream bigger than the pipe. */
static void *big_writer(void *arg)
{
    struct job *j = arg;
    static uint8_t buf[100000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0;
    while (sent < j->len) {
        size_t n = MIN(sizeof(buf), j->len - sent);
        if (write_all(j->fd, buf, n) < 0)
            break;
        sent += n;
    }
    j->result = (ssize_t)sent;
    close(j->fd);
    return NULL;
}

static void check_stream(void)
{
    int p[2];
    pipe(p);
    struct job j = { .fd = p[1], .len = 3000000 };
    pthread_t t;
    pthread_create(&t, NULL, big_writer, &j);
    static uint8_t buf[65536];
    size_t got = 0;
    int bad = 0;
    ssize_t r;
    while ((r = read(p[0], buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != (uint8_t)(((got + (size_t)i) % 100000) * 7 + 3))
                bad++;
        got += (size_t)r;
    }
    pthread_join(t, NULL);
    CHECK(got == 3000000 && bad == 0 && j.result == 3000000, "3 MB through a pipe arrive in order (%zu, %d bad)",
          got, bad);
    close(p[0]);
}

static void *atomic_writer(void *arg)
{
    struct job *j = arg;
    static __thread char buf[4096];
    memset(buf, j->fill, sizeof(buf));
    for (int i = 0; i < 64; i++)
        if (write(j->fd, buf, 4096) != 4096)
            j->err++;
    return NULL;
}

static void check_atomicity(void)
{
    int p[2];
    pipe(p);
    struct job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){ .fd = p[1], .fill = (char)('A' + i) };
        pthread_create(&t[i], NULL, atomic_writer, &jobs[i]);
    }
    static char buf[4096];
    int mixed = 0, blocks = 0;
    for (; blocks < 4 * 64; blocks++) {
        if (read_full(p[0], buf, sizeof(buf)) != 4096)
            break;
        for (int k = 1; k < 4096; k++)
            if (buf[k] != buf[0]) {
                mixed++;
                break;
            }
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(blocks == 256 && mixed == 0, "PIPE_BUF writes from 4 threads never interleave (%d blocks, %d mixed)",
          blocks, mixed);
    close(p[0]);
    close(p[1]);
}

static void check_packets(void)
{
    int p[2];
    if (pipe2(p, O_DIRECT) != 0) {
        CHECK(errno == EINVAL, "packet mode not offered: EINVAL");
        return;
    }
    CHECK(fcntl(p[1], F_GETFL) & O_DIRECT, "O_DIRECT on the write end");
    static char data[8192];
    memset(data, 'p', sizeof(data));
    write(p[1], data, 100);
    write(p[1], data, 200);
    write(p[1], data, 300);
    char buf[1000];
    CHECK(read(p[0], buf, sizeof(buf)) == 100, "packet mode: one read, one packet (100)");
    CHECK(read(p[0], buf, sizeof(buf)) == 200, "the next packet (200)");
    CHECK(read(p[0], buf, 50) == 50, "a short read of a 300-byte packet gets 50");
    set_nonblock(p[0], 1);
    CHECK_ERR(read(p[0], buf, sizeof(buf)), EAGAIN, "and the rest of that packet is gone");
    CHECK(write(p[1], data, 6000) == 6000, "a 6000-byte packet write");
    CHECK(read(p[0], buf, sizeof(buf)) == 1000 && read(p[0], buf, sizeof(buf)) == 1000,
          "is split into PIPE_BUF packets");
    close(p[0]);
    close(p[1]);
}

static void *signal_sender(void *arg)
{
    struct job *j = arg;
    while (!j->stop) {
        sleep_ms(30);
        if (!j->stop)
            pthread_kill(j->target, SIGUSR1);
    }
    return NULL;
}

static void *signal_then_write(void *arg)
{
    struct job *j = arg;
    for (int i = 0; i < 3; i++) {
        sleep_ms(40);
        pthread_kill(j->target, SIGUSR1);
    }
    sleep_ms(40);
    j->result = write(j->fd, "late", 4);
    return NULL;
}

static void check_signals(void)
{
    int p[2];
    pipe(p);
    install(SIGUSR1, 0);
    sig_count = 0;
    struct job j = { .target = pthread_self() };
    pthread_t t;
    pthread_create(&t, NULL, signal_sender, &j);
    char buf[8];
    errno = 0;
    ssize_t r = read(p[0], buf, sizeof(buf));
    int err = errno;
    j.stop = 1;
    pthread_join(t, NULL);
    CHECK(r == -1 && err == EINTR && sig_count >= 1, "a handler without SA_RESTART: the blocked read fails EINTR");

    install(SIGUSR1, SA_RESTART);
    sig_count = 0;
    struct job k = { .fd = p[1], .target = pthread_self() };
    pthread_create(&t, NULL, signal_then_write, &k);
    r = read(p[0], buf, sizeof(buf));
    pthread_join(t, NULL);
    CHECK(r == 4 && memcmp(buf, "late", 4) == 0 && sig_count >= 1,
          "with SA_RESTART the read goes on and gets the data (%zd, %d signals)", r, (int)sig_count);
    close(p[0]);
    close(p[1]);
}

static void *fifo_writer(void *arg)
{
    const char *path = arg;
    sleep_ms(50);
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        write(fd, "fifo", 4);
        close(fd);
    }
    return NULL;
}

static void check_fifo(void)
{
    const char *path = "/tmp/fd_pipe.fifo";
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode), "stat shows a FIFO");
    CHECK_ERR(open(path, O_WRONLY | O_NONBLOCK), ENXIO, "non-blocking open for writing without a reader: ENXIO");
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    CHECK(rd >= 0, "non-blocking open for reading succeeds at once");
    char buf[8];
    CHECK(read(rd, buf, sizeof(buf)) == 0, "no writer has come: read says EOF");
    int wr = open(path, O_WRONLY | O_NONBLOCK);
    CHECK(wr >= 0, "with a reader, open for writing works");
    CHECK(write(wr, "abc", 3) == 3 && read(rd, buf, sizeof(buf)) == 3 && memcmp(buf, "abc", 3) == 0,
          "bytes pass through the FIFO");
    close(wr);
    close(rd);

    pthread_t t;
    pthread_create(&t, NULL, fifo_writer, (void *)path);
    rd = open(path, O_RDONLY); /* blocks until the writer opens */
    ssize_t r = read_full(rd, buf, 4);
    pthread_join(t, NULL);
    CHECK(rd >= 0 && r == 4 && memcmp(buf, "fifo", 4) == 0, "a blocking open waits for the writer");
    CHECK(read(rd, buf, sizeof(buf)) == 0, "EOF after the writer closed");
    close(rd);
    int rw = open(path, O_RDWR);
    CHECK(rw >= 0 && write(rw, "x", 1) == 1 && read(rw, buf, 1) == 1, "O_RDWR open never blocks");
    CHECK(fcntl(rw, F_GETPIPE_SZ) == 65536, "a FIFO has a pipe size");
    close(rw);
    unlink(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    check_basics();
    check_capacity();
    check_eof_and_epipe();
    check_sigpipe();
    check_blocking();
    check_stream();
    check_atomicity();
    check_packets();
    check_signals();
    check_fifo();
    return check_exit();
}
