/* Advisory locks (fs/lock.h): a list per vnode under one spinlock, and one
 * wait queue for every blocked locker (locks are rarely contended). */
#include "core/waitq.h"
#include "fs/lock.h"
#include "fs/vfs.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

struct vfs_lock {
    struct list_node link;
    void *owner;
    int kind;
    int type;
    uint64_t start, end;
    int pid;
};

static spinlock_t locks_lock = SPINLOCK_INIT;
static struct waitq locks_wq = { SPINLOCK_INIT, LIST_INIT(locks_wq.waiters) };

static bool same_class(int a, int b)
{
    return (a == VFS_LOCK_FLOCK) == (b == VFS_LOCK_FLOCK);
}

static bool conflicts(const struct vfs_lock *l, int kind, void *owner, const struct vfs_lock_req *r)
{
    if (!same_class(l->kind, kind) || l->owner == owner)
        return false;
    if (l->end < r->start || r->end < l->start)
        return false;
    return l->type == F_WRLCK || r->type == F_WRLCK;
}

static struct vfs_lock *find_conflict(struct vnode *v, int kind, void *owner, const struct vfs_lock_req *r)
{
    list_for_each(n, &v->locks) {
        struct vfs_lock *l = list_entry(n, struct vfs_lock, link);
        if (conflicts(l, kind, owner, r))
            return l;
    }
    return NULL;
}

int vfs_lock_test(struct file *f, int kind, void *owner, struct vfs_lock_req *req)
{
    irqflags_t fl = spin_lock(&locks_lock);
    struct vfs_lock *l = find_conflict(f->vnode, kind, owner, req);
    if (l) {
        req->type = l->type;
        req->start = l->start;
        req->end = l->end;
        req->pid = l->kind == VFS_LOCK_POSIX ? l->pid : -1;
    } else {
        req->type = F_UNLCK;
    }
    spin_unlock(&locks_lock, fl);
    return 0;
}

/* Take [start, end] out of owner's locks of this class; *spare provides the
 * node a split needs (consumed when used). */
static void carve(struct vnode *v, int kind, void *owner, uint64_t start, uint64_t end,
                  struct vfs_lock **spare, struct list_node *freed)
{
    list_for_each_safe(n, &v->locks) {
        struct vfs_lock *l = list_entry(n, struct vfs_lock, link);
        if (l->owner != owner || !same_class(l->kind, kind) || l->end < start || end < l->start)
            continue;
        if (l->start < start && l->end > end) { /* split in two */
            struct vfs_lock *tail = *spare;
            *spare = NULL;
            *tail = *l;
            tail->start = end + 1;
            l->end = start - 1;
            list_add_head(&l->link, &tail->link);
        } else if (l->start < start) {
            l->end = start - 1;
        } else if (l->end > end) {
            l->start = end + 1;
        } else {
            list_remove(&l->link);
            list_add_tail(freed, &l->link);
        }
    }
}

static void free_list(struct list_node *freed)
{
    while (!list_empty(freed))
        kfree(list_entry(list_pop_head(freed), struct vfs_lock, link));
}

int vfs_lock_set(struct file *f, int kind, void *owner, const struct vfs_lock_req *req, bool wait)
{
    struct vnode *v = f->vnode;
    struct vfs_lock *node = kmalloc(sizeof(*node)), *spare = kmalloc(sizeof(*spare));
    struct list_node freed = LIST_INIT(freed);
    if (!node || !spare) {
        kfree(node);
        kfree(spare);
        return -ENOLCK;
    }
    struct wait_entry e = { 0 };
    int err = 0;
    for (;;) {
        if (wait)
            waitq_prepare(&locks_wq, &e);
        irqflags_t fl = spin_lock(&locks_lock);
        if (req->type == F_UNLCK || !find_conflict(v, kind, owner, req)) {
            carve(v, kind, owner, req->start, req->end, &spare, &freed);
            if (req->type != F_UNLCK) {
                *node = (struct vfs_lock){ .owner = owner, .kind = kind, .type = req->type,
                                           .start = req->start, .end = req->end, .pid = req->pid };
                list_add_tail(&v->locks, &node->link);
                node = NULL;
                if (kind != VFS_LOCK_POSIX)
                    f->locked = true;
            }
            spin_unlock(&locks_lock, fl);
            break;
        }
        spin_unlock(&locks_lock, fl);
        if (!wait) {
            err = -EAGAIN;
            break;
        }
        if (waitq_sleep_intr(&e, 0) == -EINTR) {
            err = -ERESTARTSYS; /* restarted under SA_RESTART, as on Linux */
            break;
        }
    }
    if (wait)
        waitq_finish(&locks_wq, &e);
    kfree(node);
    kfree(spare);
    free_list(&freed);
    waitq_wake_all(&locks_wq); /* unlocking or downgrading may unblock others */
    return err;
}

static void release_matching(struct vnode *v, void *owner, bool posix)
{
    struct list_node freed = LIST_INIT(freed);
    irqflags_t fl = spin_lock(&locks_lock);
    list_for_each_safe(n, &v->locks) {
        struct vfs_lock *l = list_entry(n, struct vfs_lock, link);
        if (l->owner == owner && (l->kind == VFS_LOCK_POSIX) == posix) {
            list_remove(&l->link);
            list_add_tail(&freed, &l->link);
        }
    }
    spin_unlock(&locks_lock, fl);
    if (!list_empty(&freed)) {
        free_list(&freed);
        waitq_wake_all(&locks_wq);
    }
}

void vfs_lock_release_file(struct file *f)
{
    release_matching(f->vnode, f, false);
}

void vfs_lock_release_posix(struct vnode *v, void *owner)
{
    release_matching(v, owner, true);
}
