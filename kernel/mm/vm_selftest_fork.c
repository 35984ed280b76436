/* Self-test --test=vmfork: several address spaces, fork with copy on write.
 * Pages are written and read through the MMU with each space loaded in turn
 * (the fault path resolves what a user access would fault on), and checked
 * for isolation, sharing, copy on write of 4 KiB and 2 MiB pages, flags that
 * change what a fork copies, reference counts and freeing; the cross-CPU
 * parts and the timings are in vm_selftest_fork_smp.c. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/uaccess.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vm_selftest.h"

#define PG PAGE_SIZE
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED_ANON (MAP_SHARED | MAP_ANONYMOUS)

uint64_t vm_test_free_pages(void)
{
    irqflags_t f = irq_save();
    kmalloc_cpu_drain(cpu_current_id());
    irq_restore(f);
    struct phys_stats st;
    phys_get_stats(&st);
    return st.free_pages;
}

/* Interrupts stay off from loading the space to the access, so no other
 * thread can load another one in between. */
static int vm_test_access(struct vm_space *vm, uintptr_t va, uint64_t *val, bool write)
{
    for (unsigned tries = 0; tries < 4; tries++) {
        irqflags_t f = irq_save();
        vm_activate(vm);
        int e = write ? put_user_u64((void __user *)va, *val) : get_user_u64(val, (const void __user *)va);
        irq_restore(f);
        if (!e)
            return 0;
        int r = vm_fault(vm, va, (write ? VM_FAULT_WRITE : 0) | VM_FAULT_USER);
        if (r)
            return r;
    }
    return -EFAULT;
}

int vm_test_put(struct vm_space *vm, uintptr_t va, uint64_t val)
{
    return vm_test_access(vm, va, &val, true);
}

int vm_test_get(struct vm_space *vm, uintptr_t va, uint64_t *out)
{
    return vm_test_access(vm, va, out, false);
}

uint64_t vm_test_val(struct vm_space *vm, uintptr_t va)
{
    uint64_t v;
    return vm_test_get(vm, va, &v) ? VM_TEST_BAD : v;
}

int vm_test_leaf(struct vm_space *vm, uintptr_t va, struct paging_leaf *l)
{
    return paging_user_lookup(&vm->pt, va, l);
}

static uint64_t phys_of(struct vm_space *vm, uintptr_t va)
{
    struct paging_leaf l;
    return vm_test_leaf(vm, va, &l) ? l.phys + (ALIGN_DOWN(va, PG) - l.va) : 0;
}

static bool read_only(struct vm_space *vm, uintptr_t va)
{
    struct paging_leaf l;
    return vm_test_leaf(vm, va, &l) && l.present && !l.writable;
}

/* Store i + base into page i of [a, a + n pages). */
static int fill(struct vm_space *vm, uintptr_t a, unsigned n, uint64_t base)
{
    int err = 0;
    for (unsigned i = 0; i < n && !err; i++)
        err = vm_test_put(vm, a + i * PG, base + i);
    return err;
}

static unsigned mismatches(struct vm_space *vm, uintptr_t a, unsigned n, uint64_t base)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++)
        bad += vm_test_val(vm, a + i * PG) != base + i;
    return bad;
}

/* ---- Private memory: copy on write in both directions ---- */

static int test_private(void)
{
    struct vm_space *p = vm_space_create();
    long a = vm_mmap(p, 0, 16 * PG, RW, ANON, NULL, 0);
    int fails = selftest_check(a > 0 && !fill(p, a, 16, 0x1000), "a parent writes 16 pages");
    uint64_t before = vm_test_free_pages();
    uint64_t phys0 = phys_of(p, a), phys1 = phys_of(p, a + PG);
    struct vm_space *c = vm_space_fork(p);
    uint64_t used = before - vm_test_free_pages();
    fails += selftest_check(c && used <= 8, "fork copies no page, only page tables (%lu pages)", used);
    if (!c)
        return fails + 1;
    fails += selftest_check(mismatches(c, a, 16, 0x1000) == 0, "the child reads the parent's data");
    fails += selftest_check(phys_of(c, a + 3 * PG) == phys_of(p, a + 3 * PG) && read_only(c, a + 3 * PG) &&
                                read_only(p, a + 3 * PG),
                            "both map the same pages, read-only in both");
    fails += selftest_check(c->rss_anon == p->rss_anon && p->rss_anon >= 16,
                            "both count them in their RSS (%lu and %lu pages)", c->rss_anon, p->rss_anon);
    vm_test_put(c, a, 0xc0);
    fails += selftest_check(vm_test_val(p, a) == 0x1000 && vm_test_val(c, a) == 0xc0 && phys_of(c, a) != phys0,
                            "a write in the child copies the page: the parent still reads its own");
    vm_test_put(p, a + PG, 0xb1);
    fails += selftest_check(vm_test_val(c, a + PG) == 0x1001 && vm_test_val(p, a + PG) == 0xb1 &&
                                phys_of(p, a + PG) != phys1,
                            "a write in the parent is not seen by the child");
    vm_test_put(p, a, 0xb0);
    vm_test_put(c, a + PG, 0xc1);
    fails += selftest_check(phys_of(p, a) == phys0 && phys_of(c, a + PG) == phys1 && vm_test_val(p, a) == 0xb0 &&
                                vm_test_val(c, a + PG) == 0xc1 && vm_test_val(c, a) == 0xc0,
                            "a page the other side has copied is written in place (no second copy)");
    /* both sides write everything, in opposite orders */
    for (unsigned i = 2; i < 16; i++) {
        vm_test_put(c, a + (17 - i) * PG, 0x2000 + 17 - i);
        vm_test_put(p, a + i * PG, 0x3000 + i);
    }
    unsigned bad = mismatches(p, a + 2 * PG, 14, 0x3002) + mismatches(c, a + 2 * PG, 14, 0x2002);
    fails += selftest_check(!bad, "written in any order by both, each keeps its own data (%u wrong)", bad);
    /* another process's memory, without loading its space */
    long r = vm_mmap(p, 0x600000000, 2 * PG, RW, ANON | MAP_FIXED, NULL, 0); /* nothing after it */
    vm_test_put(p, r, 0x51);
    struct vm_space *c2 = vm_space_fork(p);
    uint64_t got = 0, put = 0x52, want = 0x51;
    vm_activate(NULL);
    bool ok = vm_access(c2, r, &got, 8, false) == 8 && got == 0x51 && vm_access(c2, r, &put, 8, true) == 8 &&
              vm_test_val(c2, r) == 0x52 && vm_test_val(p, r) == want &&
              vm_access(c2, r + PG - 4, &got, 8, false) == 8 && vm_access(c2, r + 2 * PG - 4, &got, 8, false) == 4 &&
              vm_access(c2, r + 2 * PG, &got, 8, false) == -EFAULT;
    fails += selftest_check(ok, "vm_access reads and writes another space (a write copies a shared page; a "
                                "short count at the end of the mapping, then EFAULT)");
    vm_space_put(c2);
    uint64_t rss_p = p->rss_anon, rss_c = c->rss_anon;
    vm_space_put(c);
    fails += selftest_check(p->rss_anon == rss_p && rss_c + 1 == rss_p, "the child's exit leaves the parent's RSS");
    vm_space_put(p);
    return fails;
}

/* ---- Shared memory stays shared, whenever it is first touched ---- */

static int test_shared(void)
{
    struct vm_space *p = vm_space_create();
    long s = vm_mmap(p, 0, 4 * PG, RW, SHARED_ANON, NULL, 0);
    vm_test_put(p, s, 1);
    struct vm_space *c = vm_space_fork(p);
    int fails = 0;
    vm_test_put(c, s, 2);
    fails += selftest_check(vm_test_val(p, s) == 2 && phys_of(p, s) == phys_of(c, s),
                            "MAP_SHARED: the child's store is seen by the parent (same page)");
    vm_test_put(p, s + PG, 3);
    vm_test_put(c, s + 2 * PG, 4);
    fails += selftest_check(vm_test_val(c, s + PG) == 3 && vm_test_val(p, s + 2 * PG) == 4,
                            "pages first touched after the fork are shared too");
    fails += selftest_check(vm_madvise(c, s, 4 * PG, MADV_DONTNEED) == 0 && vm_test_val(c, s) == 2 &&
                                vm_test_val(c, s + PG) == 3,
                            "MADV_DONTNEED on shared memory keeps its data");
    fails += selftest_check(vm_madvise(p, s + 3 * PG, PG, MADV_REMOVE) == 0 && vm_test_val(p, s + 3 * PG) == 0 &&
                                vm_madvise(p, s, PG, MADV_WIPEONFORK) == -EINVAL,
                            "MADV_REMOVE frees a page (zeros again); MADV_WIPEONFORK is for private memory");
    vm_space_put(p);
    fails += selftest_check(vm_test_val(c, s) == 2 && vm_test_put(c, s + 2 * PG, 5) == 0,
                            "the child keeps the memory after the parent is gone");
    vm_space_put(c);
    return fails;
}

/* ---- The zero page, flags, layout ---- */

static int test_zero_and_flags(void)
{
    struct vm_space *p = vm_space_create();
    long z = vm_mmap(p, 0, PG, RW, ANON, NULL, 0);
    long d = vm_mmap(p, 0, 4 * PG, RW, ANON, NULL, 0);
    long w = vm_mmap(p, 0, 4 * PG, RW, ANON, NULL, 0);
    long l = vm_mmap(p, 0, 2 * PG, RW, ANON, NULL, 0);
    vm_test_val(p, z);
    fill(p, d, 4, 0xd0);
    fill(p, w, 4, 0xe0);
    int fails = selftest_check(vm_madvise(p, d, 4 * PG, MADV_DONTFORK) == 0 &&
                                   vm_madvise(p, w, 4 * PG, MADV_WIPEONFORK) == 0 &&
                                   vm_mlock(p, l, 2 * PG, 0) == 0,
                               "MADV_DONTFORK, MADV_WIPEONFORK and mlock are accepted");
    vm_set_brk_base(p, 0x10000000);
    vm_brk(p, 0x10004000);
    vm_set_mmap_base(p, 0x7f0000000000);
    struct vm_space *c = vm_space_fork(p);
    fails += selftest_check(phys_of(c, z) == page_to_phys(vm_zero_page) && read_only(c, z),
                            "the zero page stays the zero page in the child");
    vm_test_put(c, z, 7);
    fails += selftest_check(vm_test_val(p, z) == 0 && phys_of(p, z) == page_to_phys(vm_zero_page) &&
                                vm_test_val(c, z) == 7,
                            "the child's write replaces it there only");
    fails += selftest_check(!vma_find(&c->vmas, d) && mismatches(p, d, 4, 0xd0) == 0,
                            "MADV_DONTFORK: the child has no such mapping");
    struct vma *cw = vma_find(&c->vmas, w);
    fails += selftest_check(cw && (cw->flags & VMA_WIPEONFORK) && vm_test_val(c, w + PG) == 0 &&
                                mismatches(p, w, 4, 0xe0) == 0,
                            "MADV_WIPEONFORK: the child reads zeros, the parent its data");
    struct vma *cl = vma_find(&c->vmas, l), *pl = vma_find(&p->vmas, l);
    fails += selftest_check(cl && pl && (pl->flags & VMA_LOCKED) && !(cl->flags & VMA_LOCKED),
                            "memory locks are not inherited (as Linux)");
    fails += selftest_check(c->brk_start == p->brk_start && c->brk == p->brk && c->mmap_base == p->mmap_base &&
                                c->stack_limit == p->stack_limit && vm_brk(c, 0) == 0x10004000,
                            "the heap, the mmap base and the stack limit are inherited");
    vm_space_put(c);
    /* without DONTFORK mappings a child's maps text is the parent's */
    vm_munmap(p, d, 4 * PG);
    vm_munlock(p, l, 2 * PG);
    vm_madvise(p, w, 4 * PG, MADV_KEEPONFORK);
    c = vm_space_fork(p);
    static char tp[2048], tc[2048];
    size_t np = vm_format_maps(p, tp, sizeof(tp)), nc = vm_format_maps(c, tc, sizeof(tc));
    fails += selftest_check(np == nc && np < sizeof(tp) && !strcmp(tp, tc), "/proc/self/maps of both are the same");
    struct vm_stats sp, sc;
    vm_get_stats(p, &sp);
    vm_get_stats(c, &sc);
    fails += selftest_check(sp.size == sc.size && sp.rss == sc.rss && sp.vma_count == sc.vma_count &&
                                mismatches(c, w, 4, 0xe0) == 0,
                            "and so are VmSize and VmRSS (%lu kB, %lu kB); MADV_KEEPONFORK undoes WIPEONFORK",
                            sc.size >> 10, sc.rss >> 10);
    vm_space_put(c);
    vm_space_put(p);
    return fails;
}

/* ---- 2 MiB pages: shared whole, split when written ---- */

static int test_large(void)
{
    struct vm_space *p = vm_space_create();
    long b = vm_mmap(p, 0, MiB(4), RW, ANON, NULL, 0);
    vm_test_put(p, b, 0);
    vm_test_put(p, b + MiB(2), 0);
    struct paging_leaf lp, lc;
    int fails = selftest_check(vm_test_leaf(p, b, &lp) == PAGING_LEVEL_2M && !fill(p, b, 1024, 0x5000),
                               "the parent has two 2 MiB pages");
    uint64_t frame5 = phys_of(p, b + 5 * PG);
    struct vm_space *c = vm_space_fork(p);
    fails += selftest_check(vm_test_leaf(c, b, &lc) == PAGING_LEVEL_2M && lc.phys == lp.phys && !lc.writable &&
                                read_only(p, b) && c->rss_anon == 1024,
                            "the child shares them whole, read-only (RSS %lu pages)", c->rss_anon);
    vm_test_put(c, b + 5 * PG, 0xc5);
    fails += selftest_check(vm_test_leaf(c, b, &lc) == PAGING_LEVEL_4K && phys_of(c, b + 5 * PG) != frame5 &&
                                vm_test_leaf(p, b, &lp) == PAGING_LEVEL_2M && vm_test_val(p, b + 5 * PG) == 0x5005 &&
                                vm_test_val(c, b + 6 * PG) == 0x5006 && phys_of(c, b + 6 * PG) == phys_of(p, b + 6 * PG),
                            "a write in the child splits its 2 MiB page and copies only the 4 KiB written");
    vm_test_put(p, b + 5 * PG, 0xb5);
    vm_test_put(p, b + 7 * PG, 0xb7);
    fails += selftest_check(phys_of(p, b + 5 * PG) == frame5 && phys_of(p, b + 7 * PG) != phys_of(c, b + 7 * PG) &&
                                vm_test_val(c, b + 5 * PG) == 0xc5 && vm_test_val(c, b + 7 * PG) == 0x5007 &&
                                vm_test_val(p, b + 5 * PG) == 0xb5,
                            "the parent writes in place what the child copied, and copies the rest");
    fails += selftest_check(vm_test_leaf(c, b + MiB(2), &lc) == PAGING_LEVEL_2M && vm_test_put(c, b + MiB(3), 1) == 0 &&
                                vm_test_leaf(p, b + MiB(2), &lp) == PAGING_LEVEL_2M &&
                                vm_test_val(p, b + MiB(3)) == 0x5000 + 768,
                            "the second block stays 2 MiB in the parent while the child writes it");
    unsigned bad = mismatches(c, b + MiB(2) + PG, 255, 0x5000 + 513) + mismatches(p, b + 8 * PG, 504, 0x5008);
    fails += selftest_check(!bad, "the rest reads the same on both sides (%u wrong)", bad);
    vm_space_put(p);
    bad = mismatches(c, b + 8 * PG, 504, 0x5008);
    fails += selftest_check(!bad && vm_test_put(c, b + 100 * PG, 9) == 0, "the child outlives the parent");
    vm_space_put(c);
    return fails;
}

/* ---- References, exec, many forks ---- */

static int test_refs_and_exec(void)
{
    struct vm_space *a = vm_space_create();
    long m = vm_mmap(a, 0, PG, RW, ANON, NULL, 0);
    vm_test_put(a, m, 42);
    vm_space_get(a); /* vfork: the child borrows the space */
    vm_space_put(a);
    int fails = selftest_check(vm_test_val(a, m) == 42, "a put that is not the last one keeps the space");
    struct vm_space *fresh = vm_space_create(); /* execve: a new space replaces the old */
    vm_activate(fresh);
    vm_space_put(a);
    fails += selftest_check(vm_loaded_here() == fresh && vm_mmap(fresh, m, PG, RW, ANON | MAP_FIXED, NULL, 0) == m &&
                                vm_test_val(fresh, m) == 0,
                            "exec: a new space, loaded, then the old one put: a fresh page at the same address");
    vm_activate(NULL);
    vm_space_put(fresh);
    return fails;
}

#define FORK_GENERATIONS 12
#define FORK_ROUNDS 40

static int test_many_forks(void)
{
    struct vm_space *gen[FORK_GENERATIONS];
    gen[0] = vm_space_create();
    long a = vm_mmap(gen[0], 0, 64 * PG, RW, ANON, NULL, 0);
    fill(gen[0], a, 64, 0x100);
    /* a chain: each generation forks the last and writes page g */
    unsigned n = 1, bad = 0;
    for (; n < FORK_GENERATIONS; n++) {
        if (!(gen[n] = vm_space_fork(gen[n - 1])))
            break;
        vm_test_put(gen[n], a + n * PG, 0x9000 + n);
    }
    for (unsigned g = 0; g < n; g++)
        for (unsigned i = 0; i < FORK_GENERATIONS; i++) {
            uint64_t want = i && i <= g ? 0x9000 + i : 0x100 + i;
            bad += vm_test_val(gen[g], a + i * PG) != want;
        }
    struct page *shared = pfn_to_page(phys_of(gen[n - 1], a + 40 * PG) >> PAGE_SHIFT);
    int fails = selftest_check(n == FORK_GENERATIONS && !bad && shared->refs == n && shared->map_count == n,
                               "%u generations of forks each see their own writes (%u wrong, a page shared %u times)",
                               n, bad, shared->refs);
    /* many children of one parent, created and destroyed in a rolling window */
    struct vm_space *kids[8] = { 0 };
    for (unsigned r = 0; r < FORK_ROUNDS; r++) {
        unsigned k = r % 8;
        if (kids[k])
            bad += vm_test_val(kids[k], a + (k + 20) * PG) != 0x7000 + k;
        vm_space_put(kids[k]);
        kids[k] = vm_space_fork(gen[0]);
        if (!kids[k] || vm_test_put(kids[k], a + (k + 20) * PG, 0x7000 + k))
            bad++;
        vm_test_put(gen[0], a + (r % 64) * PG, 0x100 + r % 64); /* the parent writes too */
    }
    for (unsigned k = 0; k < 8; k++)
        vm_space_put(kids[k]);
    for (unsigned g = n; g-- > 0;)
        vm_space_put(gen[g]);
    return fails + selftest_check(!bad, "%u forks of one parent in a rolling window of 8 (%u wrong)", FORK_ROUNDS, bad);
}

/* A kernel mapping in a new top-level slot (512 GiB further into KVIRT) made
 * while a space exists must be visible with that space loaded, and in a
 * space made afterwards. A miss would be a fatal kernel page fault. */
static int test_kernel_half(void)
{
    struct vm_space *old = vm_space_create();
    uintptr_t va = paging_reserve_kvirt(GiB(512) + PG);
    void *page = page_alloc_zeroed(0);
    if (!va || !page)
        return selftest_check(false, "kernel address space for the test");
    va += GiB(512); /* in a slot no earlier reservation reached */
    *(volatile uint64_t *)page = 0x5a5a;
    int err = paging_map(va, virt_to_phys(page), PG, MAP_WRITE);
    struct vm_space *young = vm_space_create();
    uint64_t seen[2];
    irqflags_t f = irq_save();
    vm_activate(old);
    seen[0] = *(volatile uint64_t *)va;
    vm_activate(young);
    seen[1] = *(volatile uint64_t *)va;
    vm_activate(NULL);
    irq_restore(f);
    paging_unmap(va, PG);
    page_free_virt(page, 0);
    vm_space_put(old);
    vm_space_put(young);
    return selftest_check(!err && seen[0] == 0x5a5a && seen[1] == 0x5a5a,
                          "a new top-level kernel mapping reaches a space made before it and one made after");
}

static int run_single_cpu_tests(void)
{
    int fails = test_private();
    fails += test_shared();
    fails += test_zero_and_flags();
    fails += test_large();
    fails += test_refs_and_exec();
    fails += test_many_forks();
    vm_activate(NULL);
    return fails;
}

static void fork_main(void *arg)
{
    (void)arg;
    /* twice: the first run also fills the allocators' caches (slabs kept
     * for reuse) that would otherwise look like lost pages */
    int fails = run_single_cpu_tests();
    uint64_t before = vm_test_free_pages();
    fails += run_single_cpu_tests();
    uint64_t after = vm_test_free_pages();
    fails += selftest_check(after == before, "every page comes back once all spaces are gone (free %lu -> %lu)",
                            before, after);
    fails += test_kernel_half();
    fails += vm_selftest_fork_smp();
    thread_exit(fails);
}

SELFTEST(vmfork, "several address spaces: fork with copy on write, switching, destroy, shootdowns per space", true)
{
    /* on CPU 0, so the cross-CPU parts own the others */
    return thread_join(thread_spawn("vmfork", fork_main, NULL, 0));
}
