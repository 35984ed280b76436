/* poll, ppoll, select and pselect6: readiness of pipes and files, POLLNVAL
 * and EBADF, POLLHUP/POLLERR, timeouts (and their write-back by the raw
 * system calls), wake-ups from other threads, many descriptors, signals
 * (EINTR even with SA_RESTART) and the temporary masks of ppoll/pselect6.
 * osprey: cpus=2 timeout=90 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static short poll1(int fd, short events, int timeout)
{
    struct pollfd p = { fd, events, 0 };
    int r = poll(&p, 1, timeout);
    return r < 0 ? -1 : p.revents;
}

static void check_poll_pipe(void)
{
    int p[2];
    pipe(p);
    CHECK(poll1(p[0], POLLIN, 0) == 0, "an empty pipe is not readable");
    CHECK(poll1(p[1], POLLOUT, 0) == POLLOUT, "its write end is writable");
    CHECK(poll1(p[1], POLLIN, 0) == 0, "a write end never polls readable");
    write(p[1], "x", 1);
    CHECK(poll1(p[0], POLLIN | POLLRDNORM, 0) == (POLLIN | POLLRDNORM), "data: POLLIN|POLLRDNORM");
    CHECK(poll1(p[0], POLLOUT, 0) == 0, "POLLOUT is not reported on a read end");
    close(p[1]);
    CHECK(poll1(p[0], POLLIN, 0) == (POLLIN | POLLHUP), "writer gone with data left: POLLIN|POLLHUP");
    char c;
    read(p[0], &c, 1);
    CHECK(poll1(p[0], 0, 0) == POLLHUP, "POLLHUP is reported even when not asked for");
    close(p[0]);

    pipe(p);
    close(p[0]);
    CHECK(poll1(p[1], POLLOUT, 0) & POLLERR, "reader gone: POLLERR on the write end");
    close(p[1]);
}

static void check_poll_args(void)
{
    int p[2];
    pipe(p);
    write(p[1], "x", 1);
    int closed = dup(p[0]);
    close(closed);
    struct pollfd fds[4] = { { p[0], POLLIN, 0 }, { -1, POLLIN, 0x77 }, { closed, POLLIN, 0 }, { p[1], POLLOUT, 0 } };
    int n = poll(fds, 4, 0);
    CHECK(n == 3, "three of four entries have events (%d)", n);
    CHECK(fds[1].revents == 0, "a negative fd is skipped and its revents cleared");
    CHECK(fds[2].revents == POLLNVAL, "a closed fd: POLLNVAL");
    CHECK(fds[0].revents == POLLIN && fds[3].revents == POLLOUT, "the others as expected");
    CHECK_ERR(syscall(SYS_poll, (void *)8, 1, 0), EFAULT, "a bad array: EFAULT");
    int fd = open("/tmp/fd_poll.file", O_CREAT | O_RDWR, 0600);
    CHECK(poll1(fd, POLLIN | POLLOUT, 0) == (POLLIN | POLLOUT), "a regular file is always ready");
    close(fd);
    unlink("/tmp/fd_poll.file");

    struct rlimit old, low = { 16, 0 };
    getrlimit(RLIMIT_NOFILE, &old);
    low.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_NOFILE, &low);
    struct pollfd many[17];
    for (int i = 0; i < 17; i++)
        many[i] = (struct pollfd){ -1, 0, 0 };
    CHECK_ERR(poll(many, 17, 0), EINVAL, "nfds above RLIMIT_NOFILE: EINVAL");
    CHECK(poll(many, 16, 0) == 0, "nfds at the limit is fine");
    setrlimit(RLIMIT_NOFILE, &old);
    close(p[0]);
    close(p[1]);
}

static void check_poll_timeouts(void)
{
    long t0 = now_ms();
    CHECK(poll(NULL, 0, 60) == 0 && now_ms() - t0 >= 55, "poll with no fds sleeps for the timeout");
    int p[2];
    pipe(p);
    t0 = now_ms();
    CHECK(poll1(p[0], POLLIN, 60) == 0 && now_ms() - t0 >= 55, "a timeout on an idle pipe");
    struct timespec ts = { 0, 200 * 1000000 };
    write(p[1], "x", 1);
    struct pollfd fd = { p[0], POLLIN, 0 };
    CHECK(syscall(SYS_ppoll, &fd, 1, &ts, NULL, 8) == 1, "ppoll finds data");
    ts = (struct timespec){ 0, 60 * 1000000 };
    char c;
    read(p[0], &c, 1);
    CHECK(syscall(SYS_ppoll, &fd, 1, &ts, NULL, 8) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0,
          "the raw ppoll writes back the time left (none after a timeout)");
    ts = (struct timespec){ 0, -1 };
    CHECK_ERR(syscall(SYS_ppoll, &fd, 1, &ts, NULL, 8), EINVAL, "ppoll with a bad timespec: EINVAL");
    close(p[0]);
    close(p[1]);
}

struct job {
    int fd;
    long delay_ms;
    pthread_t target;
    volatile int stop;
};

static void *write_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->delay_ms);
    write(j->fd, "w", 1);
    return NULL;
}

static void check_wakeups(void)
{
    int p[2];
    pipe(p);
    struct job j = { .fd = p[1], .delay_ms = 50 };
    pthread_t t;
    pthread_create(&t, NULL, write_later, &j);
    CHECK(poll1(p[0], POLLIN, 5000) == POLLIN, "a blocked poll wakes for another thread's write");
    pthread_join(t, NULL);
    char c;
    read(p[0], &c, 1);
    pthread_create(&t, NULL, write_later, &j);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval tv = { 5, 0 };
    CHECK(select(p[0] + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &rd), "and so does select");
    pthread_join(t, NULL);
    close(p[0]);
    close(p[1]);

    /* many descriptors, the last one becomes ready */
    enum { N = 150 };
    int ps[N][2];
    struct pollfd fds[N];
    for (int i = 0; i < N; i++) {
        pipe(ps[i]);
        fds[i] = (struct pollfd){ ps[i][0], POLLIN, 0 };
    }
    j.fd = ps[N - 1][1];
    pthread_create(&t, NULL, write_later, &j);
    int n = poll(fds, N, 5000);
    pthread_join(t, NULL);
    CHECK(n == 1 && fds[N - 1].revents == POLLIN, "150 pipes polled, the last one wakes it (%d)", n);
    for (int i = 0; i < N; i++)
        close(ps[i][0]), close(ps[i][1]);
}

static void check_select(void)
{
    int p[2];
    pipe(p);
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    FD_SET(p[0], &ex);
    struct timeval tv = { 0, 0 };
    int n = select(p[1] + 1, &rd, &wr, &ex, &tv);
    CHECK(n == 1 && !FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr) && !FD_ISSET(p[0], &ex),
          "select: only the write end is ready (%d)", n);
    write(p[1], "x", 1);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    CHECK(select(p[1] + 1, &rd, &wr, NULL, &tv) == 2 && FD_ISSET(p[0], &rd), "data: both ends count");
    int closed = dup(p[0]);
    close(closed);
    FD_ZERO(&rd);
    FD_SET(closed, &rd);
    CHECK_ERR(select(closed + 1, &rd, NULL, NULL, &tv), EBADF, "a closed fd in a set: EBADF");
    CHECK_ERR(select(-1, NULL, NULL, NULL, &tv), EINVAL, "negative nfds: EINVAL");
    tv = (struct timeval){ 0, -5 };
    CHECK_ERR(syscall(SYS_select, 0, NULL, NULL, NULL, &tv), EINVAL, "a negative tv_usec: EINVAL");
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv = (struct timeval){ 0, 60000 };
    char c;
    read(p[0], &c, 1);
    long t0 = now_ms();
    n = (int)syscall(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv);
    CHECK(n == 0 && !FD_ISSET(p[0], &rd) && now_ms() - t0 >= 55, "a timeout clears the sets");
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 0, "and the raw select writes back the time left");
    tv = (struct timeval){ 0, 50000 };
    t0 = now_ms();
    CHECK(select(0, NULL, NULL, NULL, &tv) == 0 && now_ms() - t0 >= 45, "select(0, ...) sleeps");
    close(p[0]);
    close(p[1]);
}

static volatile sig_atomic_t sig_count;
static void on_signal(int sig)
{
    (void)sig;
    sig_count++;
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigaction(SIGUSR1, &sa, NULL);
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

static void check_signals(void)
{
    install(SA_RESTART);
    int p[2];
    pipe(p);
    struct job j = { .target = pthread_self() };
    pthread_t t;
    pthread_create(&t, NULL, signal_sender, &j);
    errno = 0;
    short r = poll1(p[0], POLLIN, -1);
    int err = errno;
    j.stop = 1;
    pthread_join(t, NULL);
    CHECK(r == -1 && err == EINTR, "a signal ends poll with EINTR, even with SA_RESTART");

    j.stop = 0;
    pthread_create(&t, NULL, signal_sender, &j);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    errno = 0;
    int n = select(p[0] + 1, &rd, NULL, NULL, NULL);
    err = errno;
    j.stop = 1;
    pthread_join(t, NULL);
    CHECK(n == -1 && err == EINTR, "and select too");

    /* ppoll: a blocked signal that is pending interrupts it when its mask allows it */
    sigset_t block, old, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, &old);
    sig_count = 0;
    raise(SIGUSR1);
    struct pollfd fd = { p[0], POLLIN, 0 };
    struct timespec ts = { 5, 0 };
    errno = 0;
    n = ppoll(&fd, 1, &ts, &empty);
    err = errno;
    CHECK(n == -1 && err == EINTR && sig_count == 1, "ppoll's mask lets the pending signal in: EINTR");
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "and the old mask is back afterwards");

    raise(SIGUSR1);
    sig_count = 0;
    write(p[1], "x", 1);
    n = ppoll(&fd, 1, &ts, &empty);
    sigpending(&now);
    CHECK(n == 1 && sig_count == 0 && sigismember(&now, SIGUSR1),
          "a ready fd wins: the signal stays pending under the restored mask");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(sig_count == 1, "and runs once unblocked");
    CHECK_ERR(syscall(SYS_ppoll, &fd, 1, &ts, &empty, 4), EINVAL, "ppoll with a wrong sigset size: EINVAL");

    char c;
    read(p[0], &c, 1);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    sig_count = 0;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    errno = 0;
    n = pselect(p[0] + 1, &rd, NULL, NULL, &ts, &empty);
    err = errno;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(n == -1 && err == EINTR && sig_count == 1 && sigismember(&now, SIGUSR1),
          "pselect with a mask: EINTR, handler ran, mask restored");
    sigprocmask(SIG_SETMASK, &old, NULL);
    write(p[1], "x", 1);
    FD_SET(p[0], &rd);
    CHECK(pselect(p[0] + 1, &rd, NULL, NULL, &ts, NULL) == 1, "pselect without a mask");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    check_poll_pipe();
    check_poll_args();
    check_poll_timeouts();
    check_wakeups();
    check_select();
    check_signals();
    return check_exit();
}
