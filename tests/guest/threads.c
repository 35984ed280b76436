/* Threads: creation and join across CPUs, mutexes and condition variables
 * under contention, thread-local storage, detached threads, thread ids,
 * futex waits with timeouts, thread names, many short-lived threads.
 * osprey: cpus=4 memory=256M timeout=120 */
#include "check.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> is not in every C library's headers */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE 133
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

#define NTHREADS 8
#define ITERS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static __thread int tls_value = 5;
static atomic_int cpus_seen;
static atomic_int started;

static void *add_under_lock(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(intptr_t)syscall(SYS_gettid);
}

static void check_mutex(void)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, add_under_lock, NULL) == 0, "create thread %d", i);
    int distinct = 1;
    long tids[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        tids[i] = (long)(intptr_t)r;
        for (int j = 0; j < i; j++)
            distinct &= tids[j] != tids[i] && tids[i] != getpid();
    }
    CHECK(counter == (long)NTHREADS * ITERS, "the counter under the mutex is exact (%ld)", counter);
    CHECK(distinct, "every thread had its own id");
}

static void *spin_and_note_cpu(void *arg)
{
    (void)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        atomic_fetch_or(&cpus_seen, 1 << sched_getcpu());
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 100000000L);
    return NULL;
}

/* Busy threads, one per CPU, with nothing to wait for: the scheduler must
 * use more than one CPU for them. */
static void check_spread(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t t[64];
    int n = ncpu > 64 ? 64 : (int)ncpu;
    atomic_store(&cpus_seen, 0);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, spin_and_note_cpu, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    /* on a loaded host Linux may keep them on one CPU for a while: the
     * requirement is Osprey's (its scheduler balances by stealing) */
    struct utsname u;
    bool osprey = uname(&u) == 0 && strstr(u.release, "osprey");
    CHECK(!osprey || ncpu == 1 || __builtin_popcount(atomic_load(&cpus_seen)) > 1,
          "busy threads ran on several CPUs (mask %#x)", atomic_load(&cpus_seen));
}

static int ready;

static void *wait_for_ready(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&started, 1);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void check_condvar(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, wait_for_ready, NULL);
    while (atomic_load(&started) < 4)
        usleep(1000);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(1, "a broadcast wakes every waiter");
    pthread_mutex_lock(&lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 30000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int r = pthread_cond_timedwait(&cond, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    CHECK(r == ETIMEDOUT, "pthread_cond_timedwait times out");
}

static void *tls_thread(void *arg)
{
    (void)arg;
    int first = tls_value;
    tls_value = 99;
    return (void *)(intptr_t)first;
}

static void check_tls(void)
{
    tls_value = 7;
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, tls_thread, NULL);
    pthread_join(t, &r);
    CHECK((intptr_t)r == 5 && tls_value == 7, "each thread has its own thread-local storage");
}

static void *named(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "worker-thread-name-long");
    char name[16];
    prctl(PR_GET_NAME, name);
    return (void *)(intptr_t)(strcmp(name, "worker-thread-n") == 0);
}

static void check_names(void)
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, named, NULL);
    pthread_join(t, &r);
    CHECK((intptr_t)r == 1, "PR_SET_NAME keeps 15 characters and PR_GET_NAME reads them");
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static uint32_t word;

static void *wake_word(void *arg)
{
    (void)arg;
    usleep(20000);
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

static void check_futex(void)
{
    word = 0;
    CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EAGAIN, "FUTEX_WAIT on a changed value: EAGAIN");
    struct timespec ts = { 0, 20000000 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(r == -1 && errno == ETIMEDOUT && ms >= 19, "FUTEX_WAIT times out after its timeout (%ld ms)", ms);
    pthread_t t;
    pthread_create(&t, NULL, wake_word, NULL);
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
        futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    pthread_join(t, NULL);
    CHECK(word == 1, "FUTEX_WAKE wakes a waiter");
    CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0) == 0, "FUTEX_WAKE with no waiters wakes 0");
    CHECK_ERR(futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINVAL,
              "an unaligned futex: EINVAL");
    CHECK_ERR(futex((uint32_t *)8, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT, "a bad futex address: EFAULT");
    struct timespec bad = { 0, 2000000000 };
    CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad, NULL, 0), EINVAL, "a bad timeout: EINVAL");
    uint32_t other = 0;
    CHECK(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &other, 1) == 0, "CMP_REQUEUE with nobody waiting");
    CHECK_ERR(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &other, 5), EAGAIN,
              "CMP_REQUEUE with a stale value: EAGAIN");
    other = 3;
    int op = FUTEX_OP(FUTEX_OP_ADD, 4, FUTEX_OP_CMP_EQ, 3);
    CHECK(futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &other, (uint32_t)op) == 0 && other == 7,
          "FUTEX_WAKE_OP adds to the second word (%u)", other);
}

static void *short_lived(void *arg)
{
    return arg;
}

static void check_many(void)
{
    int ok = 1;
    for (int round = 0; round < 50; round++) {
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            ok &= pthread_create(&t[i], NULL, short_lived, (void *)(intptr_t)i) == 0;
        for (int i = 0; i < 8; i++) {
            void *r;
            ok &= pthread_join(t[i], &r) == 0 && (intptr_t)r == i;
        }
    }
    CHECK(ok, "400 short-lived threads come and go");
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    CHECK(pthread_create(&d, &a, short_lived, NULL) == 0, "a detached thread");
    usleep(10000);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_mutex();
    check_spread();
    check_condvar();
    check_tls();
    check_names();
    check_futex();
    check_many();
    return check_exit();
}
