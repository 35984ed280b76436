/* Signals: handlers with siginfo, masks and pending sets, the alternate
 * stack, faults turned into signals and recovered with siglongjmp, FPU state
 * kept across a handler, sigsuspend, sigtimedwait, queued values, one-shot
 * and non-deferred handlers, signals between threads.
 * osprey: cpus=2 */
#include "check.h"

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got, got_code, got_pid, depth, max_depth, raised;
static volatile int got_value;
static volatile void *got_addr;
static volatile uintptr_t handler_sp;
static sigjmp_buf recover;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got = sig;
    got_code = si->si_code;
    got_pid = si->si_pid;
    got_value = si->si_value.sival_int;
    char here;
    handler_sp = (uintptr_t)&here;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(recover, 1);
}

static void on_nested(int sig)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    if (!raised++)
        raise(sig); /* with SA_NODEFER this nests at once; without, it runs after */
    depth--;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void check_handlers(void)
{
    install(SIGUSR1, on_info, 0);
    got = 0;
    CHECK(raise(SIGUSR1) == 0 && got == SIGUSR1, "raise runs the handler");
    CHECK(got_code == SI_TKILL, "raise gives si_code SI_TKILL (%d)", (int)got_code);
    got = 0;
    CHECK(kill(getpid(), SIGUSR1) == 0 && got == SIGUSR1 && got_code == SI_USER && got_pid == getpid(),
          "kill to the own process: SI_USER from our pid");
    union sigval v = { .sival_int = 4242 };
    got = 0;
    CHECK(sigqueue(getpid(), SIGUSR1, v) == 0 && got == SIGUSR1 && got_code == SI_QUEUE && got_value == 4242,
          "sigqueue carries its value (%d)", got_value);
    struct sigaction old;
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_sigaction == on_info && (old.sa_flags & SA_SIGINFO),
          "sigaction reads the handler back");
    CHECK_ERR(sigaction(SIGKILL, &old, NULL), EINVAL, "SIGKILL cannot be caught");
    CHECK_ERR(sigaction(65, &old, NULL), EINVAL, "signal 65 does not exist");
    CHECK_ERR(kill(getpid(), 65), EINVAL, "kill with signal 65: EINVAL");
    CHECK(kill(getpid(), 0) == 0, "kill with signal 0 checks the process exists");
}

static void check_masks(void)
{
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    install(SIGUSR2, on_info, 0);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "block SIGUSR2");
    got = 0;
    raise(SIGUSR2);
    CHECK(got == 0, "a blocked signal waits");
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2), "it is pending");
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0 && got == SIGUSR2, "unblocking delivers it at once");
    CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR2), "and it is no longer pending");
    sigfillset(&set);
    sigprocmask(SIG_SETMASK, &set, &old);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(!sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP), "SIGKILL and SIGSTOP cannot be blocked");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK_ERR(syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL, "an unknown 'how': EINVAL");
    CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL, "a wrong sigset size: EINVAL");
    CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8), EFAULT, "a bad mask pointer: EFAULT");
}

static void check_altstack(void)
{
    size_t size = 64 * 1024;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = { .ss_sp = mem, .ss_size = size, .ss_flags = 0 }, old;
    CHECK(sigaltstack(&ss, &old) == 0, "install an alternate signal stack");
    install(SIGUSR1, on_info, SA_ONSTACK);
    handler_sp = 0;
    raise(SIGUSR1);
    CHECK(handler_sp > (uintptr_t)mem && handler_sp < (uintptr_t)mem + size, "an SA_ONSTACK handler runs on it");
    stack_t tiny = { .ss_sp = mem, .ss_size = 100, .ss_flags = 0 };
    CHECK_ERR(sigaltstack(&tiny, NULL), ENOMEM, "a stack below MINSIGSTKSZ: ENOMEM");
    stack_t off = { .ss_flags = SS_DISABLE };
    CHECK(sigaltstack(&off, NULL) == 0 && sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE),
          "disable it again");
    install(SIGUSR1, on_info, 0);
}

static void check_faults(void)
{
    install(SIGSEGV, on_fault, 0);
    volatile int *bad = (volatile int *)0x10;
    got = 0;
    if (!sigsetjmp(recover, 1))
        *bad = 1;
    CHECK(got == SIGSEGV && got_code == SEGV_MAPERR && got_addr == (void *)0x10,
          "a NULL-page write: SIGSEGV/SEGV_MAPERR at the address, recovered with siglongjmp");
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    got = 0;
    if (!sigsetjmp(recover, 1))
        ro[5] = 1;
    CHECK(got == SIGSEGV && got_code == SEGV_ACCERR && got_addr == ro + 5, "a write to read-only memory: SEGV_ACCERR");
    got = 0;
    if (!sigsetjmp(recover, 1))
        *bad = 2;
    CHECK(got == SIGSEGV, "the handler works a second time (the mask was restored by siglongjmp)");
    install(SIGFPE, on_fault, 0);
    volatile int zero = 0, n = 1;
    got = 0;
    if (!sigsetjmp(recover, 1))
        n = n / zero;
    CHECK(got == SIGFPE && got_code == FPE_INTDIV, "division by zero: SIGFPE/FPE_INTDIV");
    install(SIGILL, on_fault, 0);
    got = 0;
    if (!sigsetjmp(recover, 1))
        __asm__ __volatile__("ud2");
    CHECK(got == SIGILL && got_code == ILL_ILLOPN, "ud2: SIGILL/ILL_ILLOPN");
    install(SIGTRAP, on_fault, 0);
    got = 0;
    if (!sigsetjmp(recover, 1))
        __asm__ __volatile__("int3");
    CHECK(got == SIGTRAP, "int3: SIGTRAP");
}

static void fpu_clobber(int sig)
{
    (void)sig;
    volatile double x = 3.0;
    __asm__ __volatile__("xorps %%xmm0, %%xmm0; xorps %%xmm1, %%xmm1" ::: "xmm0", "xmm1");
    x = x * 7.0;
    got = (int)x;
}

static void check_fpu_preserved(void)
{
    signal(SIGUSR2, fpu_clobber);
    got = 0;
    volatile double a = 1.5;
    double b = 0; /* kept in an xmm register across the raise */
    for (int i = 0; i < 1000; i++) {
        b += a;
        if (i == 500)
            raise(SIGUSR2);
    }
    CHECK(got == 21, "the handler computed with the FPU");
    CHECK(b == 1500.0, "floating-point work interrupted by a handler is intact (%g)", b);
}

static void check_nodefer_resethand(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_nested;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    depth = max_depth = raised = 0;
    raise(SIGUSR1);
    CHECK(max_depth == 2, "SA_NODEFER lets the handler be interrupted by its own signal");
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    depth = max_depth = raised = 0;
    raise(SIGUSR1);
    CHECK(max_depth == 1 && raised == 2, "without it the signal waits until the handler returns");
    install(SIGUSR2, on_info, SA_RESETHAND);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    CHECK(now.sa_handler == SIG_DFL, "SA_RESETHAND restores the default after one delivery");
}

static void check_waiting(void)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    union sigval v = { .sival_int = 7 };
    sigqueue(getpid(), SIGUSR1, v);
    siginfo_t si;
    struct timespec ts = { 1, 0 };
    CHECK(sigtimedwait(&set, &si, &ts) == SIGUSR1 && si.si_value.sival_int == 7,
          "sigtimedwait takes a pending blocked signal with its siginfo");
    struct timespec short_ts = { 0, 20000000 };
    CHECK_ERR(sigtimedwait(&set, &si, &short_ts), EAGAIN, "and times out when none comes");
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < 3; i++) {
        v.sival_int = i;
        sigqueue(getpid(), SIGRTMIN + 1, v);
    }
    int order_ok = 1;
    for (int i = 0; i < 3; i++)
        order_ok &= sigtimedwait(&set, &si, &ts) == SIGRTMIN + 1 && si.si_value.sival_int == i;
    CHECK(order_ok, "real-time signals queue every instance, in order");
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static pthread_t main_thread;

static void *poke_main(void *arg)
{
    (void)arg;
    usleep(50000);
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

static void check_between_threads(void)
{
    install(SIGUSR1, on_info, 0);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    main_thread = pthread_self();
    pthread_t t;
    got = 0;
    pthread_create(&t, NULL, poke_main, NULL);
    sigsuspend(&old); /* waits with SIGUSR1 unblocked */
    CHECK(got == SIGUSR1, "sigsuspend returns after another thread's pthread_kill ran the handler");
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "sigsuspend put the old mask back");
    pthread_join(t, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    got = 0;
    pthread_create(&t, NULL, poke_main, NULL);
    struct timespec ts = { 5, 0 };
    int r = nanosleep(&ts, &ts);
    CHECK(r == -1 && errno == EINTR && got == SIGUSR1, "a signal interrupts nanosleep with EINTR");
    pthread_join(t, NULL);
}

/* A pending signal whose action is to ignore it, unblocked by ppoll's or
 * sigsuspend's temporary mask: no handler runs, so the call goes on and the
 * mask comes back. */
static void check_ignored_during_temporary_mask(void)
{
    sigset_t block, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGURG);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGURG); /* default action: ignore; pending while blocked */
    struct timespec ts = { 0, 50000000 };
    errno = 0;
    int r = ppoll(NULL, 0, &ts, &empty);
    CHECK(r == 0, "ppoll whose mask lets an ignored signal through times out normally (%d, errno %d)", r, errno);
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(sigismember(&now, SIGURG), "and restores the mask");
    sigprocmask(SIG_UNBLOCK, &block, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_handlers();
    check_masks();
    check_altstack();
    check_faults();
    check_fpu_preserved();
    check_nodefer_resethand();
    check_waiting();
    check_between_threads();
    check_ignored_during_temporary_mask();
    return check_exit();
}
