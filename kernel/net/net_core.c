/* The network stack's core: lwIP's raw API runs under one sleeping lock,
 * taken by system calls and by the network thread, which polls drivers
 * when they kick it and runs lwIP's timers. Loopback traffic is delivered
 * by whoever releases the lock, so a local send is handled at once. */
#include "net/net.h"
#include "arch/cpu.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/panic.h"
#include "core/thread.h"
#include "core/waitq.h"
#include "lib/errno.h"

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"

static struct mutex net_mutex = MUTEX_INIT(net_mutex);
static struct mutex net_start_mutex = MUTEX_INIT(net_start_mutex);
static struct waitq net_wq;
static bool net_work;                /* a kick since the thread last looked (atomic) */
static uint64_t net_thread_deadline; /* when the thread next runs lwIP's timers; 0: none */
static bool net_is_started;
static struct net_poller *pollers;

void net_assert_locked(void)
{
    if (!mutex_held_by_me(&net_mutex))
        panic("lwIP called without the network lock");
}

/* Sections under the lock are short and frequent: spin a little before
 * sleeping, since a sleeping waiter costs two context switches and the
 * mutex hands itself to waiters in order. */
#define NET_LOCK_SPINS 200

void net_lock(void)
{
    for (unsigned i = 0; i < NET_LOCK_SPINS; i++) {
        if (mutex_trylock(&net_mutex))
            return;
        cpu_pause();
    }
    mutex_lock(&net_mutex);
}

/* Monotonic time of lwIP's next timeout, 0 when there is none. */
static uint64_t next_timeout_ns(void)
{
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
        return 0;
    return clock_monotonic_ns() + (uint64_t)ms * 1000000;
}

void net_unlock(void)
{
    netif_poll_all(); /* packets sent to ourselves arrive now */
    uint64_t next = next_timeout_ns();
    uint64_t planned = net_thread_deadline;
    mutex_unlock(&net_mutex);
    if (next && (!planned || next < planned))
        net_kick(); /* a new, earlier timer: the thread must re-plan */
}

void net_kick(void)
{
    if (!net_started())
        return; /* nothing to wake yet */
    __atomic_store_n(&net_work, true, __ATOMIC_RELEASE);
    waitq_wake_one(&net_wq);
}

void net_register_poller(struct net_poller *p)
{
    net_lock();
    p->next = pollers;
    pollers = p;
    net_unlock();
}

/* Sleep until kicked or until the planned timer deadline. */
static void net_thread_wait(void)
{
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&net_wq, &e);
        if (__atomic_exchange_n(&net_work, false, __ATOMIC_ACQ_REL))
            break;
        uint64_t dl = READ_ONCE(net_thread_deadline);
        if (dl && clock_monotonic_ns() >= dl)
            break;
        if (waitq_sleep(&e, dl) == -ETIMEDOUT)
            break;
    }
    waitq_finish(&net_wq, &e);
}

static void net_thread(void *arg)
{
    (void)arg;
    for (;;) {
        net_thread_wait();
        net_lock();
        for (struct net_poller *p = pollers; p; p = p->next)
            p->poll(p->arg);
        sys_check_timeouts();
        net_thread_deadline = next_timeout_ns();
        net_unlock();
    }
}

bool net_started(void)
{
    return __atomic_load_n(&net_is_started, __ATOMIC_ACQUIRE);
}

void net_start(void)
{
    if (net_started())
        return;
    mutex_lock(&net_start_mutex);
    if (!net_is_started) {
        waitq_init(&net_wq);
        net_lock();
        lwip_init(); /* also brings up the loopback interface, 127.0.0.1 */
        net_unlock();
        if (!thread_spawn("net", net_thread, NULL, -1))
            pr_err("net: cannot start the network thread; timers will not run\n");
        __atomic_store_n(&net_is_started, true, __ATOMIC_RELEASE);
    }
    mutex_unlock(&net_start_mutex);
}
