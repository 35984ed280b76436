/* poll, ppoll, select and pselect6: each file's poll op gives its readiness
 * and registers the waiter on its poll_heads; the caller sleeps until one
 * reports, the timeout passes, or a signal arrives. */
#include "fs/poll_select.h"
#include "core/proc.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

struct pollfd {
    int32_t fd;
    int16_t events, revents;
};

#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET POLLPRI
#define POLL_STACK_FDS 32

/* ---- poll ---- */

/* One look at every descriptor: how many have events. */
static unsigned poll_pass(struct poll_waiter *pw, struct pollfd *fds, unsigned nfds, bool first)
{
    unsigned count = 0;
    for (unsigned i = 0; i < nfds; i++) {
        struct pollfd *p = &fds[i];
        p->revents = 0;
        if (p->fd < 0)
            continue;
        struct file *f = cur_file(p->fd);
        if (!f) {
            p->revents = POLLNVAL;
            count++;
            continue;
        }
        unsigned key = (uint16_t)p->events | POLLERR | POLLHUP;
        /* once something is ready the call will not sleep: no need to register */
        unsigned mask = poll_waiter_poll(pw, f, key, first && count == 0);
        vfs_file_put(f);
        if (!(mask & POLLNVAL))
            mask &= key;
        p->revents = (int16_t)mask;
        if (mask)
            count++;
    }
    return count;
}

/* The wait loop both poll and ppoll run: the count, or -errno. */
static long do_poll(struct pollfd *fds, unsigned nfds, uint64_t deadline)
{
    struct poll_waiter pw;
    poll_waiter_init(&pw);
    long ret;
    for (bool first = true;; first = false) {
        poll_waiter_rearm(&pw);
        unsigned count = poll_pass(&pw, fds, nfds, first);
        if (count) {
            ret = count;
            break;
        }
        if (pw.error) {
            ret = pw.error;
            break;
        }
        /* Linux looks for signals before the timeout, even a zero one */
        if (poll_signal_pending()) {
            ret = -ERESTARTNOHAND;
            break;
        }
        if (deadline && poll_time_left(deadline) == 0) {
            ret = 0;
            break;
        }
        poll_waiter_sleep(&pw, deadline); /* any outcome: look again */
    }
    poll_waiter_fini(&pw);
    return ret;
}

static long poll_common(struct pollfd __user *ufds, unsigned nfds, uint64_t deadline)
{
    struct proc *p = proc_current();
    if (nfds > p->rlimits[PROC_RLIMIT_NOFILE].cur)
        return -EINVAL;
    struct pollfd stack[POLL_STACK_FDS];
    struct pollfd *fds = nfds <= POLL_STACK_FDS ? stack : kcalloc(nfds, sizeof(*fds));
    if (!fds)
        return -ENOMEM;
    long ret = copy_from_user(fds, ufds, nfds * sizeof(*fds)) ? -EFAULT : 0;
    if (!ret)
        ret = do_poll(fds, nfds, deadline);
    if (ret != -EFAULT && copy_to_user(ufds, fds, nfds * sizeof(*fds))) /* revents even after EINTR, as Linux */
        ret = -EFAULT;
    if (fds != stack)
        kfree(fds);
    return ret;
}

long sys_poll(struct pollfd __user *ufds, unsigned nfds, int timeout)
{
    return poll_common(ufds, nfds, poll_deadline_ms(timeout));
}

/* ppoll and pselect6 write back the time left, as Linux does (the libc
 * wrappers hide it); a zero or absent timeout is left alone. */
static long timeout_writeback(struct timespec __user *uts, uint64_t deadline, long ret)
{
    if (!uts || !deadline)
        return ret;
    struct timespec left = ns_to_timespec(poll_time_left(deadline));
    if (copy_to_user(uts, &left, sizeof(left)) && ret == -ERESTARTNOHAND)
        ret = -EINTR; /* the restart would use a stale timeout */
    return ret;
}

static bool timespec_is_zero(const struct timespec __user *uts)
{
    struct timespec ts;
    return uts && copy_from_user(&ts, uts, sizeof(ts)) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0;
}

long sys_ppoll(struct pollfd __user *ufds, unsigned nfds, struct timespec __user *tsp,
               const uint64_t __user *sigmask, size_t sigsetsize)
{
    uint64_t deadline;
    long ret = poll_deadline_timespec(tsp, &deadline);
    if (ret)
        return ret;
    bool zero = timespec_is_zero(tsp);
    struct poll_sigmask sm;
    ret = poll_sigmask_begin(&sm, sigmask, sigsetsize);
    if (ret)
        return ret;
    ret = poll_common(ufds, nfds, deadline);
    poll_sigmask_end(&sm, ret);
    return zero ? ret : timeout_writeback(tsp, deadline, ret);
}

/* ---- select ---- */

struct fdsets {
    uint64_t *in, *out, *ex;    /* what was asked (NULL: not given) */
    uint64_t *rin, *rout, *rex; /* results */
    uint64_t *mem;
    size_t words;
};

static int fdsets_load(struct fdsets *s, unsigned n, uint64_t __user *uin, uint64_t __user *uout,
                       uint64_t __user *uex)
{
    memset(s, 0, sizeof(*s));
    s->words = DIV_ROUND_UP(n, 64u);
    if (!s->words)
        return 0;
    s->mem = kcalloc(6 * s->words, sizeof(uint64_t));
    if (!s->mem)
        return -ENOMEM;
    uint64_t __user *user[3] = { uin, uout, uex };
    uint64_t **asked[3] = { &s->in, &s->out, &s->ex };
    for (int i = 0; i < 3; i++) {
        if (!user[i])
            continue;
        *asked[i] = s->mem + i * s->words;
        if (copy_from_user(*asked[i], user[i], s->words * sizeof(uint64_t)))
            return -EFAULT;
        if (n % 64) /* bits at and above n do not count */
            (*asked[i])[s->words - 1] &= (1ull << (n % 64)) - 1;
    }
    s->rin = s->mem + 3 * s->words;
    s->rout = s->mem + 4 * s->words;
    s->rex = s->mem + 5 * s->words;
    return 0;
}

static int fdsets_store(struct fdsets *s, uint64_t __user *uin, uint64_t __user *uout, uint64_t __user *uex)
{
    size_t bytes = s->words * sizeof(uint64_t);
    if ((uin && copy_to_user(uin, s->rin, bytes)) || (uout && copy_to_user(uout, s->rout, bytes)) ||
        (uex && copy_to_user(uex, s->rex, bytes)))
        return -EFAULT;
    return 0;
}

static uint64_t word_of(const uint64_t *set, size_t w)
{
    return set ? set[w] : 0;
}

/* One descriptor of select: bits set in the results, or -EBADF. */
static long select_one(struct poll_waiter *pw, struct fdsets *s, unsigned fd, bool reg)
{
    size_t w = fd / 64;
    uint64_t bit = 1ull << (fd % 64);
    bool in = word_of(s->in, w) & bit, out = word_of(s->out, w) & bit, ex = word_of(s->ex, w) & bit;
    struct file *f = cur_file((int)fd);
    if (!f)
        return -EBADF;
    unsigned key = (in ? POLLIN_SET : 0) | (out ? POLLOUT_SET : 0) | (ex ? POLLEX_SET : 0);
    unsigned mask = poll_waiter_poll(pw, f, key, reg);
    vfs_file_put(f);
    if (mask & POLLNVAL)
        return -EBADF; /* an O_PATH descriptor */
    long count = 0;
    if (in && (mask & POLLIN_SET))
        s->rin[w] |= bit, count++;
    if (out && (mask & POLLOUT_SET))
        s->rout[w] |= bit, count++;
    if (ex && (mask & POLLEX_SET))
        s->rex[w] |= bit, count++;
    return count;
}

static long select_pass(struct poll_waiter *pw, struct fdsets *s, bool first)
{
    long count = 0;
    if (s->words)
        memset(s->rin, 0, 3 * s->words * sizeof(uint64_t));
    for (size_t w = 0; w < s->words; w++) {
        uint64_t any = word_of(s->in, w) | word_of(s->out, w) | word_of(s->ex, w);
        while (any) {
            unsigned fd = (unsigned)(w * 64 + (size_t)__builtin_ctzll(any));
            any &= any - 1;
            long r = select_one(pw, s, fd, first && count == 0);
            if (r < 0)
                return r;
            count += r;
        }
    }
    return count;
}

static long do_select(struct fdsets *s, uint64_t deadline)
{
    struct poll_waiter pw;
    poll_waiter_init(&pw);
    long ret;
    for (bool first = true;; first = false) {
        poll_waiter_rearm(&pw);
        ret = select_pass(&pw, s, first);
        if (ret)
            break;
        if (pw.error) {
            ret = pw.error;
            break;
        }
        if (poll_signal_pending()) {
            ret = -ERESTARTNOHAND;
            break;
        }
        if (deadline && poll_time_left(deadline) == 0)
            break;
        poll_waiter_sleep(&pw, deadline);
    }
    poll_waiter_fini(&pw);
    return ret;
}

static long select_common(int nfds, uint64_t __user *uin, uint64_t __user *uout, uint64_t __user *uex,
                          uint64_t deadline)
{
    if (nfds < 0)
        return -EINVAL;
    struct fd_table *t = cur_files();
    unsigned n = MIN((unsigned)nfds, t ? READ_ONCE(t->size) : 0u); /* Linux ignores the rest */
    struct fdsets s;
    long ret = fdsets_load(&s, n, uin, uout, uex);
    if (!ret)
        ret = do_select(&s, deadline); /* no descriptors: a sleep, as select(0, ...) is */
    if (ret >= 0 && s.words && fdsets_store(&s, uin, uout, uex))
        ret = -EFAULT;
    kfree(s.mem);
    return ret;
}

long sys_select(int nfds, uint64_t __user *readfds, uint64_t __user *writefds, uint64_t __user *exceptfds,
                struct timeval __user *utv)
{
    uint64_t deadline = 0;
    bool zero = false;
    if (utv) {
        struct timeval tv;
        if (copy_from_user(&tv, utv, sizeof(tv)))
            return -EFAULT;
        /* Linux carries whole seconds out of tv_usec before checking */
        struct timespec ts = { tv.tv_sec + tv.tv_usec / 1000000, (tv.tv_usec % 1000000) * 1000 };
        if (!timespec_valid(&ts))
            return -EINVAL;
        zero = ts.tv_sec == 0 && ts.tv_nsec == 0;
        deadline = (uint64_t)ts.tv_sec < UINT64_MAX / NSEC_PER_SEC - 1 ? poll_deadline_ns(timespec_to_ns(&ts)) : 0;
    }
    long ret = select_common(nfds, readfds, writefds, exceptfds, deadline);
    if (utv && !zero && deadline) {
        uint64_t left = poll_time_left(deadline);
        struct timeval tv = { (int64_t)(left / NSEC_PER_SEC), (int64_t)(left % NSEC_PER_SEC / 1000) };
        if (copy_to_user(utv, &tv, sizeof(tv)) && ret == -ERESTARTNOHAND)
            ret = -EINTR;
    }
    return ret;
}

/* pselect6's sixth argument: the mask and its size, packed. */
struct pselect_sigarg {
    const uint64_t __user *mask;
    size_t size;
};

long sys_pselect6(int nfds, uint64_t __user *readfds, uint64_t __user *writefds, uint64_t __user *exceptfds,
                  struct timespec __user *uts, void __user *usig)
{
    uint64_t deadline;
    long ret = poll_deadline_timespec(uts, &deadline);
    if (ret)
        return ret;
    bool zero = timespec_is_zero(uts);
    struct pselect_sigarg sig = { NULL, 0 };
    if (usig && copy_from_user(&sig, usig, sizeof(sig)))
        return -EFAULT;
    struct poll_sigmask sm;
    ret = poll_sigmask_begin(&sm, sig.mask, sig.size);
    if (ret)
        return ret;
    ret = select_common(nfds, readfds, writefds, exceptfds, deadline);
    poll_sigmask_end(&sm, ret);
    return zero ? ret : timeout_writeback(uts, deadline, ret);
}
