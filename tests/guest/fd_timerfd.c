/* timerfd: clocks and flags, one-shot and interval timers with expiration
 * counts, relative and absolute times, timerfd_gettime and the old value of
 * timerfd_settime, disarming, the error cases, blocking reads, and epoll.
 * osprey: cpus=2 timeout=90 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
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

static struct itimerspec ms_spec(long value_ms, long interval_ms)
{
    struct itimerspec s = { { interval_ms / 1000, (interval_ms % 1000) * 1000000 },
                            { value_ms / 1000, (value_ms % 1000) * 1000000 } };
    return s;
}

static int64_t ticks(int fd)
{
    uint64_t n;
    return read(fd, &n, sizeof(n)) == sizeof(n) ? (int64_t)n : -1;
}

static void check_create(void)
{
    int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME };
    for (unsigned i = 0; i < 3; i++) {
        int fd = timerfd_create(clocks[i], 0);
        CHECK(fd >= 0, "timerfd_create on clock %d", clocks[i]);
        close(fd);
    }
    CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "a CPU-time clock: EINVAL");
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x10), EINVAL, "an unknown flag: EINVAL");
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "TFD_NONBLOCK|TFD_CLOEXEC");
    uint64_t n;
    CHECK_ERR(read(fd, &n, 8), EAGAIN, "an unarmed timer: EAGAIN");
    struct itimerspec cur;
    CHECK(timerfd_gettime(fd, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 &&
              cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0,
          "an unarmed timer reads all zero");
    char small[4];
    CHECK_ERR(read(fd, small, 4), EINVAL, "a read of fewer than 8 bytes: EINVAL");
    close(fd);
}

static void check_errors(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0), p[2];
    pipe(p);
    struct itimerspec s = ms_spec(10, 0), cur;
    CHECK_ERR(timerfd_settime(fd, 0x10, &s, NULL), EINVAL, "settime with an unknown flag: EINVAL");
    s.it_value.tv_nsec = 1000000000;
    CHECK_ERR(timerfd_settime(fd, 0, &s, NULL), EINVAL, "tv_nsec of a second: EINVAL");
    s = ms_spec(10, 0);
    s.it_interval.tv_sec = -1;
    CHECK_ERR(timerfd_settime(fd, 0, &s, NULL), EINVAL, "a negative interval: EINVAL");
    s = ms_spec(10, 0);
    CHECK_ERR(timerfd_settime(p[0], 0, &s, NULL), EINVAL, "settime on a pipe: EINVAL");
    CHECK_ERR(timerfd_settime(-1, 0, &s, NULL), EBADF, "settime on a bad fd: EBADF");
    CHECK_ERR(syscall(SYS_timerfd_settime, fd, 0, NULL, NULL), EFAULT, "a NULL new value: EFAULT");
    CHECK_ERR(timerfd_gettime(p[0], &cur), EINVAL, "gettime on a pipe: EINVAL");
    CHECK_ERR(syscall(SYS_timerfd_gettime, fd, (void *)8), EFAULT, "gettime to a bad address: EFAULT");
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void check_one_shot(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec s = ms_spec(60, 0), cur, old;
    long t0 = now_ms();
    CHECK(timerfd_settime(fd, 0, &s, NULL) == 0, "arm a 60 ms one-shot");
    CHECK(timerfd_gettime(fd, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
              cur.it_value.tv_nsec <= 60000000,
          "gettime: some of the 60 ms left (%ld ns)", (long)cur.it_value.tv_nsec);
    CHECK(ticks(fd) == 1 && now_ms() - t0 >= 55, "a blocking read returns 1 once it fired");
    CHECK(timerfd_gettime(fd, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
          "and it is disarmed afterwards");

    s = ms_spec(5000, 1000);
    timerfd_settime(fd, 0, &s, NULL);
    s = ms_spec(0, 0);
    CHECK(timerfd_settime(fd, 0, &s, &old) == 0 && old.it_value.tv_sec >= 4 && old.it_interval.tv_sec == 1,
          "settime returns the old setting (%lds left, %lds interval)", (long)old.it_value.tv_sec,
          (long)old.it_interval.tv_sec);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    uint64_t n;
    CHECK_ERR(read(fd, &n, 8), EAGAIN, "a zero value disarms");

    s = ms_spec(10, 0);
    timerfd_settime(fd, 0, &s, NULL);
    sleep_ms(40);
    s = ms_spec(5000, 0);
    timerfd_settime(fd, 0, &s, NULL);
    CHECK_ERR(read(fd, &n, 8), EAGAIN, "setting the timer again drops unread expirations");
    close(fd);
}

static void check_interval(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec s = ms_spec(20, 20), cur;
    timerfd_settime(fd, 0, &s, NULL);
    sleep_ms(110);
    int64_t n = ticks(fd);
    CHECK(n >= 4 && n <= 8, "a 20 ms interval over 110 ms: about 5 expirations (%lld)", (long long)n);
    CHECK(timerfd_gettime(fd, &cur) == 0 && cur.it_interval.tv_nsec == 20000000 && cur.it_value.tv_nsec > 0 &&
              cur.it_value.tv_nsec <= 20000000,
          "gettime: the interval and the time to the next one");
    long t0 = now_ms();
    n = ticks(fd);
    CHECK(n >= 1 && now_ms() - t0 <= 100, "the next read blocks until the next expiration (%lld)", (long long)n);
    s = ms_spec(0, 0);
    timerfd_settime(fd, 0, &s, NULL);
    close(fd);
}

static void check_absolute(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec s = { { 0, 0 }, { now.tv_sec, now.tv_nsec } };
    s.it_value.tv_nsec += 50000000;
    if (s.it_value.tv_nsec >= 1000000000)
        s.it_value.tv_sec++, s.it_value.tv_nsec -= 1000000000;
    long t0 = now_ms();
    CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL) == 0, "an absolute monotonic time 50 ms ahead");
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 5000) == 1 && p.revents == POLLIN && now_ms() - t0 >= 45, "poll wakes when it fires");
    CHECK(ticks(fd) == 1, "one expiration");
    s.it_value = (struct timespec){ 1, 0 }; /* long past */
    s.it_interval = (struct timespec){ 0, 0 };
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL);
    CHECK(poll(&p, 1, 1000) == 1 && ticks(fd) == 1, "an absolute time in the past fires at once");
    close(fd);

    fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    clock_gettime(CLOCK_REALTIME, &now);
    s.it_value = (struct timespec){ now.tv_sec, now.tv_nsec };
    s.it_value.tv_nsec += 30000000;
    if (s.it_value.tv_nsec >= 1000000000)
        s.it_value.tv_sec++, s.it_value.tv_nsec -= 1000000000;
    CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL) == 0,
          "CLOCK_REALTIME, absolute, TFD_TIMER_CANCEL_ON_SET accepted");
    p.fd = fd;
    CHECK(poll(&p, 1, 5000) == 1 && ticks(fd) == 1, "the wall-clock timer fires");
    close(fd);
}

static void check_epoll(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 77 };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    struct itimerspec s = ms_spec(15, 15);
    timerfd_settime(fd, 0, &s, NULL);
    int rounds = 0;
    int64_t total = 0;
    long t0 = now_ms();
    while (rounds < 4 && now_ms() - t0 < 5000) {
        struct epoll_event out;
        if (epoll_wait(ep, &out, 1, 2000) != 1 || out.data.u64 != 77)
            break;
        int64_t n = ticks(fd);
        if (n > 0)
            total += n, rounds++;
    }
    CHECK(rounds == 4 && total >= 4, "an interval timer in edge-triggered epoll: 4 rounds (%lld expirations)",
          (long long)total);
    close(ep);
    close(fd);
}

struct job {
    int fd;
    int64_t result;
};

static void *reader(void *arg)
{
    struct job *j = arg;
    j->result = ticks(j->fd);
    return NULL;
}

static void check_thread(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct job j = { fd, 0 };
    pthread_t t;
    pthread_create(&t, NULL, reader, &j);
    sleep_ms(30);
    struct itimerspec s = ms_spec(30, 0);
    timerfd_settime(fd, 0, &s, NULL);
    pthread_join(t, NULL);
    CHECK(j.result == 1, "a thread blocked reading wakes when a timer armed later fires");
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    check_create();
    check_errors();
    check_one_shot();
    check_interval();
    check_absolute();
    check_epoll();
    check_thread();
    return check_exit();
}
