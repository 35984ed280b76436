/* Clocks and timers: every clock id, sleeps (relative and absolute), CPU
 * time, alarm, interval timers, POSIX timers with their signal values.
 * osprey: cpus=2 */
#include "check.h"

#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, profs, timer_hits, timer_value, timer_code;

static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_prof(int sig) { (void)sig; profs++; }

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    timer_hits++;
    timer_value = si->si_value.sival_int;
    timer_code = si->si_code;
}

static int64_t ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin_wall_ms(int ms)
{
    int64_t end = ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
    while (ns(CLOCK_MONOTONIC) < end)
        ;
}

/* Burn ms of this thread's CPU time (a busy host may not run us for much of
 * a wall-clock interval), giving up after 50 times as long in wall time so a
 * CPU clock that stands still fails the checks instead of hanging. */
static void spin_ms(int ms)
{
    int64_t end = ns(CLOCK_THREAD_CPUTIME_ID) + (int64_t)ms * 1000000;
    int64_t give_up = ns(CLOCK_MONOTONIC) + (int64_t)ms * 50 * 1000000;
    while (ns(CLOCK_THREAD_CPUTIME_ID) < end && ns(CLOCK_MONOTONIC) < give_up)
        ;
}

static void check_clocks(void)
{
    static const clockid_t ids[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                                     CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME };
    int ok = 1;
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct timespec ts, res;
        ok &= clock_gettime(ids[i], &ts) == 0 && clock_getres(ids[i], &res) == 0 && ts.tv_nsec < 1000000000;
    }
    CHECK(ok, "every clock id reads and has a resolution");
    struct timespec ts;
    CHECK_ERR(syscall(SYS_clock_gettime, 99, &ts), EINVAL, "an unknown clock: EINVAL");
    CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8), EFAULT, "a bad pointer: EFAULT");
    int64_t a = ns(CLOCK_MONOTONIC), b = ns(CLOCK_MONOTONIC);
    CHECK(b >= a, "CLOCK_MONOTONIC never goes back");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t real = ns(CLOCK_REALTIME);
    CHECK(llabs(real / 1000 - ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec)) < 500000,
          "gettimeofday agrees with CLOCK_REALTIME");
    CHECK(time(NULL) > 1600000000, "the wall clock is set (%ld)", (long)time(NULL));
    int64_t cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), th0 = ns(CLOCK_THREAD_CPUTIME_ID);
    spin_wall_ms(50);
    int64_t cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID), th1 = ns(CLOCK_THREAD_CPUTIME_ID);
    /* the host may be busy: the point is that they advance, by a plausible amount */
    CHECK(cpu1 - cpu0 >= 5000000 && th1 - th0 >= 5000000 && th1 - th0 <= 60000000 * 4,
          "CPU-time clocks advance while spinning (%lld ns)",
          (long long)(th1 - th0));
    clockid_t mine;
    CHECK(clock_getcpuclockid(0, &mine) == 0 && clock_gettime(mine, &ts) == 0, "clock_getcpuclockid");
}

static void check_sleeps(void)
{
    int64_t t0 = ns(CLOCK_MONOTONIC);
    struct timespec req = { 0, 30000000 }, rem;
    CHECK(nanosleep(&req, &rem) == 0, "nanosleep");
    int64_t slept = ns(CLOCK_MONOTONIC) - t0;
    CHECK(slept >= 30000000 && slept < 1000000000, "nanosleep(30 ms) slept %lld ms", (long long)slept / 1000000);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 20000000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0, "clock_nanosleep until a time");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec),
          "it woke no earlier than asked");
    struct timespec bad = { 0, 1000000000 };
    CHECK_ERR(nanosleep(&bad, NULL), EINVAL, "tv_nsec out of range: EINVAL");
    CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL, "sleeping on the thread's CPU clock: EINVAL");
}

static void check_alarm_and_itimers(void)
{
    signal(SIGALRM, on_alarm);
    alarms = 0;
    CHECK(alarm(1) == 0, "alarm(1) with none pending returns 0");
    CHECK(alarm(2) == 1, "a second alarm returns the seconds left of the first");
    alarm(0);
    struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, cur;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "a 20 ms interval ITIMER_REAL");
    while (alarms < 3)
        pause();
    CHECK(getitimer(ITIMER_REAL, &cur) == 0 && cur.it_interval.tv_usec == 20000, "getitimer reads the interval");
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    CHECK(alarms >= 3, "it fired repeatedly (%d)", (int)alarms);
    CHECK_ERR(setitimer(9, &off, NULL), EINVAL, "an unknown itimer: EINVAL");
    struct itimerval badv = { { 0, 0 }, { 0, 1000000 } };
    CHECK_ERR(setitimer(ITIMER_REAL, &badv, NULL), EINVAL, "tv_usec out of range: EINVAL");
    signal(SIGPROF, on_prof);
    struct itimerval prof = { { 0, 10000 }, { 0, 10000 } };
    setitimer(ITIMER_PROF, &prof, NULL);
    spin_ms(200);
    setitimer(ITIMER_PROF, &off, NULL);
    CHECK(profs >= 3, "ITIMER_PROF fires while the process uses CPU (%d)", (int)profs);
}

static void check_posix_timers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN;
    ev.sigev_value.sival_int = 77;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0, "timer_create");
    struct itimerspec its = { { 0, 0 }, { 0, 10000000 } };
    timer_hits = 0;
    CHECK(timer_settime(t, 0, &its, NULL) == 0, "arm it once, 10 ms out");
    for (int i = 0; i < 200 && !timer_hits; i++)
        usleep(2000);
    CHECK(timer_hits == 1 && timer_value == 77 && timer_code == SI_TIMER, "it fired with its value and SI_TIMER");
    struct itimerspec cur;
    CHECK(timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
          "a one-shot timer reads as disarmed after firing");
    struct itimerspec periodic = { { 0, 5000000 }, { 0, 5000000 } };
    timer_settime(t, 0, &periodic, NULL);
    while (timer_hits < 5)
        usleep(1000);
    CHECK(timer_getoverrun(t) >= 0, "timer_getoverrun");
    CHECK(timer_delete(t) == 0, "timer_delete");
    int hits = timer_hits;
    usleep(30000);
    CHECK(timer_hits == hits, "a deleted timer stays silent");
    CHECK_ERR(timer_create(99, &ev, &t), EINVAL, "a timer on an unknown clock: EINVAL");
}

static void check_usage(void)
{
    struct tms before, after;
    clock_t c0 = times(&before);
    spin_ms(60);
    clock_t c1 = times(&after);
    CHECK(c1 > c0 && after.tms_utime + after.tms_stime > before.tms_utime + before.tms_stime,
          "times: elapsed and CPU ticks grow");
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + ru.ru_utime.tv_usec +
              ru.ru_stime.tv_usec > 0, "getrusage reports CPU time");
    CHECK_ERR(getrusage(42, &ru), EINVAL, "getrusage with an unknown 'who': EINVAL");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_clocks();
    check_sleeps();
    check_alarm_and_itimers();
    check_posix_timers();
    check_usage();
    return check_exit();
}
