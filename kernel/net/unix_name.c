/* AF_UNIX names: abstract names (a leading NUL) in a table of their own,
 * filesystem names as S_IFSOCK nodes made through the VFS and found again
 * by their vnode; autobind; getsockname/getpeername. */
#include "core/proc.h"
#include "fs/fs_context.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "unix_internal.h"

#define UNIX_NAME_BUCKETS 64
#define SUN_PATH_OFF offsetof(struct sockaddr_un, sun_path)

static struct mutex unix_names_lock = MUTEX_INIT(unix_names_lock);
static struct list_node unix_names[UNIX_NAME_BUCKETS];
static bool unix_names_ready;
static unsigned autobind_next;

static void names_init_locked(void)
{
    if (unix_names_ready)
        return;
    for (unsigned i = 0; i < UNIX_NAME_BUCKETS; i++)
        list_init(&unix_names[i]);
    unix_names_ready = true;
}

static unsigned hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h % UNIX_NAME_BUCKETS;
}

static unsigned bucket_of_vnode(const struct vnode *v)
{
    uintptr_t p = (uintptr_t)v;
    return (unsigned)((p >> 4) ^ (p >> 12)) % UNIX_NAME_BUCKETS;
}

static unsigned bucket_of(const struct unix_addr *a, const struct vnode *v)
{
    return a->abstract ? hash_bytes(a->sun.sun_path, a->len - SUN_PATH_OFF) : bucket_of_vnode(v);
}

int unix_addr_parse(const struct sockaddr_storage *a, unsigned len, struct unix_addr *out,
                    bool *autobind)
{
    *autobind = false;
    if (len < SUN_PATH_OFF || a->ss_family != AF_UNIX)
        return -EINVAL;
    if (len > sizeof(struct sockaddr_un))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (len == SUN_PATH_OFF) {
        *autobind = true;
        return 0;
    }
    memcpy(&out->sun, a, len);
    if (out->sun.sun_path[0] == 0) {
        out->abstract = true;
        out->len = len;
        return 0;
    }
    /* a path ends at its NUL or at the end of the address, which Linux
     * terminates for the caller */
    size_t plen = strnlen(out->sun.sun_path, len - SUN_PATH_OFF);
    ((char *)out)[offsetof(struct unix_addr, sun) + SUN_PATH_OFF + plen] = 0; /* may be `nul` */
    out->len = (unsigned)MIN(SUN_PATH_OFF + plen + 1, sizeof(struct sockaddr_un));
    return 0;
}

static struct fs_context *cur_fs_ctx(void)
{
    struct proc *p = proc_current();
    return p && p->fs ? p->fs : fs_context_kernel();
}

/* The socket bound to (abstract name | vnode), lock held; no reference. */
static struct unix_sock *find_locked(const struct unix_addr *a, const struct vnode *v)
{
    names_init_locked();
    list_for_each(n, &unix_names[bucket_of(a, v)]) {
        struct unix_sock *u = list_entry(n, struct unix_sock, name_link);
        if (a->abstract) {
            if (u->addr->abstract && u->addr->len == a->len &&
                !memcmp(u->addr->sun.sun_path, a->sun.sun_path, a->len - SUN_PATH_OFF))
                return u;
        } else if (u->vnode == v) {
            return u;
        }
    }
    return NULL;
}

/* Publish a bound name: the socket must still be unbound (-EINVAL). */
static int publish(struct unix_sock *u, struct unix_addr *a, struct vnode *v)
{
    mutex_lock(&unix_names_lock);
    names_init_locked();
    int err = 0;
    if (READ_ONCE(u->addr))
        err = -EINVAL;
    else if (a->abstract && find_locked(a, NULL))
        err = -EADDRINUSE;
    if (!err) {
        u->vnode = v;
        list_add_tail(&unix_names[bucket_of(a, v)], &u->name_link);
        __atomic_store_n(&u->addr, a, __ATOMIC_RELEASE);
    }
    mutex_unlock(&unix_names_lock);
    return err;
}

int unix_autobind(struct unix_sock *u)
{
    if (READ_ONCE(u->addr))
        return 0;
    struct unix_addr *a = kzalloc(sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->refs = 1;
    a->abstract = true;
    a->sun.sun_family = AF_UNIX;
    a->len = SUN_PATH_OFF + 6; /* NUL and five hex digits, as Linux */
    for (unsigned tries = 0; tries < 0x100000; tries++) {
        unsigned n = __atomic_fetch_add(&autobind_next, 1, __ATOMIC_RELAXED) & 0xfffff;
        snprintf(a->sun.sun_path + 1, 6, "%05x", n);
        int err = publish(u, a, NULL);
        if (err != -EADDRINUSE) {
            if (err)
                kfree(a);
            return err == -EINVAL ? 0 : err; /* bound meanwhile: fine */
        }
    }
    kfree(a);
    return -ENOSPC;
}

/* Make the S_IFSOCK node and find its vnode. */
static int bind_path(struct unix_sock *u, struct unix_addr *a)
{
    struct fs_context *fs = cur_fs_ctx();
    int err = vfs_mknodat(fs, NULL, a->sun.sun_path, S_IFSOCK | 0777, 0); /* umask applies */
    if (err)
        return err == -EEXIST ? -EADDRINUSE : err;
    struct path p;
    err = vfs_lookup(fs, NULL, a->sun.sun_path, 0, &p);
    if (err)
        return err;
    struct vnode *v = vnode_get(path_vnode(&p));
    path_put(&p);
    err = publish(u, a, v);
    if (err) {
        vnode_put(v);
        vfs_unlinkat(fs, NULL, a->sun.sun_path, 0); /* already bound: Linux takes the node back */
    }
    return err;
}

int unix_bind(struct socket *s, const struct sockaddr_storage *addr, unsigned len)
{
    struct unix_sock *u = unix_sk(s);
    struct unix_addr *a = kmalloc(sizeof(*a));
    if (!a)
        return -ENOMEM;
    bool autobind;
    int err = unix_addr_parse(addr, len, a, &autobind);
    if (err || autobind) {
        kfree(a);
        return err ? err : READ_ONCE(u->addr) ? -EINVAL : unix_autobind(u);
    }
    a->refs = 1;
    if (a->abstract && READ_ONCE(u->addr))
        err = -EINVAL;
    else if (a->abstract)
        err = publish(u, a, NULL);
    else
        err = bind_path(u, a);
    if (err)
        kfree(a);
    return err;
}

void unix_unbind(struct unix_sock *u)
{
    if (!READ_ONCE(u->addr))
        return;
    mutex_lock(&unix_names_lock);
    list_remove(&u->name_link);
    struct vnode *v = u->vnode;
    u->vnode = NULL;
    mutex_unlock(&unix_names_lock);
    if (v)
        vnode_put(v);
}

int unix_find(const struct sockaddr_storage *addr, unsigned len, int type, struct unix_sock **out)
{
    struct unix_addr a;
    bool autobind;
    int err = unix_addr_parse(addr, len, &a, &autobind);
    if (err)
        return err;
    if (autobind)
        return -EINVAL;
    struct vnode *v = NULL;
    struct path p = { 0 };
    if (!a.abstract) {
        err = vfs_lookup(cur_fs_ctx(), NULL, a.sun.sun_path, LOOKUP_FOLLOW, &p);
        if (err)
            return err;
        v = path_vnode(&p);
        if (!S_ISSOCK(v->mode)) {
            path_put(&p);
            return -ECONNREFUSED;
        }
    }
    mutex_lock(&unix_names_lock);
    struct unix_sock *u = find_locked(&a, v);
    if (u)
        unix_get(u);
    mutex_unlock(&unix_names_lock);
    if (p.dentry)
        path_put(&p);
    if (!u)
        return -ECONNREFUSED;
    if (u->sock.type != type) {
        unix_put(u);
        return -EPROTOTYPE;
    }
    *out = u;
    return 0;
}

static unsigned addr_copy(const struct unix_addr *a, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    out->ss_family = AF_UNIX;
    if (!a)
        return SUN_PATH_OFF; /* unnamed: just the family */
    memcpy(out, &a->sun, a->len);
    return a->len;
}

int unix_getname(struct socket *s, struct sockaddr_storage *addr, unsigned *len, bool peer)
{
    struct unix_sock *u = unix_sk(s);
    if (!peer) {
        *len = addr_copy(__atomic_load_n(&u->addr, __ATOMIC_ACQUIRE), addr);
        return 0;
    }
    struct unix_sock *p = unix_peer_get(u);
    if (!p || (s->type != SOCK_DGRAM && READ_ONCE(u->state) != UNIX_CONNECTED)) {
        unix_put(p);
        return -ENOTCONN;
    }
    *len = addr_copy(__atomic_load_n(&p->addr, __ATOMIC_ACQUIRE), addr);
    unix_put(p);
    return 0;
}
