/* futex(2): wait, wake, requeue, wake-op and bitsets. Waiters hang in hash
 * buckets by key: the address space and the address (private futexes, and
 * any on a private mapping), or the physical address for shared futexes on
 * MAP_SHARED mappings, which other processes map too. A bucket's mutex orders "check the word, then sleep"
 * against "change the word, then wake", so no wakeup is lost. Reading the
 * word may fault a page in, which is why buckets use mutexes, not spinlocks. */
#include "core/futex.h"
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/waitq.h"
#include "lib/errno.h"
#include "lib/time.h"
#include "mm/vm.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

#define FUTEX_BUCKETS 256
#define FUTEX_SPACE_PHYS 1 /* key.space of a shared mapping's futex: key.addr is physical */

struct futex_key {
    uintptr_t space; /* the vm_space, or FUTEX_SPACE_PHYS */
    uint64_t addr;
};

struct futex_waiter {
    struct list_node link;
    struct futex_key key;
    uint32_t bitset;
    volatile bool woken;
    struct waitq wq;
};

struct futex_bucket {
    struct mutex lock;
    struct list_node waiters;
};

static struct futex_bucket buckets[FUTEX_BUCKETS];
static bool buckets_ready;

static bool key_eq(struct futex_key a, struct futex_key b)
{
    return a.space == b.space && a.addr == b.addr;
}

/* The key of the futex at uaddr; shared: the op lacks FUTEX_PRIVATE_FLAG. */
static int futex_key_of(uint64_t uaddr, bool shared, struct futex_key *k)
{
    if (uaddr & 3)
        return -EINVAL;
    struct proc *p = proc_current();
    struct vm_space *vm = p ? p->vm : NULL;
    k->space = (uintptr_t)vm;
    k->addr = uaddr;
    if (!shared || !vm)
        return 0;
    uint64_t phys;
    int r = vm_shared_page_phys(vm, uaddr, &phys);
    if (r > 0) {
        k->space = FUTEX_SPACE_PHYS;
        k->addr = phys;
    }
    return r < 0 ? r : 0;
}

static struct futex_bucket *bucket_of(struct futex_key key)
{
    if (!__atomic_load_n(&buckets_ready, __ATOMIC_ACQUIRE)) {
        static struct mutex init_lock = MUTEX_INIT(init_lock);
        mutex_lock(&init_lock);
        if (!buckets_ready) {
            for (unsigned i = 0; i < FUTEX_BUCKETS; i++) {
                mutex_init(&buckets[i].lock);
                list_init(&buckets[i].waiters);
            }
            __atomic_store_n(&buckets_ready, true, __ATOMIC_RELEASE);
        }
        mutex_unlock(&init_lock);
    }
    uint64_t h = ((key.addr >> 2) ^ (key.space >> 4)) * 0x9e3779b97f4a7c15ull;
    return &buckets[h >> 56];
}

static void waiter_wake(struct futex_waiter *w)
{
    list_remove(&w->link);
    list_init(&w->link);
    __atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
    waitq_wake_all(&w->wq);
}

static int futex_wait(uint64_t uaddr, bool shared, uint32_t val, uint64_t deadline_ns, uint32_t bitset)
{
    if (!bitset)
        return -EINVAL;
    struct futex_key key;
    int err = futex_key_of(uaddr, shared, &key);
    if (err)
        return err;
    struct futex_bucket *b = bucket_of(key);
    struct futex_waiter w = { .key = key, .bitset = bitset };
    waitq_init(&w.wq);
    mutex_lock(&b->lock);
    uint32_t cur;
    if (get_user_u32(&cur, (const void __user *)uaddr) != 0) {
        mutex_unlock(&b->lock);
        return -EFAULT;
    }
    if (cur != val) {
        mutex_unlock(&b->lock);
        return -EAGAIN;
    }
    list_add_tail(&b->waiters, &w.link);
    mutex_unlock(&b->lock);

    int r = 0;
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&w.wq, &e);
        if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
            break;
        int s = waitq_sleep_intr(&e, deadline_ns);
        if (s) {
            r = s == -ETIMEDOUT ? -ETIMEDOUT : -ERESTARTSYS;
            break;
        }
    }
    waitq_finish(&w.wq, &e);
    if (r) {
        /* gone without a wake: leave the bucket (a wake may have raced in) */
        mutex_lock(&b->lock);
        if (w.woken)
            r = 0;
        else
            list_remove(&w.link);
        mutex_unlock(&b->lock);
    }
    return r;
}

int futex_wake(uint64_t uaddr, bool shared, int n, uint32_t bitset)
{
    if (!bitset)
        return -EINVAL;
    struct futex_key key;
    int e = futex_key_of(uaddr, shared, &key);
    if (e)
        return e;
    struct futex_bucket *b = bucket_of(key);
    int woken = 0;
    mutex_lock(&b->lock);
    struct list_node *pos = b->waiters.next;
    while (pos != &b->waiters && woken < n) {
        struct futex_waiter *w = list_entry(pos, struct futex_waiter, link);
        pos = pos->next;
        if (key_eq(w->key, key) && (w->bitset & bitset)) {
            waiter_wake(w);
            woken++;
        }
    }
    mutex_unlock(&b->lock);
    return woken;
}

static void lock_two(struct futex_bucket *a, struct futex_bucket *b)
{
    if (a == b) {
        mutex_lock(&a->lock);
    } else if (a < b) {
        mutex_lock(&a->lock);
        mutex_lock(&b->lock);
    } else {
        mutex_lock(&b->lock);
        mutex_lock(&a->lock);
    }
}

static void unlock_two(struct futex_bucket *a, struct futex_bucket *b)
{
    mutex_unlock(&a->lock);
    if (a != b)
        mutex_unlock(&b->lock);
}

/* Wake nr_wake waiters on uaddr, then move up to nr_requeue others to uaddr2. */
static long futex_requeue(uint64_t uaddr, uint64_t uaddr2, bool shared, int nr_wake, int nr_requeue, bool cmp,
                          uint32_t cmpval)
{
    if (nr_wake < 0 || nr_requeue < 0)
        return -EINVAL;
    struct futex_key k1, k2;
    int e = futex_key_of(uaddr, shared, &k1);
    if (!e)
        e = futex_key_of(uaddr2, shared, &k2);
    if (e)
        return e;
    struct futex_bucket *b1 = bucket_of(k1), *b2 = bucket_of(k2);
    lock_two(b1, b2);
    if (cmp) {
        uint32_t cur;
        if (get_user_u32(&cur, (const void __user *)uaddr) != 0) {
            unlock_two(b1, b2);
            return -EFAULT;
        }
        if (cur != cmpval) {
            unlock_two(b1, b2);
            return -EAGAIN;
        }
    }
    long done = 0;
    int woken = 0, moved = 0;
    struct list_node *pos = b1->waiters.next;
    while (pos != &b1->waiters) {
        struct futex_waiter *w = list_entry(pos, struct futex_waiter, link);
        pos = pos->next;
        if (!key_eq(w->key, k1))
            continue;
        if (woken < nr_wake) {
            waiter_wake(w);
            woken++;
            done++;
        } else if (moved < nr_requeue) {
            list_remove(&w->link);
            w->key = k2;
            list_add_tail(&b2->waiters, &w->link);
            moved++;
            done++;
        } else {
            break;
        }
    }
    unlock_two(b1, b2);
    return done; /* woken plus requeued, as Linux's CMP_REQUEUE returns */
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg) atomically, wake on uaddr, and
 * if cmp(old, cmparg) also wake on uaddr2. */
static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, bool shared, int nr_wake, int nr_wake2,
                          uint32_t encoded)
{
    struct futex_key k1, k2;
    int ke = futex_key_of(uaddr, shared, &k1);
    if (!ke)
        ke = futex_key_of(uaddr2, shared, &k2);
    if (ke)
        return ke;
    unsigned op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    uint32_t oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
    if (encoded & (8u << 28))
        oparg = oparg < 32 ? 1u << oparg : 0; /* FUTEX_OP_OPARG_SHIFT */
    if ((encoded >> 12) & 0x800 && !(encoded & (8u << 28)))
        oparg |= 0xfffff000u; /* sign-extend the 12-bit argument */
    if (cmparg & 0x800)
        cmparg |= 0xfffff000u;
    struct futex_bucket *b1 = bucket_of(k1), *b2 = bucket_of(k2);
    lock_two(b1, b2);
    uint32_t old, seen;
    int e = get_user_u32(&old, (const void __user *)uaddr2);
    for (; !e; old = seen) {
        uint32_t nv;
        switch (op) {
        case 0: nv = oparg; break;        /* SET */
        case 1: nv = old + oparg; break;  /* ADD */
        case 2: nv = old | oparg; break;  /* OR */
        case 3: nv = old & ~oparg; break; /* ANDN */
        case 4: nv = old ^ oparg; break;  /* XOR */
        default: e = -ENOSYS; nv = 0; break;
        }
        if (e)
            break;
        e = cmpxchg_user_u32((uint32_t __user *)uaddr2, old, nv, &seen);
        if (!e && seen == old)
            break;
    }
    if (e) {
        unlock_two(b1, b2);
        return e;
    }
    bool hit;
    int32_t o = (int32_t)old, c = (int32_t)cmparg;
    switch (cmp) {
    case 0: hit = o == c; break;
    case 1: hit = o != c; break;
    case 2: hit = o < c; break;
    case 3: hit = o <= c; break;
    case 4: hit = o > c; break;
    case 5: hit = o >= c; break;
    default: unlock_two(b1, b2); return -ENOSYS;
    }
    long woken = 0;
    for (int pass = 0; pass < (hit ? 2 : 1); pass++) {
        struct futex_bucket *b = pass ? b2 : b1;
        struct futex_key key = pass ? k2 : k1;
        int limit = pass ? nr_wake2 : nr_wake, n = 0;
        struct list_node *pos = b->waiters.next;
        while (pos != &b->waiters && n < limit) {
            struct futex_waiter *w = list_entry(pos, struct futex_waiter, link);
            pos = pos->next;
            if (key_eq(w->key, key)) {
                waiter_wake(w);
                n++;
            }
        }
        woken += n;
    }
    unlock_two(b1, b2);
    return woken;
}

/* The deadline (monotonic ns, 0 = none) for a timeout argument: relative for
 * FUTEX_WAIT, absolute on the chosen clock for FUTEX_WAIT_BITSET. */
static int futex_deadline(const void __user *uts, bool absolute, bool realtime, uint64_t *deadline)
{
    *deadline = 0;
    if (!uts)
        return 0;
    struct timespec ts;
    if (copy_from_user(&ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -EINVAL;
    uint64_t ns = timespec_to_ns(&ts);
    uint64_t now = clock_monotonic_ns();
    if (!absolute)
        *deadline = now + ns;
    else if (realtime)
        *deadline = now + (ns > clock_realtime_ns() ? ns - clock_realtime_ns() : 0);
    else
        *deadline = ns;
    if (*deadline == 0)
        *deadline = 1; /* already passed, but 0 would mean "no timeout" */
    return 0;
}

long sys_futex(uint32_t __user *uaddr, int op, uint32_t val, const void __user *timeout,
               uint32_t __user *uaddr2, uint32_t val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    bool shared = !(op & FUTEX_PRIVATE_FLAG);
    uint64_t deadline;
    int e;
    if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
        cmd != FUTEX_LOCK_PI2)
        return -ENOSYS;
    switch (cmd) {
    case FUTEX_WAIT:
        val3 = FUTEX_BITSET_ANY;
        /* fall through */
    case FUTEX_WAIT_BITSET:
        e = futex_deadline(timeout, cmd == FUTEX_WAIT_BITSET, realtime, &deadline);
        if (e)
            return e;
        return futex_wait((uint64_t)uaddr, shared, val, deadline, val3);
    case FUTEX_WAKE:
        val3 = FUTEX_BITSET_ANY;
        /* fall through */
    case FUTEX_WAKE_BITSET:
        return futex_wake((uint64_t)uaddr, shared, (int)MIN(val, (uint32_t)INT32_MAX), val3);
    case FUTEX_REQUEUE:
        return futex_requeue((uint64_t)uaddr, (uint64_t)uaddr2, shared, (int)val, (int)(uint64_t)timeout, false, 0);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue((uint64_t)uaddr, (uint64_t)uaddr2, shared, (int)val, (int)(uint64_t)timeout, true,
                             val3);
    case FUTEX_WAKE_OP:
        return futex_wake_op((uint64_t)uaddr, (uint64_t)uaddr2, shared, (int)val, (int)(uint64_t)timeout, val3);
    default:
        return -ENOSYS; /* priority-inheritance futexes: glibc falls back when absent */
    }
}
