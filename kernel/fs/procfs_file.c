/* Open procfs/sysfs files: the text is generated into a buffer per open file
 * description (as seq_file does), regenerated whenever a read starts at
 * offset 0 so that lseek(0) + read shows fresh figures; partial reads and
 * seeks work on the snapshot. Writes hand one buffer to the entry's store. */
#include "core/mutex.h"
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define PROCFS_FIRST_SIZE 2048
#define PROCFS_MAX_SIZE (4ul << 20)  /* the largest text one file may have */
#define PROCFS_WRITE_MAX 4096        /* Linux takes at most a page per sysctl write */

/* ---- the text buffer ---- */

void procfs_printf(struct procfs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t at = MIN(b->len, b->size);
    int n = vsnprintf(b->data + at, b->size - at, fmt, ap);
    va_end(ap);
    b->len += (size_t)(n > 0 ? n : 0);
}

void procfs_putbytes(struct procfs_buf *b, const void *p, size_t n)
{
    if (b->len < b->size)
        memcpy(b->data + b->len, p, MIN(n, b->size - b->len));
    b->len += n;
}

void procfs_puts(struct procfs_buf *b, const char *s)
{
    procfs_putbytes(b, s, strlen(s));
}

char *procfs_room(struct procfs_buf *b, size_t *avail)
{
    if (b->len >= b->size) {
        /* already too long: give a scratch byte so the formatter only counts */
        static char scratch[1];
        *avail = 1;
        return scratch;
    }
    *avail = b->size - b->len;
    return b->data + b->len;
}

void procfs_advance(struct procfs_buf *b, size_t n)
{
    b->len += n;
}

/* ---- open files ---- */

struct procfs_open {
    struct mutex lock;
    char *data;
    size_t len, cap;
    bool filled;
};

/* The entry's generator, given the node's process when it wants one. */
static int procfs_call_show(const struct procfs_node *n, struct procfs_buf *b)
{
    const struct procfs_entry *e = n->ent;
    if (e->show)
        return e->show(n, b);
    struct proc *p = procfs_proc_get(n->pid);
    int err = p && procfs_node_alive(n) ? e->show_proc(n, p, b) : -ESRCH;
    procfs_proc_put(p);
    return err;
}

static int procfs_call_store(const struct procfs_node *n, const char *data, size_t len)
{
    const struct procfs_entry *e = n->ent;
    if (e->store)
        return procfs_node_alive(n) ? e->store(n, data, len) : -ESRCH;
    struct proc *p = procfs_proc_get(n->pid);
    int err = p && procfs_node_alive(n) ? e->store_proc(n, p, data, len) : -ESRCH;
    procfs_proc_put(p);
    return err;
}

static bool procfs_writable(const struct procfs_entry *e)
{
    return e->store || e->store_proc;
}

/* Run the generator until its text fits. Caller holds o->lock. */
static int procfs_fill(const struct procfs_node *n, struct procfs_open *o)
{
    size_t size = MAX(o->cap, (size_t)PROCFS_FIRST_SIZE);
    for (;;) {
        char *buf = kmalloc(size);
        if (!buf)
            return -ENOMEM;
        struct procfs_buf b = { buf, size, 0 };
        int err = procfs_call_show(n, &b);
        if (err) {
            kfree(buf);
            return err;
        }
        if (b.len < size) {
            kfree(o->data);
            o->data = buf;
            o->len = b.len;
            o->cap = size;
            o->filled = true;
            return 0;
        }
        kfree(buf);
        size = ALIGN_UP(b.len + 1, (size_t)4096);
        if (size > PROCFS_MAX_SIZE)
            return -ENOMEM;
    }
}

static int procfs_open(struct vnode *v, struct file *f)
{
    struct procfs_node *n = procfs_node_of(v);
    if (!procfs_node_alive(n))
        return -ENOENT;
    if ((f->fmode & FMODE_WRITE) && !procfs_writable(n->ent) && (n->ent->flags & PROCFS_WRITE_EACCES))
        return -EACCES;
    struct procfs_open *o = kzalloc(sizeof(*o));
    if (!o)
        return -ENOMEM;
    mutex_init(&o->lock);
    f->priv = o;
    return 0;
}

static void procfs_release(struct file *f)
{
    struct procfs_open *o = f->priv;
    kfree(o->data);
    kfree(o);
}

static ssize_t procfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
    struct procfs_node *n = procfs_node_of(f->vnode);
    struct procfs_open *o = f->priv;
    if (!n->ent->show && !n->ent->show_proc)
        return -EINVAL;
    mutex_lock(&o->lock);
    int err = 0;
    if (!o->filled || *pos == 0)
        err = procfs_node_alive(n) ? procfs_fill(n, o) : -ESRCH;
    size_t done = 0;
    if (!err && *pos < o->len) {
        done = uio_copy_out(u, o->data + *pos, o->len - (size_t)*pos);
        *pos += done;
    }
    mutex_unlock(&o->lock);
    return err ? err : uio_result(u, done);
}

static ssize_t procfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
    struct procfs_node *n = procfs_node_of(f->vnode);
    struct procfs_open *o = f->priv;
    if (!procfs_writable(n->ent))
        return n->pid ? -EINVAL : -EIO; /* what Linux answers for these files */
    size_t want = MIN(u->resid, (size_t)PROCFS_WRITE_MAX - 1);
    char *buf = kmalloc(PROCFS_WRITE_MAX);
    if (!buf)
        return -ENOMEM;
    size_t len = uio_copy_in(u, buf, want);
    if (len == 0 && u->fault) {
        kfree(buf);
        return -EFAULT;
    }
    buf[len] = '\0';
    int err = procfs_call_store(n, buf, len);
    kfree(buf);
    if (err)
        return err;
    size_t rest = uio_skip(u, u->resid); /* the whole write counts as taken */
    mutex_lock(&o->lock);
    o->filled = false;
    mutex_unlock(&o->lock);
    *pos += len + rest;
    return (ssize_t)(len + rest);
}

const struct file_ops procfs_file_ops = {
    .open = procfs_open,
    .release = procfs_release,
    .read = procfs_read,
    .write = procfs_write,
};

/* ---- helpers for entries ---- */

int procfs_parse_int(const char *s, long *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    if (*s)
        return -EINVAL;
    *out = neg ? -v : v;
    return 0;
}

void procfs_cpu_list(struct procfs_buf *b, uint64_t mask)
{
    bool first = true;
    for (unsigned i = 0; i < 64; i++) {
        if (!(mask & (1ull << i)))
            continue;
        unsigned j = i;
        while (j + 1 < 64 && (mask & (1ull << (j + 1))))
            j++;
        procfs_printf(b, "%s%u", first ? "" : ",", i);
        if (j > i)
            procfs_printf(b, "-%u", j);
        first = false;
        i = j;
    }
}

/* A bitmap as Linux's %*pb prints it: hex in 32-bit groups separated by
 * commas, the first group only as wide as nbits needs. */
void procfs_bitmap(struct procfs_buf *b, uint64_t mask, unsigned nbits)
{
    unsigned groups = DIV_ROUND_UP(nbits, 32u);
    for (unsigned g = groups; g-- > 0;) {
        unsigned bits = g == groups - 1 ? nbits - g * 32 : 32;
        uint32_t word = g < 2 ? (uint32_t)(mask >> (g * 32)) : 0;
        if (bits < 32)
            word &= (1u << bits) - 1;
        procfs_printf(b, "%0*x%s", (int)DIV_ROUND_UP(bits, 4u), word, g ? "," : "");
    }
}
