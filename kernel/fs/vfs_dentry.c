/* The name cache: one dentry per (directory, name) in use, hashed for lookup,
 * kept on an LRU list while unused so that repeated path walks do not call
 * into the file system. A dentry holds references on its parent and vnode. */
#include "arch/spinlock.h"
#include "core/panic.h"
#include "fs/vfs.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define DCACHE_BUCKETS 2048
#define DCACHE_UNUSED_MAX 8192

static struct list_node dcache_hash[DCACHE_BUCKETS];
static struct list_node dcache_lru = LIST_INIT(dcache_lru);
static unsigned dcache_unused;
static spinlock_t dcache_lock = SPINLOCK_INIT;
static bool dcache_ready;

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static struct list_node *bucket(const struct dentry *parent, uint32_t hash)
{
    uintptr_t p = (uintptr_t)parent;
    return &dcache_hash[(hash ^ (uint32_t)(p >> 4) ^ (uint32_t)(p >> 20)) & (DCACHE_BUCKETS - 1)];
}

static void dcache_init_once(void)
{
    if (dcache_ready)
        return;
    for (unsigned i = 0; i < DCACHE_BUCKETS; i++)
        list_init(&dcache_hash[i]);
    dcache_ready = true;
}

static void dentry_free(struct dentry *d)
{
    if (d->name != d->inline_name)
        kfree(d->name);
    vnode_put(d->vnode);
    kfree(d);
}

/* Unlink d from every list; caller holds the lock and d->refs == 0. */
static void dentry_detach_locked(struct dentry *d)
{
    if (d->flags & DENTRY_HASHED)
        list_remove(&d->hash_link);
    d->flags &= ~DENTRY_HASHED;
    if (!list_empty(&d->lru_link)) {
        list_remove(&d->lru_link);
        dcache_unused--;
    }
    list_remove(&d->sb_link);
}

struct dentry *dentry_get(struct dentry *d)
{
    if (!d)
        return NULL;
    irqflags_t f = spin_lock(&dcache_lock);
    if (d->refs++ == 0 && !list_empty(&d->lru_link)) {
        list_remove(&d->lru_link);
        dcache_unused--;
    }
    spin_unlock(&dcache_lock, f);
    return d;
}

/* Free the oldest unused dentries beyond the cache's limit. */
static void dcache_shrink(void)
{
    for (;;) {
        irqflags_t f = spin_lock(&dcache_lock);
        if (dcache_unused <= DCACHE_UNUSED_MAX) {
            spin_unlock(&dcache_lock, f);
            return;
        }
        struct dentry *d = list_entry(dcache_lru.next, struct dentry, lru_link);
        dentry_detach_locked(d);
        spin_unlock(&dcache_lock, f);
        struct dentry *parent = d->parent;
        dentry_free(d);
        dentry_put(parent);
    }
}

void dentry_put(struct dentry *d)
{
    bool shrink = false;
    while (d) {
        irqflags_t f = spin_lock(&dcache_lock);
        BUG_ON(d->refs == 0);
        if (--d->refs > 0) {
            spin_unlock(&dcache_lock, f);
            break;
        }
        bool keep = (d->flags & DENTRY_HASHED) && !(d->flags & DENTRY_DEAD) && !d->sb->dying;
        if (keep) {
            list_add_tail(&dcache_lru, &d->lru_link);
            shrink = ++dcache_unused > DCACHE_UNUSED_MAX;
            spin_unlock(&dcache_lock, f);
            break;
        }
        dentry_detach_locked(d);
        spin_unlock(&dcache_lock, f);
        struct dentry *parent = d->parent;
        dentry_free(d);
        d = parent; /* drop the reference the child held */
    }
    if (shrink)
        dcache_shrink();
}

static bool dentry_matches(const struct dentry *d, const struct dentry *parent, uint32_t hash,
                           const char *name, size_t len)
{
    return d->parent == parent && d->hash == hash && d->len == len && memcmp(d->name, name, len) == 0;
}

struct dentry *dcache_lookup(struct dentry *parent, const char *name, size_t len)
{
    uint32_t hash = name_hash(name, len);
    struct dentry *found = NULL;
    irqflags_t f = spin_lock(&dcache_lock);
    if (dcache_ready) {
        list_for_each(n, bucket(parent, hash)) {
            struct dentry *d = list_entry(n, struct dentry, hash_link);
            if (dentry_matches(d, parent, hash, name, len)) {
                found = d;
                if (d->refs++ == 0 && !list_empty(&d->lru_link)) {
                    list_remove(&d->lru_link);
                    dcache_unused--;
                }
                break;
            }
        }
    }
    spin_unlock(&dcache_lock, f);
    return found;
}

static char *name_storage(struct dentry *d, size_t len)
{
    return len < sizeof(d->inline_name) ? d->inline_name : kmalloc(len + 1);
}

struct dentry *dentry_add(struct dentry *parent, const char *name, size_t len, struct vnode *v)
{
    struct dentry *d = kzalloc(sizeof(*d));
    if (!d)
        return NULL;
    d->name = name_storage(d, len);
    if (!d->name) {
        kfree(d);
        return NULL;
    }
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    d->len = (uint16_t)len;
    d->hash = name_hash(name, len);
    d->refs = 1;
    d->vnode = vnode_get(v);
    d->sb = v->sb;
    list_init(&d->lru_link);
    list_init(&d->hash_link);
    d->parent = dentry_get(parent);
    irqflags_t f = spin_lock(&dcache_lock);
    dcache_init_once();
    list_add_tail(&v->sb->dentries, &d->sb_link);
    if (parent) {
        list_add_head(bucket(parent, d->hash), &d->hash_link);
        d->flags |= DENTRY_HASHED;
    }
    spin_unlock(&dcache_lock, f);
    return d;
}

void dentry_unhash(struct dentry *d)
{
    irqflags_t f = spin_lock(&dcache_lock);
    if (d->flags & DENTRY_HASHED)
        list_remove(&d->hash_link);
    d->flags = (uint8_t)((d->flags & ~DENTRY_HASHED) | DENTRY_DEAD);
    spin_unlock(&dcache_lock, f);
}

/* Re-file d under (parent, name, hash); caller holds the lock. Returns the
 * old parent, whose reference the caller drops. */
static struct dentry *dentry_rename_locked(struct dentry *d, struct dentry *parent, char *name,
                                           size_t len, uint32_t hash)
{
    if (d->flags & DENTRY_HASHED)
        list_remove(&d->hash_link);
    struct dentry *old_parent = d->parent;
    if (parent->refs++ == 0 && !list_empty(&parent->lru_link)) {
        list_remove(&parent->lru_link);
        dcache_unused--;
    }
    d->parent = parent;
    d->name = name;
    d->len = (uint16_t)len;
    d->hash = hash;
    list_add_head(bucket(parent, hash), &d->hash_link);
    d->flags |= DENTRY_HASHED;
    return old_parent;
}

int dentry_move(struct dentry *d, struct dentry *parent, const char *name, size_t len)
{
    char *heap = NULL;
    if (len >= sizeof(d->inline_name)) {
        heap = kmalloc(len + 1);
        if (!heap)
            return -ENOMEM;
        memcpy(heap, name, len);
        heap[len] = '\0';
    }
    uint32_t hash = name_hash(name, len);
    irqflags_t f = spin_lock(&dcache_lock);
    char *old_name = d->name;
    char *new_name = heap;
    if (!heap) { /* readers copy the name under the lock, so rewrite it here */
        memcpy(d->inline_name, name, len);
        d->inline_name[len] = '\0';
        new_name = d->inline_name;
    }
    struct dentry *old = dentry_rename_locked(d, parent, new_name, len, hash);
    spin_unlock(&dcache_lock, f);
    if (old_name != d->inline_name)
        kfree(old_name);
    dentry_put(old);
    return 0;
}

void dentry_exchange(struct dentry *a, struct dentry *b)
{
    irqflags_t f = spin_lock(&dcache_lock);
    if (a->flags & DENTRY_HASHED)
        list_remove(&a->hash_link);
    if (b->flags & DENTRY_HASHED)
        list_remove(&b->hash_link);
    struct dentry *pa = a->parent;
    a->parent = b->parent;
    b->parent = pa; /* each parent keeps one reference */
    /* swap the names; inline buffers move by copy */
    char ta[sizeof(a->inline_name)], tb[sizeof(b->inline_name)];
    bool a_inline = a->name == a->inline_name, b_inline = b->name == b->inline_name;
    memcpy(ta, a->inline_name, sizeof(ta));
    memcpy(tb, b->inline_name, sizeof(tb));
    char *na = a->name, *nb = b->name;
    memcpy(a->inline_name, tb, sizeof(tb));
    memcpy(b->inline_name, ta, sizeof(ta));
    a->name = b_inline ? a->inline_name : nb;
    b->name = a_inline ? b->inline_name : na;
    uint16_t len = a->len;
    a->len = b->len;
    b->len = len;
    uint32_t hash = a->hash;
    a->hash = b->hash;
    b->hash = hash;
    list_add_head(bucket(a->parent, a->hash), &a->hash_link);
    list_add_head(bucket(b->parent, b->hash), &b->hash_link);
    a->flags |= DENTRY_HASHED;
    b->flags |= DENTRY_HASHED;
    spin_unlock(&dcache_lock, f);
}

void dcache_prune_sb(struct vfs_sb *sb)
{
    struct list_node victims = LIST_INIT(victims);
    irqflags_t f = spin_lock(&dcache_lock);
    sb->dying = true;
    list_for_each_safe(n, &sb->dentries) {
        struct dentry *d = list_entry(n, struct dentry, sb_link);
        if (d->refs == 0) {
            dentry_detach_locked(d);
            list_add_tail(&victims, &d->lru_link);
        }
    }
    spin_unlock(&dcache_lock, f);
    /* Unused dentries are leaves of the unused forest: freeing them drops
     * their parents, which the dying flag frees in turn. */
    while (!list_empty(&victims)) {
        struct dentry *d = list_entry(list_pop_head(&victims), struct dentry, lru_link);
        struct dentry *parent = d->parent;
        dentry_free(d);
        dentry_put(parent);
    }
}

size_t dentry_name(struct dentry *d, char *buf, size_t size)
{
    irqflags_t f = spin_lock(&dcache_lock);
    size_t n = strlcpy(buf, d->name, size);
    spin_unlock(&dcache_lock, f);
    return n;
}

/* Path building walks parents under the lock: vfs_mount.c calls these. */
irqflags_t dcache_lock_tree(void)
{
    return spin_lock(&dcache_lock);
}

void dcache_unlock_tree(irqflags_t f)
{
    spin_unlock(&dcache_lock, f);
}

struct dentry *dentry_get_parent(struct dentry *d)
{
    irqflags_t f = spin_lock(&dcache_lock);
    struct dentry *p = d->parent;
    if (p && p->refs++ == 0 && !list_empty(&p->lru_link)) {
        list_remove(&p->lru_link);
        dcache_unused--;
    }
    spin_unlock(&dcache_lock, f);
    return p;
}

bool dentry_is_ancestor(struct dentry *anc, struct dentry *d)
{
    bool found = false;
    irqflags_t f = spin_lock(&dcache_lock);
    for (; d; d = d->parent)
        if (d == anc) {
            found = true;
            break;
        }
    spin_unlock(&dcache_lock, f);
    return found;
}
