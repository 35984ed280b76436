/* Pipes (pipe, pipe2) and FIFOs: a ring of page-sized slots between a read
 * end and a write end, with the blocking, atomicity and hang-up rules of
 * pipe(7). Readiness goes through the pipe's poll_head. */
#include "fs/pipe.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "fs/anon_fd.h"
#include "fs/poll.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define PIPE_PAGE 4096u
#define PIPE_MAX_SIZE (1u << 31)       /* what round-up can express (Linux's bound) */

/* One page of data: bytes [off, off + len) are unread. A packet (O_DIRECT
 * write) fills its own slot and is read whole. */
struct pipe_slot {
    uint8_t *page;
    uint32_t off, len;
    bool packet;
};

struct pipe {
    struct mutex lock;             /* everything below */
    struct poll_head poll;         /* readers, writers, FIFO opens wait here */
    struct pipe_slot *slots;
    unsigned nslots;               /* a power of two */
    unsigned head, used;           /* first used slot, slots in use */
    size_t bytes;                  /* unread bytes */
    unsigned tail_room;            /* a small write may still merge into the last slot */
    uint8_t *spare;                /* a freed page kept for the next write */
    unsigned readers, writers;     /* open ends */
    unsigned r_opens, w_opens;     /* ends ever opened: FIFO opens wait for them to move */
    struct vnode *fifo;            /* the FIFO's vnode, or NULL */
    struct list_node fifo_link;
};

/* Per open end: which pipe, and (FIFO readers opened without a writer) the
 * writer count seen, so POLLHUP waits until a writer has come and gone. */
struct pipe_end {
    struct pipe *pipe;
    unsigned w_seen;
};

static const struct file_ops pipe_fops, fifo_fops;
static struct vfs_sb *pipe_sb;
static struct mutex fifo_lock = MUTEX_INIT(fifo_lock);
static struct list_node fifo_pipes = LIST_INIT(fifo_pipes);

static struct pipe *pipe_of(const struct file *f)
{
    return ((struct pipe_end *)f->priv)->pipe;
}

bool pipe_is(const struct file *f)
{
    return f && (f->ops == &pipe_fops || f->ops == &fifo_fops);
}

static struct pipe *pipe_alloc(void)
{
    struct pipe *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->nslots = PIPE_DEF_SIZE / PIPE_PAGE;
    p->slots = kcalloc(p->nslots, sizeof(*p->slots));
    if (!p->slots) {
        kfree(p);
        return NULL;
    }
    mutex_init(&p->lock);
    poll_head_init(&p->poll);
    list_init(&p->fifo_link);
    return p;
}

static void pipe_free(struct pipe *p)
{
    for (unsigned i = 0; i < p->used; i++)
        kfree(p->slots[(p->head + i) & (p->nslots - 1)].page);
    kfree(p->spare);
    kfree(p->slots);
    kfree(p);
}

/* ---- the ring ---- */

static struct pipe_slot *slot_at(struct pipe *p, unsigned i)
{
    return &p->slots[(p->head + i) & (p->nslots - 1)];
}

static void update_tail_room(struct pipe *p)
{
    struct pipe_slot *s = p->used ? slot_at(p, p->used - 1) : NULL;
    p->tail_room = s && !s->packet ? PIPE_PAGE - (s->off + s->len) : 0;
}

/* A fresh slot at the end, or NULL (ring full, or no memory: *err). */
static struct pipe_slot *slot_push(struct pipe *p, bool packet, int *err)
{
    if (p->used == p->nslots)
        return NULL;
    uint8_t *page = p->spare;
    p->spare = NULL;
    if (!page && !(page = kmalloc(PIPE_PAGE))) {
        *err = -ENOMEM;
        return NULL;
    }
    struct pipe_slot *s = slot_at(p, p->used++);
    *s = (struct pipe_slot){ page, 0, 0, packet };
    return s;
}

static void page_recycle(struct pipe *p, struct pipe_slot *s)
{
    if (p->spare)
        kfree(s->page);
    else
        p->spare = s->page;
    s->page = NULL;
}

static void slot_pop(struct pipe *p)
{
    struct pipe_slot *s = slot_at(p, 0);
    p->bytes -= s->len;
    page_recycle(p, s);
    p->head = (p->head + 1) & (p->nslots - 1);
    p->used--;
}

/* Take back a slot slot_push just made (the copy into it faulted at once). */
static void slot_unpush(struct pipe *p)
{
    page_recycle(p, slot_at(p, --p->used));
}

/* Can n bytes go in at once (what PIPE_BUF atomicity needs)? */
static bool pipe_fits(const struct pipe *p, size_t n, bool packet)
{
    if (!packet && n <= READ_ONCE(p->tail_room))
        return true;
    return READ_ONCE(p->used) < READ_ONCE(p->nslots);
}

/* Copy from the writer into the ring, at most max bytes: bytes taken. */
static size_t pipe_fill(struct pipe *p, struct uio *u, size_t max, bool packet, int *err)
{
    size_t done = 0;
    while (done < max && u->resid) {
        struct pipe_slot *s = NULL;
        bool fresh = packet || !p->tail_room;
        if (!fresh)
            s = slot_at(p, p->used - 1);
        else if (!(s = slot_push(p, packet, err)))
            break;
        size_t room = PIPE_PAGE - (s->off + s->len);
        size_t want = MIN(MIN(room, max - done), (size_t)(packet ? PIPE_BUF : PIPE_PAGE));
        size_t got = uio_copy_in(u, s->page + s->off + s->len, want);
        s->len += (uint32_t)got;
        p->bytes += got;
        done += got;
        if (fresh && s->len == 0)
            slot_unpush(p); /* nothing arrived: no empty slot or packet */
        update_tail_room(p);
        if (got < want || packet)
            break; /* a fault, or one packet per round */
    }
    return done;
}

/* Copy from the ring to the reader: bytes moved. */
static size_t pipe_drain(struct pipe *p, struct uio *u)
{
    size_t done = 0;
    while (p->used && u->resid) {
        struct pipe_slot *s = slot_at(p, 0);
        size_t got = uio_copy_out(u, s->page + s->off, MIN((size_t)s->len, u->resid));
        done += got;
        if (s->packet && !u->fault) {
            slot_pop(p); /* a packet is read whole; what did not fit is dropped */
            break;
        }
        s->off += (uint32_t)got;
        s->len -= (uint32_t)got;
        p->bytes -= got;
        if (s->len == 0)
            slot_pop(p);
        if (u->fault)
            break;
    }
    if (p->used == 0)
        p->head = 0;
    update_tail_room(p);
    return done;
}

/* ---- read and write ---- */

static bool pipe_readable(void *arg)
{
    struct pipe *p = arg;
    return READ_ONCE(p->bytes) || !READ_ONCE(p->writers);
}

static ssize_t pipe_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct pipe *p = pipe_of(f);
    ssize_t r;
    mutex_lock(&p->lock);
    for (;;) {
        if (p->bytes) {
            size_t n = pipe_drain(p, u);
            r = uio_result(u, n);
            break;
        }
        if (!p->writers) {
            r = 0; /* end of file */
            break;
        }
        if (f->flags & O_NONBLOCK) {
            r = -EAGAIN;
            break;
        }
        mutex_unlock(&p->lock);
        int err = poll_head_wait(&p->poll, pipe_readable, p, 0);
        mutex_lock(&p->lock);
        if (err) {
            r = err == -EINTR ? -ERESTARTSYS : err;
            break;
        }
    }
    mutex_unlock(&p->lock);
    if (r > 0)
        poll_notify(&p->poll, POLLOUT | POLLWRNORM);
    return r;
}

struct pipe_want {
    struct pipe *pipe;
    size_t n;
    bool packet;
};

static bool pipe_writable(void *arg)
{
    struct pipe_want *w = arg;
    return !READ_ONCE(w->pipe->readers) || pipe_fits(w->pipe, w->n, w->packet);
}

static void pipe_sigpipe(void)
{
    struct proc *proc = proc_current();
    if (proc)
        signal_send(proc, thread_current(), SIGPIPE, NULL);
}

/* One round of a write, lock held: bytes taken, or 0 with *err set when the
 * writer must stop (EPIPE) or wait (EAGAIN). */
static size_t pipe_write_round(struct pipe *p, struct uio *u, bool atomic, bool packet, int *err)
{
    if (!p->readers) {
        pipe_sigpipe();
        *err = -EPIPE;
        return 0;
    }
    size_t need = atomic ? u->resid : 1; /* atomic: all of it goes in together or none */
    if (!pipe_fits(p, need, packet)) {
        *err = -EAGAIN;
        return 0;
    }
    return pipe_fill(p, u, u->resid, packet, err);
}

static ssize_t pipe_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    struct pipe *p = pipe_of(f);
    if (u->resid == 0)
        return 0;
    bool atomic = u->resid <= PIPE_BUF, packet = (f->flags & O_DIRECT) != 0;
    size_t done = 0;
    int err = 0;
    mutex_lock(&p->lock);
    while (u->resid) {
        err = 0;
        size_t n = pipe_write_round(p, u, atomic, packet, &err);
        done += n;
        if (n) {
            poll_notify(&p->poll, POLLIN | POLLRDNORM);
            if (u->fault)
                break;
            continue;
        }
        if (err != -EAGAIN || (f->flags & O_NONBLOCK))
            break;
        mutex_unlock(&p->lock);
        struct pipe_want want = { p, atomic ? u->resid : 1, packet };
        int w = poll_head_wait(&p->poll, pipe_writable, &want, 0);
        mutex_lock(&p->lock);
        if (w) {
            err = w == -EINTR ? -ERESTARTSYS : w;
            break;
        }
    }
    mutex_unlock(&p->lock);
    if (done)
        return (ssize_t)done; /* a partial write reports what went in */
    return u->fault ? -EFAULT : err;
}

/* ---- readiness, control ---- */

static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
    struct pipe_end *e = f->priv;
    struct pipe *p = e->pipe;
    poll_wait(pt, &p->poll);
    unsigned mask = 0;
    if (f->fmode & FMODE_READ) {
        if (READ_ONCE(p->bytes))
            mask |= POLLIN | POLLRDNORM;
        if (!READ_ONCE(p->writers) && e->w_seen != READ_ONCE(p->w_opens))
            mask |= POLLHUP;
    }
    if (f->fmode & FMODE_WRITE) {
        if (READ_ONCE(p->used) < READ_ONCE(p->nslots))
            mask |= POLLOUT | POLLWRNORM;
        if (!READ_ONCE(p->readers))
            mask |= POLLERR;
    }
    return mask;
}

static unsigned round_pow2(unsigned n)
{
    unsigned r = 1;
    while (r < n)
        r <<= 1;
    return r;
}

/* F_SETPIPE_SZ: move the used slots into a ring of the new size. */
static long pipe_resize(struct pipe *p, unsigned long arg)
{
    unsigned size = (unsigned)arg; /* Linux takes the argument as an unsigned int */
    if (size > PIPE_MAX_SIZE)
        return -EINVAL;
    struct proc *proc = proc_current();
    if (size > PIPE_MAX_SIZE_USER && proc && proc->euid != 0)
        return -EPERM; /* root may exceed pipe-max-size, as with CAP_SYS_RESOURCE */
    unsigned nslots = round_pow2(size <= PIPE_PAGE ? 1 : DIV_ROUND_UP(size, PIPE_PAGE));
    struct pipe_slot *slots = kcalloc(nslots, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    mutex_lock(&p->lock);
    if (p->used > nslots) {
        mutex_unlock(&p->lock);
        kfree(slots);
        return -EBUSY;
    }
    for (unsigned i = 0; i < p->used; i++)
        slots[i] = *slot_at(p, i);
    kfree(p->slots);
    p->slots = slots;
    p->nslots = nslots;
    p->head = 0;
    mutex_unlock(&p->lock);
    poll_notify(&p->poll, POLLOUT | POLLWRNORM); /* more room, perhaps */
    return (long)nslots * PIPE_PAGE;
}

long pipe_fcntl(struct file *f, int cmd, unsigned long arg)
{
    if (!pipe_is(f))
        return cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ ? -EBADF : -EINVAL;
    struct pipe *p = pipe_of(f);
    switch (cmd) {
    case F_GETPIPE_SZ:
        return (long)READ_ONCE(p->nslots) * PIPE_PAGE;
    case F_SETPIPE_SZ:
        return pipe_resize(p, arg);
    default:
        return -EINVAL;
    }
}

static int pipe_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    if (cmd != FIONREAD)
        return -ENOTTY;
    size_t n = READ_ONCE(pipe_of(f)->bytes);
    return put_user_u32((void __user *)arg, (uint32_t)n);
}

/* ---- ends coming and going ---- */

/* Drop one end (fmode says which); frees the pipe with its last end. */
static void pipe_end_drop(struct pipe *p, unsigned fmode)
{
    bool fifo = p->fifo != NULL;
    if (fifo)
        mutex_lock(&fifo_lock); /* an open must not find a pipe being freed */
    mutex_lock(&p->lock);
    if (fmode & FMODE_READ)
        p->readers--;
    if (fmode & FMODE_WRITE)
        p->writers--;
    bool last = !p->readers && !p->writers;
    if (last && fifo)
        list_remove(&p->fifo_link);
    mutex_unlock(&p->lock);
    if (fifo)
        mutex_unlock(&fifo_lock);
    if (last) {
        pipe_free(p);
        return;
    }
    unsigned ev = (fmode & FMODE_WRITE ? POLLHUP | POLLIN : 0) | (fmode & FMODE_READ ? POLLERR | POLLOUT : 0);
    poll_notify(&p->poll, ev);
}

static void pipe_release(struct file *f)
{
    struct pipe_end *e = f->priv;
    if (!e)
        return;
    pipe_end_drop(e->pipe, f->fmode & (FMODE_READ | FMODE_WRITE));
    kfree(e);
}

static int pipe_end_file(struct vnode *v, struct pipe *p, unsigned flags, struct file **out)
{
    struct pipe_end *e = kzalloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->pipe = p;
    int err = vfs_file_alloc_anon(v, &pipe_fops, flags, e, out);
    if (err)
        kfree(e);
    return err;
}

int pipe_create_files(unsigned flags, struct file **rd, struct file **wr)
{
    struct vfs_sb *sb = anon_fd_sb(&pipe_sb, "pipe", PIPEFS_MAGIC);
    struct pipe *p = sb ? pipe_alloc() : NULL;
    struct vnode *v = p ? vfs_anon_vnode(sb, S_IFIFO | 0600, &pipe_fops) : NULL;
    if (!v) {
        if (p)
            pipe_free(p);
        return -ENOMEM;
    }
    p->readers = p->writers = p->r_opens = p->w_opens = 1;
    vnode_get(v); /* one reference per file */
    int err = pipe_end_file(v, p, O_RDONLY | (flags & O_NONBLOCK), rd);
    if (err) {
        vnode_put(v);
        vnode_put(v);
        pipe_free(p);
        return err;
    }
    err = pipe_end_file(v, p, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)), wr);
    if (err) {
        vnode_put(v);
        p->writers = 0; /* the read end's release frees the pipe */
        vfs_file_put(*rd);
    }
    return err;
}

static const struct file_ops pipe_fops = {
    .release = pipe_release,
    .read = pipe_read,
    .write = pipe_write,
    .ioctl = pipe_ioctl,
    .poll = pipe_poll,
    .fcntl = pipe_fcntl,
    .flags = FOPS_STREAM,
};

/* ---- the system calls ---- */

long sys_pipe2(int __user *fds, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    if (!user_range_ok(fds, 2 * sizeof(int)))
        return -EFAULT;
    struct file *rd, *wr;
    int err = pipe_create_files((unsigned)flags, &rd, &wr);
    if (err)
        return err;
    int fd0 = anon_fd_install(rd, (unsigned)flags);
    if (fd0 < 0) {
        vfs_file_put(wr);
        return fd0;
    }
    int fd1 = anon_fd_install(wr, (unsigned)flags);
    if (fd1 < 0) {
        fd_close(cur_files(), fd0);
        return fd1;
    }
    int pair[2] = { fd0, fd1 };
    if (copy_to_user(fds, pair, sizeof(pair))) {
        fd_close(cur_files(), fd0);
        fd_close(cur_files(), fd1);
        return -EFAULT;
    }
    return 0;
}

long sys_pipe(int __user *fds)
{
    return sys_pipe2(fds, 0);
}

/* ---- FIFOs: named pipes opened through the file system ---- */

/* The pipe of a FIFO vnode (found or made), fifo_lock held. */
static struct pipe *fifo_pipe(struct vnode *v)
{
    list_for_each(n, &fifo_pipes) {
        struct pipe *p = list_entry(n, struct pipe, fifo_link);
        if (p->fifo == v)
            return p;
    }
    struct pipe *p = pipe_alloc();
    if (p) {
        p->fifo = v; /* open files of the FIFO keep the vnode alive */
        list_add_tail(&fifo_pipes, &p->fifo_link);
    }
    return p;
}

struct fifo_wait {
    struct pipe *pipe;
    const unsigned *counter;
    unsigned seen;
};

static bool fifo_partner_came(void *arg)
{
    struct fifo_wait *w = arg;
    return READ_ONCE(*w->counter) != w->seen;
}

/* Block until the other end has been opened (counter moves): 0 or -errno. */
static int fifo_wait_partner(struct pipe *p, const unsigned *counter, unsigned seen)
{
    struct fifo_wait w = { p, counter, seen };
    int err = poll_head_wait(&p->poll, fifo_partner_came, &w, 0);
    return err == -EINTR ? -ERESTARTSYS : err;
}

/* Count a new end of p (both locks held): 0, or -ENXIO for a non-blocking
 * writer without a reader. counter and seen say what to wait for, if anything. */
static int fifo_attach(struct pipe *p, struct pipe_end *e, unsigned fmode, bool nonblock,
                       const unsigned **counter, unsigned *seen)
{
    *counter = NULL;
    if (fmode == FMODE_WRITE && nonblock && !p->readers)
        return -ENXIO; /* no reader to write to */
    if (fmode & FMODE_READ)
        p->readers++, p->r_opens++;
    if (fmode & FMODE_WRITE)
        p->writers++, p->w_opens++;
    /* a reader that found no writer sees no hang-up until one came and went */
    e->w_seen = (fmode == FMODE_READ && !p->writers) ? p->w_opens : 0;
    if (fmode == FMODE_READ && !nonblock && !p->writers)
        *counter = &p->w_opens, *seen = p->w_opens;
    else if (fmode == FMODE_WRITE && !p->readers)
        *counter = &p->r_opens, *seen = p->r_opens;
    return 0;
}

static int fifo_open(struct vnode *v, struct file *f)
{
    struct pipe_end *e = kzalloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    unsigned fmode = f->fmode & (FMODE_READ | FMODE_WRITE);
    const unsigned *counter;
    unsigned seen = 0;
    mutex_lock(&fifo_lock);
    struct pipe *p = fifo_pipe(v);
    int err = p ? 0 : -ENOMEM;
    if (p) {
        mutex_lock(&p->lock);
        err = fifo_attach(p, e, fmode, (f->flags & O_NONBLOCK) != 0, &counter, &seen);
        bool unused = !p->readers && !p->writers;
        if (unused)
            list_remove(&p->fifo_link);
        mutex_unlock(&p->lock);
        if (unused)
            pipe_free(p), p = NULL; /* refused before anyone else came */
    }
    mutex_unlock(&fifo_lock);
    if (!err) {
        poll_notify(&p->poll, POLLIN | POLLOUT); /* partners waiting in open */
        if (counter && (err = fifo_wait_partner(p, counter, seen)) != 0)
            pipe_end_drop(p, fmode);
    }
    if (err) {
        kfree(e);
        return err;
    }
    e->pipe = p;
    f->priv = e;
    return 0;
}

static const struct file_ops fifo_fops = {
    .open = fifo_open,
    .release = pipe_release,
    .read = pipe_read,
    .write = pipe_write,
    .ioctl = pipe_ioctl,
    .poll = pipe_poll,
    .fcntl = pipe_fcntl,
    .flags = FOPS_STREAM,
};

void pipe_init(void)
{
    vfs_fifo_fops = &fifo_fops;
}
