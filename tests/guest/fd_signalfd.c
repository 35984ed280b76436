/* signalfd: reading blocked signals as records (kill, tgkill, sigqueue
 * values, several at once, real-time signals queued twice), flags and
 * errors, changing the set of an existing signalfd, a read blocked until
 * another thread sends, poll and epoll readiness.
 * osprey: cpus=2 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static volatile sig_atomic_t handled;
static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

static void *kill_later(void *arg)
{
    sleep_ms(50);
    kill(getpid(), (int)(intptr_t)arg);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(fd >= 0, "signalfd for SIGUSR1");
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "SFD_NONBLOCK|SFD_CLOEXEC");
    struct signalfd_siginfo si[4];
    CHECK_ERR(read(fd, si, sizeof(si[0])), EAGAIN, "nothing pending: EAGAIN");
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 0) == 0, "poll: not readable");

    raise(SIGUSR1);
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN, "a pending SIGUSR1 makes it readable");
    char small[64];
    CHECK_ERR(read(fd, small, sizeof(small)), EINVAL, "a buffer smaller than one record: EINVAL");
    ssize_t n = read(fd, si, sizeof(si));
    CHECK(n == sizeof(si[0]) && si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL &&
              si[0].ssi_pid == (uint32_t)getpid(),
          "raise: one record, SIGUSR1, SI_TKILL, our pid (%zd, code %d)", n, si[0].ssi_code);
    CHECK(handled == 0, "the handler did not run: the signal was read instead");

    union sigval v = { .sival_int = 31337 };
    sigqueue(getpid(), SIGUSR1, v);
    n = read(fd, si, sizeof(si));
    CHECK(n == sizeof(si[0]) && si[0].ssi_code == SI_QUEUE && si[0].ssi_int == 31337,
          "sigqueue: SI_QUEUE with its value (%d)", si[0].ssi_int);

    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    CHECK(signalfd(fd, &set, 0) == fd, "an existing signalfd takes a new set, same fd");
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    sigqueue(getpid(), SIGRTMIN, v);
    sigqueue(getpid(), SIGRTMIN, v);
    n = read(fd, si, sizeof(si));
    CHECK(n == 4 * (ssize_t)sizeof(si[0]) && si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2 &&
              si[2].ssi_signo == (uint32_t)SIGRTMIN && si[3].ssi_signo == (uint32_t)SIGRTMIN,
          "four pending (a real-time one twice) in one read (%zd bytes)", n);
    CHECK(si[0].ssi_code == SI_USER, "kill: SI_USER");

    sigset_t bad;
    sigemptyset(&bad);
    CHECK_ERR(syscall(SYS_signalfd4, -1, &bad, 4, 0), EINVAL, "a wrong mask size: EINVAL");
    CHECK_ERR(syscall(SYS_signalfd4, -1, &bad, 8, 0x10), EINVAL, "an unknown flag: EINVAL");
    int pp[2];
    pipe(pp);
    CHECK_ERR(signalfd(pp[0], &set, 0), EINVAL, "a pipe is no signalfd: EINVAL");
    CHECK_ERR(signalfd(999, &set, 0), EBADF, "a bad fd: EBADF");
    CHECK_ERR(syscall(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT, "a bad mask pointer: EFAULT");
    close(pp[0]);
    close(pp[1]);

    int bfd = signalfd(-1, &set, 0);
    pthread_t t;
    pthread_create(&t, NULL, kill_later, (void *)(intptr_t)SIGUSR2);
    n = read(bfd, si, sizeof(si));
    pthread_join(t, NULL);
    CHECK(n == sizeof(si[0]) && si[0].ssi_signo == SIGUSR2,
          "a blocked read wakes when another thread sends a signal of its set");

    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 5 };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "epoll: nothing pending");
    pthread_create(&t, NULL, kill_later, (void *)(intptr_t)SIGUSR1);
    int r = epoll_wait(ep, &ev, 1, 5000);
    pthread_join(t, NULL);
    CHECK(r == 1 && ev.data.u64 == 5, "epoll_wait wakes when a signal of the set is sent");
    CHECK(read(fd, si, sizeof(si)) == sizeof(si[0]) && si[0].ssi_signo == SIGUSR1, "and it reads it");
    close(ep);
    close(bfd);
    close(fd);
    CHECK(handled == 0, "no handler ran throughout");
    return check_exit();
}
