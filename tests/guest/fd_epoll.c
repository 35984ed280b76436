/* epoll: creation flags, every epoll_ctl error, level- and edge-triggered
 * reporting (with partial reads), EPOLLONESHOT re-arming, EPOLLHUP and
 * EPOLLERR on pipes, registrations that go with the file's last close,
 * epoll inside epoll (and loops refused), maxevents and batches, timeouts,
 * wake-ups from other threads, signals and epoll_pwait's mask.
 * osprey: cpus=2 timeout=90 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* One wait: the number of events, the first one in *ev. */
static int wait1(int ep, struct epoll_event *ev, int timeout)
{
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, 8, timeout);
    if (n > 0 && ev)
        *ev = evs[0];
    return n;
}

static void check_create(void)
{
    int ep = epoll_create(1);
    CHECK(ep >= 0 && !(fcntl(ep, F_GETFD) & FD_CLOEXEC), "epoll_create(1)");
    close(ep);
    CHECK_ERR(syscall(SYS_epoll_create, 0), EINVAL, "epoll_create(0): EINVAL");
    ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
    close(ep);
    CHECK_ERR(epoll_create1(1), EINVAL, "an unknown flag: EINVAL");
}

static void check_ctl_errors(void)
{
    int ep = epoll_create1(0), p[2];
    pipe(p);
    struct epoll_event ev = { .events = EPOLLIN };
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &ev), EBADF, "a bad epoll fd: EBADF");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF, "a bad target fd: EBADF");
    CHECK_ERR(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL, "the first fd is no epoll: EINVAL");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL, "adding an epoll to itself: EINVAL");
    int file = open("/tmp/fd_epoll.file", O_CREAT | O_RDWR, 0600);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev), EPERM, "a regular file: EPERM");
    close(file);
    unlink("/tmp/fd_epoll.file");
    CHECK_ERR(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT, "a bad event pointer: EFAULT");
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "add a pipe");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST, "twice: EEXIST");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT, "modify what is not there: ENOENT");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev), ENOENT, "delete what is not there: ENOENT");
    CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL, "an unknown op: EINVAL");
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "delete with a NULL event");
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "EPOLLEXCLUSIVE is accepted with ADD");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL, "but not with MOD");
    ev.events = EPOLLIN;
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL, "and an exclusive item cannot be modified");
    ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev), EINVAL, "EPOLLEXCLUSIVE with EPOLLONESHOT: EINVAL");

    int a = epoll_create1(0), b = epoll_create1(0);
    CHECK(add(a, b, EPOLLIN, 0) == 0, "an epoll inside another");
    CHECK_ERR(add(b, a, EPOLLIN, 0), ELOOP, "and the other way round: ELOOP");
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    CHECK_ERR(epoll_ctl(b, EPOLL_CTL_ADD, ep, &ev), EINVAL, "EPOLLEXCLUSIVE on an epoll target: EINVAL");
    close(a);
    close(b);

    struct epoll_event out[4];
    CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL, "maxevents 0: EINVAL");
    CHECK_ERR(syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL, "maxevents -1: EINVAL");
    CHECK_ERR(epoll_wait(p[0], out, 4, 0), EINVAL, "epoll_wait on a pipe: EINVAL");
    CHECK_ERR(epoll_wait(-1, out, 4, 0), EBADF, "epoll_wait on a bad fd: EBADF");
    write(p[1], "x", 1);
    CHECK_ERR(syscall(SYS_epoll_wait, ep, (void *)8, 4, 0), EFAULT, "a bad events array: EFAULT");
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void check_level_and_edge(void)
{
    int ep = epoll_create1(0), p[2];
    pipe(p);
    CHECK(add(ep, p[0], EPOLLIN, 0x1234567890abcdefull) == 0, "watch a pipe, level-triggered");
    struct epoll_event ev;
    long t0 = now_ms();
    CHECK(wait1(ep, &ev, 60) == 0 && now_ms() - t0 >= 55, "nothing yet: the 60 ms timeout passes");
    CHECK(wait1(ep, &ev, 0) == 0, "a zero timeout returns at once");
    write(p[1], "0123456789", 10);
    CHECK(wait1(ep, &ev, 0) == 1 && ev.events == EPOLLIN && ev.data.u64 == 0x1234567890abcdefull,
          "data: EPOLLIN with the user data");
    CHECK(wait1(ep, &ev, 0) == 1, "level-triggered: reported again while data is left");
    char buf[16];
    read(p[0], buf, 10);
    CHECK(wait1(ep, &ev, 0) == 0, "drained: no more");

    CHECK(mod(ep, p[0], EPOLLIN | EPOLLET, 7) == 0, "switch to edge-triggered");
    write(p[1], "0123456789", 10);
    CHECK(wait1(ep, &ev, 0) == 1 && ev.data.u64 == 7, "the write is an edge");
    CHECK(read(p[0], buf, 5) == 5 && wait1(ep, &ev, 0) == 0, "a partial read: no new edge, nothing reported");
    write(p[1], "ab", 2);
    CHECK(wait1(ep, &ev, 0) == 1, "new data: a new edge");
    CHECK(wait1(ep, &ev, 0) == 0, "once only");
    while (read(p[0], buf, sizeof(buf)) == sizeof(buf))
        ;
    CHECK(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 9) == 0, "one-shot");
    write(p[1], "x", 1);
    CHECK(wait1(ep, &ev, 0) == 1 && ev.data.u64 == 9, "reported once");
    write(p[1], "y", 1);
    CHECK(wait1(ep, &ev, 0) == 0, "then disabled, even with new data");
    CHECK(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 10) == 0 && wait1(ep, &ev, 0) == 1 && ev.data.u64 == 10,
          "EPOLL_CTL_MOD re-arms it and reports what is ready");
    read(p[0], buf, sizeof(buf));

    CHECK(add(ep, p[1], EPOLLOUT | EPOLLET, 2) == 0, "the write end, edge-triggered");
    struct epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, 0);
    CHECK(n == 1 && evs[0].events == EPOLLOUT && evs[0].data.u64 == 2, "writable once");
    CHECK(epoll_wait(ep, evs, 4, 0) == 0, "and not again without an edge");
    close(p[0]);
    n = epoll_wait(ep, evs, 4, 0);
    CHECK(n == 1 && (evs[0].events & EPOLLERR) && evs[0].data.u64 == 2, "reader gone: EPOLLERR (%#x)",
          n > 0 ? evs[0].events : 0);
    close(p[1]);
    close(ep);
}

static void check_hangup_and_close(void)
{
    int ep = epoll_create1(0), p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN | EPOLLRDHUP, 1);
    struct epoll_event ev;
    close(p[1]);
    CHECK(wait1(ep, &ev, 1000) == 1 && ev.events == EPOLLHUP, "writer closed: EPOLLHUP (%#x)", ev.events);
    close(p[0]);
    CHECK(wait1(ep, &ev, 0) == 0, "closing the watched fd removes it");

    pipe(p);
    add(ep, p[0], EPOLLIN, 2);
    int copy = dup(p[0]);
    close(p[0]);
    write(p[1], "x", 1);
    CHECK(wait1(ep, &ev, 0) == 1 && ev.data.u64 == 2,
          "while a dup keeps the file open, the registration stays (Linux semantics)");
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), EBADF, "but the closed number is gone: EBADF");
    close(copy);
    CHECK(wait1(ep, &ev, 0) == 0, "the last close removes it");
    int q[2];
    pipe(q);
    CHECK(add(ep, q[0], EPOLLIN, 3) == 0, "a new file on a reused number can be added (%d)", q[0]);
    close(q[0]);
    close(q[1]);
    close(p[1]);
    close(ep);
}

static void check_nesting(void)
{
    int inner = epoll_create1(0), outer = epoll_create1(0), p[2];
    pipe(p);
    add(inner, p[0], EPOLLIN, 11);
    add(outer, inner, EPOLLIN, 22);
    struct epoll_event ev;
    CHECK(wait1(outer, &ev, 0) == 0, "an idle inner epoll is not readable");
    struct pollfd pfd = { inner, POLLIN, 0 };
    CHECK(poll(&pfd, 1, 0) == 0, "poll agrees");
    write(p[1], "x", 1);
    CHECK(wait1(outer, &ev, 1000) == 1 && ev.data.u64 == 22 && ev.events == EPOLLIN,
          "data in the pipe makes the inner epoll readable in the outer one");
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "and to poll");
    CHECK(wait1(inner, &ev, 0) == 1 && ev.data.u64 == 11, "the inner one reports the pipe");
    close(outer);
    close(inner);
    close(p[0]);
    close(p[1]);
}

static void check_batches(void)
{
    int ep = epoll_create1(0);
    enum { N = 100 };
    int ps[N][2];
    for (int i = 0; i < N; i++) {
        pipe(ps[i]);
        add(ep, ps[i][0], EPOLLIN, (uint64_t)i);
        write(ps[i][1], "x", 1);
    }
    static struct epoll_event evs[128];
    int n = epoll_wait(ep, evs, 128, 0);
    int seen[N] = { 0 }, dup = 0;
    for (int i = 0; i < n; i++)
        if (evs[i].data.u64 < N && seen[evs[i].data.u64]++)
            dup++;
    CHECK(n == N && dup == 0, "100 ready pipes in one call, each once (%d, %d twice)", n, dup);
    n = epoll_wait(ep, evs, 3, 0);
    CHECK(n == 3, "maxevents 3 limits the answer");
    uint64_t first[3] = { evs[0].data.u64, evs[1].data.u64, evs[2].data.u64 };
    n = epoll_wait(ep, evs, 3, 0);
    CHECK(n == 3 && evs[0].data.u64 != first[0] && evs[0].data.u64 != first[1] && evs[0].data.u64 != first[2],
          "and the next call goes on with other items");
    for (int i = 0; i < N; i++)
        close(ps[i][0]), close(ps[i][1]);
    CHECK(epoll_wait(ep, evs, 128, 0) == 0, "all closed: nothing left");
    close(ep);
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
    uint64_t one = 1;
    write(j->fd, &one, sizeof(one));
    return NULL;
}

static void *close_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->delay_ms);
    close(j->fd);
    return NULL;
}

static void check_blocking(void)
{
    int ep = epoll_create1(0), efd = eventfd(0, EFD_NONBLOCK);
    add(ep, efd, EPOLLIN | EPOLLET, 5);
    struct job j = { .fd = efd, .delay_ms = 50 };
    pthread_t t;
    pthread_create(&t, NULL, write_later, &j);
    struct epoll_event ev;
    CHECK(wait1(ep, &ev, -1) == 1 && ev.data.u64 == 5, "a blocked epoll_wait wakes for an eventfd write");
    pthread_join(t, NULL);
    CHECK(wait1(ep, &ev, 0) == 0, "edge-triggered: not again without a read");
    pthread_create(&t, NULL, write_later, &j);
    CHECK(wait1(ep, &ev, 5000) == 1, "another write is another edge");
    pthread_join(t, NULL);

    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 6);
    struct job c = { .fd = p[1], .delay_ms = 50 };
    pthread_create(&t, NULL, close_later, &c);
    struct epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, 5000);
    pthread_join(t, NULL);
    CHECK(n == 1 && evs[0].data.u64 == 6 && evs[0].events == EPOLLHUP, "another thread closing the writer wakes it");
    close(p[0]);
    close(efd);
    close(ep);
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

static void check_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    int ep = epoll_create1(0);
    struct job j = { .target = pthread_self() };
    pthread_t t;
    pthread_create(&t, NULL, signal_sender, &j);
    errno = 0;
    int n = wait1(ep, NULL, -1);
    int err = errno;
    j.stop = 1;
    pthread_join(t, NULL);
    CHECK(n == -1 && err == EINTR, "a signal ends epoll_wait with EINTR, even with SA_RESTART");

    sigset_t block, old, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, &old);
    sig_count = 0;
    raise(SIGUSR1);
    struct epoll_event evs[2];
    errno = 0;
    n = epoll_pwait(ep, evs, 2, 5000, &empty);
    err = errno;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(n == -1 && err == EINTR && sig_count == 1 && sigismember(&now, SIGUSR1),
          "epoll_pwait's mask lets the pending signal in; the old mask is back after");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK_ERR(syscall(SYS_epoll_pwait, ep, evs, 2, 0, &empty, 4), EINVAL, "a wrong sigset size: EINVAL");

    struct timespec ts = { 0, 50 * 1000000 };
    long t0 = now_ms();
    long r = syscall(441 /* epoll_pwait2 */, ep, evs, 2, &ts, NULL, 8);
    if (r < 0 && errno == ENOSYS) {
        printf("skip epoll_pwait2: the host kernel lacks it\n");
    } else {
        CHECK(r == 0 && now_ms() - t0 >= 45, "epoll_pwait2 with a 50 ms timespec");
        ts.tv_nsec = -1;
        CHECK_ERR(syscall(441, ep, evs, 2, &ts, NULL, 8), EINVAL, "epoll_pwait2 with a bad timespec: EINVAL");
    }
    close(ep);
}

/* Registrations made, deleted and dropped by closes on several threads
 * while another harvests: nothing may be lost, nothing may crash. */
static volatile int stress_stop;
static int stress_ep;

static void *stress_churn(void *arg)
{
    int del = (int)(intptr_t)arg;
    for (int i = 0; i < 300; i++) {
        int p[2];
        if (pipe(p) != 0)
            break;
        add(stress_ep, p[0], EPOLLIN | (i % 2 ? EPOLLET : 0), (uint64_t)p[0]);
        add(stress_ep, p[1], EPOLLOUT | EPOLLONESHOT, (uint64_t)p[1]);
        write(p[1], "s", 1);
        if (del)
            epoll_ctl(stress_ep, EPOLL_CTL_DEL, p[0], NULL);
        close(p[1]);
        close(p[0]);
    }
    return NULL;
}

static void *stress_harvest(void *arg)
{
    long *events = arg;
    struct epoll_event evs[16];
    while (!stress_stop) {
        int n = epoll_wait(stress_ep, evs, 16, 1);
        if (n > 0)
            *events += n;
    }
    return NULL;
}

static void check_stress(void)
{
    stress_ep = epoll_create1(0);
    long events = 0;
    pthread_t h, c[3];
    pthread_create(&h, NULL, stress_harvest, &events);
    for (int i = 0; i < 3; i++)
        pthread_create(&c[i], NULL, stress_churn, (void *)(intptr_t)(i == 0));
    for (int i = 0; i < 3; i++)
        pthread_join(c[i], NULL);
    stress_stop = 1;
    pthread_join(h, NULL);
    struct epoll_event evs[16];
    CHECK(epoll_wait(stress_ep, evs, 16, 0) == 0, "900 pipes added, written, closed on 3 threads while a "
          "fourth waits: no crash, nothing left registered (%ld events seen)", events);
    close(stress_ep);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    check_create();
    check_ctl_errors();
    check_level_and_edge();
    check_hangup_and_close();
    check_nesting();
    check_batches();
    check_blocking();
    check_signals();
    check_stress();
    return check_exit();
}
