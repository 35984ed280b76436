/* Page tables. The kernel's are built once at boot: the kernel image at
 * KERNEL_VMA with text read-only+executable and everything else
 * non-executable, a direct map of all RAM, and a window (KVIRT) for device
 * registers, firmware tables and kernel stacks with guard pages. Each address
 * space has its own root whose upper half mirrors the kernel's (below). Until
 * paging_init switches CR3, the boot page tables map low memory one to one
 * and at KERNEL_VMA. */
#include "arch/paging.h"
#include "arch/cpu.h"
#include "arch/layout.h"
#include "arch/spinlock.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/memmap.h"
#include "mm/phys.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];

static uint64_t kernel_root;                 /* physical address of the PML4 */
static uint64_t (*table_alloc)(void);        /* returns a zeroed page's physical address */
static bool tables_in_direct_map;            /* before paging_init: reach tables at KERNEL_VMA */
static uint64_t pte_nx;                      /* PTE_NX when the CPU has NX */
static spinlock_t paging_lock = SPINLOCK_INIT;
static uintptr_t kvirt_next = KVIRT_BASE;
static struct list_node user_roots = LIST_INIT(user_roots); /* under paging_lock */

#define PML4_KERNEL_FIRST 256 /* entries 256-511: the upper half, shared by every root */

static uint64_t *table_virt(uint64_t phys)
{
    return tables_in_direct_map ? (uint64_t *)phys_to_virt(phys)
                                : (uint64_t *)(uintptr_t)(phys + KERNEL_VMA);
}

static uint64_t attrs_to_pte(unsigned attrs)
{
    uint64_t pte = PTE_PRESENT;
    if (attrs & MAP_WRITE)
        pte |= PTE_WRITE;
    if (!(attrs & MAP_EXEC))
        pte |= pte_nx;
    if (attrs & MAP_USER)
        pte |= PTE_USER;
    else
        pte |= PTE_GLOBAL;
    if (attrs & MAP_UNCACHED)
        pte |= PTE_PCD | PTE_PWT;
    return pte;
}

/* A new top-level kernel entry goes into every address space's root too, so
 * that a kernel mapping made later is seen whichever root a CPU has loaded.
 * Called with paging_lock held, which also guards the list. */
static void propagate_kernel_entry(unsigned index, uint64_t entry)
{
    list_for_each(n, &user_roots) {
        struct paging_root *r = list_entry(n, struct paging_root, link);
        WRITE_ONCE(table_virt(r->pml4)[index], entry);
    }
}

/* The entry at `level` (4 = PML4 ... 1 = PT) for va, creating tables on the way. */
static uint64_t *walk_create(uintptr_t va, int level)
{
    uint64_t *table = table_virt(kernel_root);
    for (int l = 4; l > level; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_PRESENT)) {
            uint64_t t = table_alloc();
            if (!t)
                return NULL;
            /* upper levels stay permissive; leaves decide access */
            *e = t | PTE_PRESENT | PTE_WRITE | ((va < USER_TOP) ? PTE_USER : 0);
            if (l == 4 && va >= USER_TOP)
                propagate_kernel_entry((unsigned)(e - table), *e);
        } else if (*e & PTE_LARGE) {
            panic("paging: %#lx is inside a large page at level %d", va, l);
        }
        table = table_virt(*e & PTE_ADDR_MASK);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

int paging_map(uintptr_t va, uint64_t pa, uint64_t size, unsigned attrs)
{
    uint64_t pte = attrs_to_pte(attrs);
    irqflags_t f = spin_lock(&paging_lock);
    while (size) {
        int level = 1;
        uint64_t step = PAGE_SIZE;
        bool large_ok = !(attrs & MAP_NO_LARGE);
        if (large_ok && cpu_features.pdpe1gb && !((va | pa) & (HUGE_PAGE_SIZE - 1)) &&
            size >= HUGE_PAGE_SIZE) {
            level = 3;
            step = HUGE_PAGE_SIZE;
        } else if (large_ok && !((va | pa) & (LARGE_PAGE_SIZE - 1)) && size >= LARGE_PAGE_SIZE) {
            level = 2;
            step = LARGE_PAGE_SIZE;
        }
        uint64_t *e = walk_create(va, level);
        if (!e) {
            spin_unlock(&paging_lock, f);
            return -ENOMEM;
        }
        *e = pa | pte | (level > 1 ? PTE_LARGE : 0);
        va += step;
        pa += step;
        size -= step;
    }
    spin_unlock(&paging_lock, f);
    return 0;
}

static uint64_t *walk_lookup(uintptr_t va, int *level_out)
{
    uint64_t *table = table_virt(kernel_root);
    for (int l = 4; l >= 1; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_PRESENT))
            return NULL;
        if (l == 1 || (*e & PTE_LARGE)) {
            *level_out = l;
            return e;
        }
        table = table_virt(*e & PTE_ADDR_MASK);
    }
    return NULL;
}

void paging_unmap(uintptr_t va, uint64_t size)
{
    irqflags_t f = spin_lock(&paging_lock);
    for (uintptr_t a = va; a < va + size; a += PAGE_SIZE) {
        int level;
        uint64_t *e = walk_lookup(a, &level);
        if (!e)
            continue;
        if (level != 1)
            panic("paging_unmap: %#lx is mapped by a large page", a);
        *e = 0;
        invlpg(a);
    }
    spin_unlock(&paging_lock, f);
}

uint64_t paging_translate(uintptr_t va)
{
    int level;
    uint64_t *e = walk_lookup(va, &level);
    if (!e)
        return (uint64_t)-1;
    uint64_t page_mask = (1ull << (12 + 9 * (level - 1))) - 1;
    return (*e & PTE_ADDR_MASK & ~page_mask) | (va & page_mask);
}

uintptr_t paging_reserve_kvirt(uint64_t size)
{
    size = ALIGN_UP(size, (uint64_t)PAGE_SIZE);
    uintptr_t va = __atomic_fetch_add(&kvirt_next, size, __ATOMIC_RELAXED);
    if (va + size > KVIRT_BASE + KVIRT_SIZE)
        return 0;
    return va;
}

static void *map_window(uint64_t phys, size_t len, unsigned attrs)
{
    uint64_t start = ALIGN_DOWN(phys, (uint64_t)PAGE_SIZE);
    uint64_t end = ALIGN_UP(phys + (len ? len : 1), (uint64_t)PAGE_SIZE);
    uintptr_t va = paging_reserve_kvirt(end - start);
    if (!va || paging_map(va, start, end - start, attrs | MAP_NO_LARGE) != 0)
        return NULL;
    return (void *)(va + (phys - start));
}

void *paging_map_phys(uint64_t phys, size_t len)
{
    if (!tables_in_direct_map) /* still on the boot tables: low memory is 1:1 */
        return (void *)(uintptr_t)phys;
    /* RAM we manage is in the direct map; firmware memory gets a window. */
    if (pfn_to_page(phys >> 12) && pfn_to_page((phys + len - 1) >> 12))
        return phys_to_virt(phys);
    return map_window(phys, len, MAP_READ);
}

void *paging_map_mmio(uint64_t phys, size_t len)
{
    return map_window(phys, len, MAP_WRITE | MAP_UNCACHED);
}

static void map_or_die(uintptr_t va, uint64_t pa, uint64_t size, unsigned attrs)
{
    if (paging_map(va, pa, size, attrs) != 0)
        panic("paging: out of memory building the kernel page tables");
}

void paging_init(const struct memmap *ram, uint64_t (*alloc_table)(void))
{
    table_alloc = alloc_table;
    if (cpu_features.nx) {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
        pte_nx = PTE_NX;
    }
    kernel_root = alloc_table();
    if (!kernel_root)
        panic("paging: no memory for the kernel page tables");

    /* The kernel image: text R+X, read-only data R, data and bss R+W. */
    uintptr_t text = (uintptr_t)__text_start, rodata = (uintptr_t)__rodata_start;
    uintptr_t data = (uintptr_t)__data_start, end = (uintptr_t)__kernel_end;
    map_or_die(text, text - KERNEL_VMA, ALIGN_UP(rodata - text, PAGE_SIZE), MAP_EXEC | MAP_NO_LARGE);
    map_or_die(rodata, rodata - KERNEL_VMA, data - rodata, MAP_READ | MAP_NO_LARGE);
    map_or_die(data, data - KERNEL_VMA, end - data, MAP_WRITE | MAP_NO_LARGE);

    for (unsigned i = 0; i < ram->n; i++)
        map_or_die(DIRECT_MAP_BASE + ram->r[i].start, ram->r[i].start,
                   ram->r[i].end - ram->r[i].start, MAP_WRITE);

    direct_map_offset = DIRECT_MAP_BASE;
    if (cpu_features.pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
    write_cr3(kernel_root);
    tables_in_direct_map = true;
}

void paging_set_table_allocator(uint64_t (*alloc_table)(void))
{
    table_alloc = alloc_table;
}

void paging_load_kernel_tables(void)
{
    write_cr3(kernel_root);
}

uint64_t paging_kernel_root(void)
{
    return kernel_root;
}

/* ---- Roots ---- */

int paging_root_init(struct paging_root *r)
{
    uint64_t t = table_alloc();
    if (!t)
        return -ENOMEM;
    r->pml4 = t;
    spin_init(&r->lock);
    uint64_t *dst = table_virt(t), *src = table_virt(kernel_root);
    /* under paging_lock: no kernel entry can be added between copy and listing */
    irqflags_t f = spin_lock(&paging_lock);
    for (unsigned i = PML4_KERNEL_FIRST; i < 512; i++)
        dst[i] = src[i];
    list_add_tail(&user_roots, &r->link);
    spin_unlock(&paging_lock, f);
    return 0;
}

void paging_root_release(struct paging_root *r)
{
    irqflags_t f = spin_lock(&paging_lock);
    list_remove(&r->link);
    spin_unlock(&paging_lock, f);
    uint64_t *t = table_virt(r->pml4);
    for (unsigned i = 0; i < PML4_KERNEL_FIRST; i++)
        if (t[i])
            panic("paging: root %#lx released with user entry %u still there", r->pml4, i);
    page_free(pfn_to_page(r->pml4 >> PAGE_SHIFT), 0);
    r->pml4 = 0;
}

void paging_root_load(const struct paging_root *r)
{
    write_cr3(r ? r->pml4 : kernel_root);
}

/* ---- The application half [0, USER_TOP) of a root ----
 * Each root has its own lock: kernel mappings are rare and must not wait
 * behind faults, and address spaces must not wait behind each other. The MMU
 * sets accessed/dirty bits concurrently, so leaves are replaced with atomic
 * exchanges and rewritten with compare-and-swap. */

#define LEVEL_SHIFT(l) (12 + 9 * ((l) - 1))
#define LEVEL_SPAN(l) (1ull << LEVEL_SHIFT(l))
#define LEVEL_INDEX(va, l) (((va) >> LEVEL_SHIFT(l)) & 511)
#define USER_TABLE_BITS (PTE_PRESENT | PTE_WRITE | PTE_USER)

static bool user_is_leaf(uint64_t e, int level)
{
    if (!paging_pte_is_leaf(e))
        return false;
    return level == 1 || (e & PTE_LARGE);
}

static bool user_is_table(uint64_t e, int level)
{
    return level > 1 && (e & PTE_PRESENT) && !(e & PTE_LARGE);
}

uint64_t paging_user_pte(uint64_t pa, bool write, bool exec, int level)
{
    uint64_t pte = pa | PTE_PRESENT | PTE_USER;
    if (write)
        pte |= PTE_WRITE;
    if (!exec)
        pte |= pte_nx;
    if (level == PAGING_LEVEL_2M)
        pte |= PTE_LARGE;
    return pte;
}

uint64_t paging_user_protnone(uint64_t pte)
{
    return (pte & ~PTE_PRESENT) | PTE_SW_PROTNONE;
}

/* The table *e points to, made (empty) when *e is empty; NULL with *err set
 * (-ENOMEM, or -EEXIST when a large leaf sits where a table should be). */
static uint64_t *user_table_below(uint64_t *e, int level, int *err)
{
    uint64_t v = *e;
    if (!v) {
        uint64_t t = table_alloc();
        if (!t) {
            *err = -ENOMEM;
            return NULL;
        }
        v = t | USER_TABLE_BITS;
        WRITE_ONCE(*e, v);
    } else if (!user_is_table(v, level)) {
        *err = -EEXIST;
        return NULL;
    }
    return table_virt(v & PTE_ADDR_MASK);
}

/* The entry for va at `level`, creating tables above it; NULL with *err set. */
static uint64_t *user_walk_create(struct paging_root *r, uintptr_t va, int level, int *err)
{
    uint64_t *table = table_virt(r->pml4);
    for (int l = 4; l > level && table; l--)
        table = user_table_below(&table[LEVEL_INDEX(va, l)], l, err);
    return table ? &table[LEVEL_INDEX(va, level)] : NULL;
}

/* The leaf entry covering va, or NULL. */
static uint64_t *user_walk_find(struct paging_root *r, uintptr_t va, int *level)
{
    uint64_t *table = table_virt(r->pml4);
    for (int l = 4; l >= 1; l--) {
        uint64_t *e = &table[LEVEL_INDEX(va, l)];
        uint64_t v = READ_ONCE(*e);
        if (user_is_leaf(v, l) && l <= 2) {
            *level = l;
            return e;
        }
        if (!user_is_table(v, l))
            return NULL;
        table = table_virt(v & PTE_ADDR_MASK);
    }
    return NULL;
}

int paging_user_lookup(struct paging_root *r, uintptr_t va, struct paging_leaf *out)
{
    memset(out, 0, sizeof(*out));
    if (va >= USER_TOP)
        return 0;
    int level = 0;
    irqflags_t f = spin_lock(&r->lock);
    uint64_t *e = user_walk_find(r, va, &level);
    uint64_t v = e ? READ_ONCE(*e) : 0;
    spin_unlock(&r->lock, f);
    if (!e)
        return 0;
    uint64_t span = LEVEL_SPAN(level);
    out->pte = v;
    out->level = level;
    out->va = ALIGN_DOWN(va, span);
    out->phys = v & PTE_ADDR_MASK & ~(span - 1);
    out->present = v & PTE_PRESENT;
    out->protnone = !(v & PTE_PRESENT);
    out->writable = out->present && (v & PTE_WRITE);
    out->exec = out->present && !(v & pte_nx);
    out->dirty = v & PTE_DIRTY;
    out->accessed = v & PTE_ACCESSED;
    return level;
}

int paging_user_map(struct paging_root *r, uintptr_t va, uint64_t pte, int level, uint64_t *old)
{
    uint64_t span = LEVEL_SPAN(level);
    if ((level != 1 && level != 2) || (va & (span - 1)) || va >= USER_TOP)
        return -EINVAL;
    int err = 0;
    irqflags_t f = spin_lock(&r->lock);
    uint64_t *e = user_walk_create(r, va, level, &err);
    if (e && level == 2 && user_is_table(*e, 2)) {
        e = NULL;
        err = -EEXIST;
    }
    if (e) {
        uint64_t prev = __atomic_exchange_n(e, pte, __ATOMIC_SEQ_CST);
        if (old)
            *old = prev;
    }
    spin_unlock(&r->lock, f);
    return err;
}

int paging_user_prepare(struct paging_root *r, uintptr_t va, int level)
{
    if (va >= USER_TOP)
        return -EINVAL;
    int err = 0;
    irqflags_t f = spin_lock(&r->lock);
    user_walk_create(r, va, level, &err);
    spin_unlock(&r->lock, f);
    return err;
}

bool paging_user_block_empty(struct paging_root *r, uintptr_t va)
{
    bool empty = true;
    irqflags_t f = spin_lock(&r->lock);
    uint64_t *table = table_virt(r->pml4);
    for (int l = 4; l >= 2; l--) {
        uint64_t v = READ_ONCE(table[LEVEL_INDEX(va, l)]);
        if (l == 2 || !user_is_table(v, l)) {
            empty = !v;
            break;
        }
        table = table_virt(v & PTE_ADDR_MASK);
    }
    spin_unlock(&r->lock, f);
    return empty;
}

/* Replace the 2 MiB leaf *e by a table of 512 equivalent 4 KiB leaves. */
static int user_split_large(uint64_t *e)
{
    uint64_t t = table_alloc();
    if (!t)
        return -ENOMEM;
    uint64_t *pt = table_virt(t);
    uint64_t old = __atomic_exchange_n(e, t | USER_TABLE_BITS, __ATOMIC_SEQ_CST);
    uint64_t bits = old & ~PTE_ADDR_MASK & ~PTE_LARGE;
    uint64_t base = old & PTE_ADDR_MASK & ~(uint64_t)(LARGE_PAGE_SIZE - 1);
    for (unsigned i = 0; i < 512; i++)
        pt[i] = (base + (uint64_t)i * PAGE_SIZE) | bits;
    return 0;
}

int paging_user_split_leaf(struct paging_root *r, uintptr_t va)
{
    if (va >= USER_TOP)
        return 0;
    int level = 0, err = 0;
    irqflags_t f = spin_lock(&r->lock);
    uint64_t *e = user_walk_find(r, va, &level);
    if (e && level == 2)
        err = user_split_large(e);
    spin_unlock(&r->lock, f);
    return err;
}

int paging_user_split(struct paging_root *r, uintptr_t va)
{
    if (IS_ALIGNED(va, LARGE_PAGE_SIZE))
        return 0;
    return paging_user_split_leaf(r, va);
}

enum user_walk_mode { WALK_READ, WALK_UNMAP, WALK_UPDATE };

struct user_walk {
    enum user_walk_mode mode;
    uintptr_t start, end;
    void *ctx;
    paging_unmap_fn unmap_fn;
    paging_update_fn update_fn;
    paging_walk_fn walk_fn;
    bool stop;
    int err;
    uintptr_t next; /* where a stopped walk resumes */
};

static bool user_table_empty(const uint64_t *t)
{
    for (unsigned i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

static void user_walk_leaf(struct user_walk *w, uint64_t *e, uint64_t v, uintptr_t va, int level)
{
    if (w->mode == WALK_READ) {
        if (!w->walk_fn(w->ctx, va, v, level)) {
            w->stop = true;
            w->next = va + LEVEL_SPAN(level);
        }
    } else if (w->mode == WALK_UNMAP) {
        uint64_t old = __atomic_exchange_n(e, 0, __ATOMIC_SEQ_CST);
        if (!w->unmap_fn(w->ctx, va, old, level)) {
            w->stop = true;
            w->next = va + LEVEL_SPAN(level);
        }
    } else {
        for (;;) {
            uint64_t nv = w->update_fn(w->ctx, va, v, level);
            if (nv == v || __atomic_compare_exchange_n(e, &v, nv, false, __ATOMIC_SEQ_CST,
                                                       __ATOMIC_SEQ_CST))
                break;
        }
    }
}

static void user_walk_table(struct user_walk *w, uint64_t *table, int level, uintptr_t base)
{
    uint64_t span = LEVEL_SPAN(level);
    for (unsigned i = LEVEL_INDEX(MAX(w->start, base), level); i < 512 && !w->stop; i++) {
        uintptr_t va = base + i * span;
        if (va >= w->end)
            break;
        uint64_t *e = &table[i];
        uint64_t v = READ_ONCE(*e);
        if (!v)
            continue;
        bool whole = va >= w->start && va + span <= w->end;
        if (user_is_leaf(v, level) && level <= 2) {
            if (level == 1 || whole || w->mode == WALK_READ) {
                user_walk_leaf(w, e, v, va, level);
                continue;
            }
            if (user_split_large(e) != 0) {
                w->err = -ENOMEM;
                w->stop = true;
                w->next = MAX(va, w->start);
                return;
            }
            v = *e;
        }
        if (!user_is_table(v, level))
            continue;
        uint64_t *child = table_virt(v & PTE_ADDR_MASK);
        user_walk_table(w, child, level - 1, va);
        if (w->mode == WALK_UNMAP && user_table_empty(child) &&
            w->unmap_fn(w->ctx, va, v & PTE_ADDR_MASK, 0))
            WRITE_ONCE(*e, 0);
    }
}

static int user_walk_run(struct paging_root *r, struct user_walk *w, uintptr_t *next)
{
    w->end = MIN(w->end, (uintptr_t)USER_TOP);
    w->next = w->end;
    if (w->start < w->end) {
        irqflags_t f = spin_lock(&r->lock);
        user_walk_table(w, table_virt(r->pml4), 4, 0);
        spin_unlock(&r->lock, f);
    }
    if (next)
        *next = w->next;
    return w->err;
}

int paging_user_unmap(struct paging_root *r, uintptr_t start, uintptr_t end, paging_unmap_fn fn,
                      void *ctx, uintptr_t *next)
{
    struct user_walk w = { .mode = WALK_UNMAP, .start = start, .end = end, .ctx = ctx, .unmap_fn = fn };
    return user_walk_run(r, &w, next);
}

int paging_user_update(struct paging_root *r, uintptr_t start, uintptr_t end, paging_update_fn fn,
                       void *ctx)
{
    struct user_walk w = { .mode = WALK_UPDATE, .start = start, .end = end, .ctx = ctx, .update_fn = fn };
    return user_walk_run(r, &w, NULL);
}

void paging_user_walk(struct paging_root *r, uintptr_t start, uintptr_t end, paging_walk_fn fn,
                      void *ctx)
{
    struct user_walk w = { .mode = WALK_READ, .start = start, .end = end, .ctx = ctx, .walk_fn = fn };
    user_walk_run(r, &w, NULL);
}

/* ---- Copying leaves into another root (fork) ---- */

#define USER_COPY_BATCH 512 /* leaves per call: bounds the time with interrupts off */

struct user_copy {
    uintptr_t start, end;
    paging_copy_fn fn;
    void *ctx;
    int err;
    unsigned leaves;
    bool stop;
    uintptr_t next; /* where a stopped copy resumes */
};

/* Copy the entries of src (a table at `level`) in range into dst, the table
 * at the same place in the other root. Tables of the copy are made before
 * fn runs, so what fn hands out is always installed. */
static void user_copy_table(struct user_copy *w, uint64_t *src, uint64_t *dst, int level, uintptr_t base)
{
    uint64_t span = LEVEL_SPAN(level);
    for (unsigned i = LEVEL_INDEX(MAX(w->start, base), level); i < 512 && !w->stop; i++) {
        uintptr_t va = base + i * span;
        if (va >= w->end)
            break;
        uint64_t v = READ_ONCE(src[i]);
        if (!v)
            continue;
        if (user_is_leaf(v, level) && level <= 2) {
            bool whole = va >= w->start && va + span <= w->end;
            if (level == 1 || whole) {
                uint64_t clear = 0, nv = w->fn(w->ctx, va, v, level, &clear);
                if (clear)
                    __atomic_fetch_and(&src[i], ~clear, __ATOMIC_SEQ_CST);
                if (nv)
                    WRITE_ONCE(dst[i], nv);
                if (++w->leaves == USER_COPY_BATCH) {
                    w->stop = true;
                    w->next = va + span;
                }
                continue;
            }
            if ((w->err = user_split_large(&src[i])) != 0) {
                w->stop = true;
                return;
            }
            v = src[i];
        }
        if (!user_is_table(v, level))
            continue;
        uint64_t *dst_child = user_table_below(&dst[i], level, &w->err);
        if (!dst_child) {
            w->stop = true;
            return;
        }
        user_copy_table(w, table_virt(v & PTE_ADDR_MASK), dst_child, level - 1, va);
    }
}

int paging_user_copy(struct paging_root *dst, struct paging_root *src, uintptr_t start, uintptr_t end,
                     paging_copy_fn fn, void *ctx, uintptr_t *next)
{
    struct user_copy w = { .start = start, .end = MIN(end, (uintptr_t)USER_TOP), .fn = fn, .ctx = ctx };
    w.next = w.end;
    *next = w.end;
    if (w.start >= w.end)
        return 0;
    /* dst is a new space nobody else edits yet; the order src, dst is fixed */
    irqflags_t f = spin_lock(&src->lock);
    spin_lock_raw(&dst->lock);
    user_copy_table(&w, table_virt(src->pml4), table_virt(dst->pml4), 4, 0);
    spin_unlock_raw(&dst->lock);
    spin_unlock(&src->lock, f);
    *next = w.next;
    return w.err;
}
