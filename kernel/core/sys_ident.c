/* Identity system calls: process and thread ids, users and groups (the
 * application runs as root; changes are recorded so it reads back what it
 * set), sessions, capabilities, personality. */
#include "arch/uaccess.h"
#include "core/proc.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"

long sys_getpid(void) { return proc_current()->pid; }
long sys_getuid(void) { return proc_current()->uid; }
long sys_geteuid(void) { return proc_current()->euid; }
long sys_getgid(void) { return proc_current()->gid; }
long sys_getegid(void) { return proc_current()->egid; }

long sys_getppid(void)
{
    irqflags_t f = proc_table_lock();
    struct proc *parent = proc_current()->parent;
    int ppid = parent ? parent->pid : 0; /* pid 1 was started by the kernel, as Linux's first process */
    proc_table_unlock(f);
    return ppid;
}

/* A process by pid for the session and group calls (0: the caller). */
static struct proc *lookup(int pid)
{
    struct proc *self = proc_current();
    if (pid == 0 || pid == self->pid) {
        proc_get(self);
        return self;
    }
    return pid > 0 ? proc_find(pid) : NULL;
}

long sys_getpgid(int pid)
{
    struct proc *p = lookup(pid);
    if (!p)
        return -ESRCH;
    int pgid = READ_ONCE(p->pgid);
    proc_put(p);
    return pgid;
}

long sys_getpgrp(void) { return sys_getpgid(0); }

long sys_getsid(int pid)
{
    struct proc *p = lookup(pid);
    if (!p)
        return -ESRCH;
    int sid = READ_ONCE(p->sid);
    proc_put(p);
    return sid;
}

/* Whether a process group exists in the session (setpgid may join one). */
struct group_probe { int pgid, sid; bool found; };

static bool probe_group(struct proc *p, void *ctx)
{
    struct group_probe *g = ctx;
    if (p->pgid == g->pgid && p->sid == g->sid && p->state == PROC_LIVE)
        g->found = true;
    return !g->found;
}

long sys_setpgid(int pid, int pgid)
{
    struct proc *self = proc_current();
    if (pgid < 0)
        return -EINVAL;
    struct proc *p = lookup(pid);
    if (!p)
        return -ESRCH;
    long e = 0;
    if (p != self && p->parent != self)
        e = -ESRCH; /* only the caller and its children */
    else if (p->pid == p->sid)
        e = -EPERM; /* a session leader stays in its group */
    else if (p->sid != self->sid)
        e = -EPERM;
    if (!e && pgid && pgid != p->pid) {
        struct group_probe g = { pgid, self->sid, false };
        proc_for_each(probe_group, &g);
        if (!g.found)
            e = -EPERM;
    }
    if (!e) {
        irqflags_t f = proc_table_lock();
        p->pgid = pgid ? pgid : p->pid;
        proc_table_unlock(f);
    }
    proc_put(p);
    return e;
}

long sys_setsid(void)
{
    struct proc *self = proc_current();
    struct group_probe g = { self->pid, self->sid, false };
    proc_for_each(probe_group, &g);
    if (self->pgid == self->pid || g.found)
        return -EPERM; /* already a group leader, or its id names a group */
    irqflags_t f = proc_table_lock();
    self->sid = self->pgid = self->pid;
    proc_table_unlock(f);
    return self->pid;
}

/* -1 leaves an id unchanged, as in setresuid(2); root may set anything. */
static void set_ids(uint32_t *r, uint32_t *e, uint32_t *s, int nr, int ne, int ns)
{
    struct proc *p = proc_current();
    irqflags_t f = spin_lock(&p->lock);
    if (nr != -1)
        *r = (uint32_t)nr;
    if (ne != -1)
        *e = (uint32_t)ne;
    if (ns != -1)
        *s = (uint32_t)ns;
    spin_unlock(&p->lock, f);
}

long sys_setuid(int uid)
{
    struct proc *p = proc_current();
    if (uid < 0)
        return -EINVAL;
    set_ids(&p->uid, &p->euid, &p->suid, uid, uid, uid);
    return 0;
}

long sys_setgid(int gid)
{
    struct proc *p = proc_current();
    if (gid < 0)
        return -EINVAL;
    set_ids(&p->gid, &p->egid, &p->sgid, gid, gid, gid);
    return 0;
}

long sys_setreuid(int r, int e)
{
    struct proc *p = proc_current();
    set_ids(&p->uid, &p->euid, &p->suid, r, e, -1);
    return 0;
}

long sys_setregid(int r, int e)
{
    struct proc *p = proc_current();
    set_ids(&p->gid, &p->egid, &p->sgid, r, e, -1);
    return 0;
}

long sys_setresuid(int r, int e, int s)
{
    struct proc *p = proc_current();
    set_ids(&p->uid, &p->euid, &p->suid, r, e, s);
    return 0;
}

long sys_setresgid(int r, int e, int s)
{
    struct proc *p = proc_current();
    set_ids(&p->gid, &p->egid, &p->sgid, r, e, s);
    return 0;
}

static long get_three(uint32_t __user *a, uint32_t __user *b, uint32_t __user *c, uint32_t x, uint32_t y,
                      uint32_t z)
{
    if (put_user_u32(a, x) || put_user_u32(b, y) || put_user_u32(c, z))
        return -EFAULT;
    return 0;
}

long sys_getresuid(uint32_t __user *r, uint32_t __user *e, uint32_t __user *s)
{
    struct proc *p = proc_current();
    return get_three(r, e, s, p->uid, p->euid, p->suid);
}

long sys_getresgid(uint32_t __user *r, uint32_t __user *e, uint32_t __user *s)
{
    struct proc *p = proc_current();
    return get_three(r, e, s, p->gid, p->egid, p->sgid);
}

long sys_setfsuid(int uid) { (void)uid; return proc_current()->euid; }
long sys_setfsgid(int gid) { (void)gid; return proc_current()->egid; }

long sys_getgroups(int size, uint32_t __user *list)
{
    struct proc *p = proc_current();
    if (size < 0)
        return -EINVAL;
    if (size == 0)
        return p->ngroups;
    if ((unsigned)size < p->ngroups)
        return -EINVAL;
    if (copy_to_user(list, p->groups, p->ngroups * sizeof(uint32_t)))
        return -EFAULT;
    return p->ngroups;
}

long sys_setgroups(int size, const uint32_t __user *list)
{
    struct proc *p = proc_current();
    if (size < 0 || size > PROC_MAX_GROUPS)
        return -EINVAL;
    uint32_t g[PROC_MAX_GROUPS];
    if (copy_from_user(g, list, (size_t)size * sizeof(uint32_t)))
        return -EFAULT;
    irqflags_t f = spin_lock(&p->lock);
    memcpy(p->groups, g, (size_t)size * sizeof(uint32_t));
    p->ngroups = (unsigned)size;
    spin_unlock(&p->lock, f);
    return 0;
}

/* Capabilities: root with every capability, as a container's root. */
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
#define CAP_V1 0x19980330
#define CAP_V2 0x20071026
#define CAP_V3 0x20080522

long sys_capget(struct cap_header __user *hdr, struct cap_data __user *data)
{
    struct cap_header h;
    if (copy_from_user(&h, hdr, sizeof(h)))
        return -EFAULT;
    if (h.version != CAP_V1 && h.version != CAP_V2 && h.version != CAP_V3) {
        h.version = CAP_V3;
        return copy_to_user(hdr, &h, sizeof(h)) ? -EFAULT : -EINVAL;
    }
    if (h.pid < 0 || (h.pid && h.pid != proc_current()->pid && !proc_find_thread(proc_current(), h.pid)))
        return -ESRCH;
    if (!data)
        return 0;
    unsigned n = h.version == CAP_V1 ? 1 : 2;
    struct cap_data d[2] = { { 0xffffffff, 0xffffffff, 0 }, { 0x000001ff, 0x000001ff, 0 } };
    return copy_to_user(data, d, n * sizeof(d[0])) ? -EFAULT : 0;
}

long sys_capset(struct cap_header __user *hdr, const struct cap_data __user *data)
{
    struct cap_header h;
    if (copy_from_user(&h, hdr, sizeof(h)))
        return -EFAULT;
    if (h.version != CAP_V1 && h.version != CAP_V2 && h.version != CAP_V3)
        return -EINVAL;
    (void)data; /* dropping capabilities is accepted; nothing here checks them */
    return 0;
}

#define PER_LINUX 0
#define PER_QUERY 0xffffffffu

long sys_personality(unsigned persona)
{
    struct proc *p = proc_current();
    unsigned old = p->personality;
    if (persona != PER_QUERY) {
        if ((persona & 0xff) != PER_LINUX)
            return -EINVAL; /* other execution domains do not exist here */
        p->personality = persona;
    }
    return old;
}
