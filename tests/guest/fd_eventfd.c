/* eventfd: counting and semaphore modes, flags, the 8-byte rules, the
 * overflow limit, blocking reads and writes woken by other threads, poll
 * readiness, and signals interrupting a blocked read.
 * osprey: cpus=2 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int put(int fd, uint64_t v)
{
    return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int64_t take(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v) ? (int64_t)v : -1;
}

static short revents(int fd)
{
    struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void check_counter(void)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    CHECK(fd >= 0, "eventfd(0, EFD_NONBLOCK)");
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "EFD_NONBLOCK is O_NONBLOCK");
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "the file is O_RDWR");
    uint64_t v;
    CHECK_ERR(read(fd, &v, 8), EAGAIN, "a zero counter: EAGAIN");
    CHECK(revents(fd) == POLLOUT, "poll: writable only");
    CHECK(put(fd, 1) == 0 && put(fd, 2) == 0 && put(fd, 3) == 0, "three writes add up");
    CHECK(revents(fd) == (POLLIN | POLLOUT), "poll: readable and writable");
    CHECK(take(fd) == 6, "one read takes the sum (6)");
    CHECK_ERR(read(fd, &v, 8), EAGAIN, "and resets it to zero");
    CHECK(put(fd, 0) == 0, "writing 0 is allowed");
    CHECK_ERR(read(fd, &v, 8), EAGAIN, "and adds nothing");
    put(fd, 5);
    char big[16];
    CHECK(read(fd, big, sizeof(big)) == 8, "a larger buffer still gets 8 bytes");
    char small[4];
    CHECK_ERR(read(fd, small, sizeof(small)), EINVAL, "a read of fewer than 8 bytes: EINVAL");
    CHECK_ERR(write(fd, small, sizeof(small)), EINVAL, "a write of fewer than 8 bytes: EINVAL");
    v = UINT64_MAX;
    CHECK_ERR(write(fd, &v, 8), EINVAL, "writing 0xffffffffffffffff: EINVAL");
    CHECK(put(fd, UINT64_MAX - 1) == 0, "the counter holds up to 0xfffffffffffffffe");
    CHECK_ERR(put(fd, 1), EAGAIN, "one more would overflow: EAGAIN");
    CHECK(revents(fd) == POLLIN, "poll: readable, not writable");
    CHECK(take(fd) == (int64_t)(UINT64_MAX - 1), "read it back");
    put(fd, 1);
    CHECK_ERR(syscall(SYS_read, fd, (void *)8, 8), EFAULT, "a bad buffer: EFAULT");
    CHECK_ERR(syscall(SYS_write, fd, (void *)8, 8), EFAULT, "a bad source: EFAULT");
    close(fd);

    fd = eventfd(7, 0);
    CHECK(take(fd) == 7, "the initial value is readable");
    close(fd);
}

static void check_semaphore(void)
{
    int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(take(fd) == 1 && take(fd) == 1 && take(fd) == 1, "EFD_SEMAPHORE: each read takes 1");
    uint64_t v;
    CHECK_ERR(read(fd, &v, 8), EAGAIN, "until it is zero");
    put(fd, 2);
    CHECK(take(fd) == 1 && take(fd) == 1, "writes add to it as usual");
    close(fd);
}

static void check_flags(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "EFD_CLOEXEC sets close-on-exec");
    CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "and the file blocks");
    close(fd);
    CHECK_ERR(eventfd(0, 0x10), EINVAL, "an unknown flag: EINVAL");
    fd = (int)syscall(SYS_eventfd, 2);
    CHECK(fd >= 0 && take(fd) == 2, "the old eventfd system call");
    close(fd);
}

struct job {
    int fd;
    long delay_ms;
    uint64_t value;
    int64_t result;
    pthread_t target;
    volatile int stop;
};

static void *add_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->delay_ms);
    j->result = put(j->fd, j->value);
    return NULL;
}

static void *take_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->delay_ms);
    j->result = take(j->fd);
    return NULL;
}

static void check_blocking(void)
{
    int fd = eventfd(0, 0);
    struct job j = { .fd = fd, .delay_ms = 50, .value = 42 };
    pthread_t t;
    pthread_create(&t, NULL, add_later, &j);
    CHECK(take(fd) == 42, "a blocked read wakes for another thread's write");
    pthread_join(t, NULL);

    put(fd, UINT64_MAX - 1);
    struct job k = { .fd = fd, .delay_ms = 50 };
    pthread_create(&t, NULL, take_later, &k);
    CHECK(put(fd, 5) == 0, "a write that would overflow blocks until a read makes room");
    pthread_join(t, NULL);
    CHECK(k.result == (int64_t)(UINT64_MAX - 1) && take(fd) == 5, "the reader got the old value, then 5");
    close(fd);
}

static volatile sig_atomic_t sig_count;
static void on_signal(int sig)
{
    (void)sig;
    sig_count++;
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

static void check_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    int fd = eventfd(0, 0);
    struct job j = { .target = pthread_self() };
    pthread_t t;
    pthread_create(&t, NULL, signal_sender, &j);
    uint64_t v;
    errno = 0;
    ssize_t r = read(fd, &v, 8);
    int err = errno;
    j.stop = 1;
    pthread_join(t, NULL);
    CHECK(r == -1 && err == EINTR && sig_count >= 1, "a signal ends a blocked read with EINTR");
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    check_counter();
    check_semaphore();
    check_flags();
    check_blocking();
    check_signal();
    return check_exit();
}
