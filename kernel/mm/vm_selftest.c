/* Self-test --test=vm: an address space is built and exercised through the
 * kernel calls (faults are simulated by calling vm_fault and checked in the
 * page tables); vm_selftest_smp.c adds the cross-CPU parts. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/selftest.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vm_internal.h"

int vm_selftest_smp(struct vm_space *vm);

#define PG PAGE_SIZE
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static uint64_t free_pages(void)
{
    irqflags_t f = irq_save();
    kmalloc_cpu_drain(cpu_current_id()); /* cached objects would hide slab pages */
    irq_restore(f);
    struct phys_stats st;
    phys_get_stats(&st);
    return st.free_pages;
}

static struct vm_space *test_vm; /* the space kptr and leaf look into */

/* The kernel's view of the byte at a user address, through the direct map. */
static uint8_t *kptr(uintptr_t va)
{
    struct paging_leaf l;
    if (!paging_user_lookup(&test_vm->pt, va, &l))
        return NULL;
    return (uint8_t *)phys_to_virt(l.phys + (va - l.va));
}

static bool contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncmp(hay, needle, n))
            return true;
    return false;
}

static int leaf(uintptr_t va, struct paging_leaf *l)
{
    return paging_user_lookup(&test_vm->pt, va, l);
}

static int test_demand_zero(struct vm_space *vm)
{
    int fails = 0;
    struct paging_leaf l;
    long a = vm_mmap(vm, 0, 16 * PG, RW, ANON, NULL, 0);
    fails += selftest_check(a > 0 && !(a & (PG - 1)) && (uintptr_t)a < vm->mmap_base,
                            "anonymous mmap below the mmap base (%#lx)", a);
    fails += selftest_check(leaf(a, &l) == 0, "nothing is mapped before the first touch");
    fails += selftest_check(vm_fault(vm, a, VM_FAULT_USER) == 0 && leaf(a, &l) == 1 && l.present &&
                                !l.writable && l.phys == page_to_phys(vm_zero_page),
                            "a read fault maps the shared zero page read-only");
    uint64_t rss = vm->rss_anon;
    fails += selftest_check(vm_fault(vm, a, VM_FAULT_WRITE | VM_FAULT_USER) == 0 && leaf(a, &l) &&
                                l.writable && l.phys != page_to_phys(vm_zero_page) && vm->rss_anon == rss + 1,
                            "a write fault replaces it with a private page (copy on write)");
    uint8_t *k = kptr(a);
    bool zero = true;
    for (unsigned i = 0; i < PG; i++)
        zero &= k[i] == 0;
    fails += selftest_check(zero, "the new page reads as zeros");
    memset(k, 0xab, PG);
    uint64_t phys = l.phys;
    fails += selftest_check(vm_fault(vm, a, VM_FAULT_WRITE) == 0 && leaf(a, &l) && l.phys == phys,
                            "a second fault on a resolved page changes nothing");
    fails += selftest_check(vm_fault(vm, a + 16 * PG, 0) == -EFAULT &&
                                vm_fault(vm, USER_TOP + 5, 0) == -EFAULT,
                            "faults outside any mapping are -EFAULT (SEGV_MAPERR)");
    fails += selftest_check(vm_fault(vm, a, VM_FAULT_EXEC) == -EACCES,
                            "executing non-executable memory is -EACCES (SEGV_ACCERR)");
    fails += selftest_check(vm_munmap(vm, a, 16 * PG) == 0 && leaf(a, &l) == 0 &&
                                vm->rss_anon == rss,
                            "munmap removes the pages and the RSS count");
    return fails;
}

static int test_munmap_frees(struct vm_space *vm)
{
    uint64_t before = free_pages();
    long a = vm_mmap(vm, 0, 64 * PG, RW, ANON, NULL, 0);
    int err = 0;
    for (unsigned i = 0; i < 64 && !err; i++)
        err = vm_fault(vm, a + i * PG, VM_FAULT_WRITE);
    uint64_t during = free_pages();
    int fails = selftest_check(!err && before - during >= 64, "64 touched pages use %lu pages",
                               before - during);
    /* partial unmaps split the VMA; the rest goes after */
    err = vm_munmap(vm, a + 10 * PG, 5 * PG);
    fails += selftest_check(!err && vm_fault(vm, a + 12 * PG, 0) == -EFAULT &&
                                vm_fault(vm, a + 15 * PG, 0) == 0 && vm_fault(vm, a + 9 * PG, 0) == 0,
                            "munmap of the middle leaves both sides mapped");
    err = vm_munmap(vm, a, 64 * PG);
    uint64_t after = free_pages();
    fails += selftest_check(!err && after + 4 >= before,
                            "munmap frees pages and page tables (free %lu -> %lu -> %lu)", before, during,
                            after);
    fails += selftest_check(vm_munmap(vm, a + 1, PG) == -EINVAL && vm_munmap(vm, a, 0) == -EINVAL &&
                                vm_munmap(vm, a, PG) == 0,
                            "munmap: unaligned or empty is EINVAL, nothing mapped is fine");
    return fails;
}

static int test_protection(struct vm_space *vm)
{
    struct paging_leaf l;
    long a = vm_mmap(vm, 0, 4 * PG, RW, ANON, NULL, 0);
    for (unsigned i = 0; i < 4; i++) {
        vm_fault(vm, a + i * PG, VM_FAULT_WRITE);
        memset(kptr(a + i * PG), 0x10 + i, PG);
    }
    unsigned vmas = vm->vmas.count;
    int fails = 0;
    fails += selftest_check(vm_mprotect(vm, a + PG, PG, PROT_READ) == 0 && vm->vmas.count == vmas + 2 &&
                                leaf(a + PG, &l) && l.present && !l.writable,
                            "mprotect of one page splits the VMA in three, the page is read-only");
    fails += selftest_check(vm_fault(vm, a + PG, VM_FAULT_WRITE) == -EACCES &&
                                vm_fault(vm, a, VM_FAULT_WRITE) == 0,
                            "a write to it is -EACCES, its neighbour is still writable");
    fails += selftest_check(vm_mprotect(vm, a + PG, PG, PROT_NONE) == 0 && leaf(a + PG, &l) &&
                                !l.present && l.protnone && vm_fault(vm, a + PG, 0) == -EACCES,
                            "PROT_NONE keeps the page but denies reads");
    fails += selftest_check(vm_mprotect(vm, a, 4 * PG, RW) == 0 && vm->vmas.count == vmas &&
                                vm_fault(vm, a + PG, VM_FAULT_WRITE) == 0 && kptr(a + PG)[100] == 0x11,
                            "back to read-write: one VMA again and the data survived");
    fails += selftest_check(vm_mprotect(vm, a + 1, PG, RW) == -EINVAL &&
                                vm_mprotect(vm, a, PG, 0x100) == -EINVAL &&
                                vm_mprotect(vm, a + 3 * PG, 2 * PG, RW) == -ENOMEM &&
                                vm_mprotect(vm, a, 0, RW) == 0,
                            "mprotect errors: unaligned, bad bits, a hole; zero length is fine");
    vm_munmap(vm, a, 4 * PG);
    return fails;
}

static int test_large_pages(struct vm_space *vm)
{
    struct paging_leaf l;
    uint64_t before = free_pages();
    long a = vm_mmap(vm, 0, MiB(8), RW, ANON, NULL, 0);
    int fails = selftest_check(a > 0 && IS_ALIGNED(a, LARGE_PAGE_SIZE),
                               "an 8 MiB anonymous mapping starts on a 2 MiB boundary (%#lx)", a);
    uint64_t rss = vm->rss_anon;
    int err = vm_fault(vm, a + 5 * PG, VM_FAULT_WRITE);
    fails += selftest_check(!err && leaf(a + 5 * PG, &l) == PAGING_LEVEL_2M && l.writable &&
                                vm->rss_anon == rss + 512,
                            "the first touch maps a whole 2 MiB page");
    uint8_t *k = kptr(a);
    bool zero = k && k[0] == 0 && k[LARGE_PAGE_SIZE - 1] == 0 && k[12345] == 0;
    fails += selftest_check(zero, "it is zeroed");
    if (k)
        for (unsigned i = 0; i < 512; i++)
            k[i * PG] = (uint8_t)i;
    fails += selftest_check(vm_fault(vm, a + LARGE_PAGE_SIZE, 0) == 0 &&
                                leaf(a + LARGE_PAGE_SIZE, &l) == PAGING_LEVEL_2M,
                            "a read fault in the next block gets a large page too");
    err = vm_munmap(vm, a + 2 * PG, PG);
    bool split = leaf(a, &l) == PAGING_LEVEL_4K && leaf(a + 2 * PG, &l) == 0 &&
                 leaf(a + 3 * PG, &l) == PAGING_LEVEL_4K && *kptr(a + 3 * PG) == 3 && *kptr(a + 511 * PG) == 255;
    fails += selftest_check(!err && split && vm->rss_anon == rss + 1023,
                            "munmap of one 4 KiB page splits the large page, the rest keeps its data");
    err = vm_mprotect(vm, a + LARGE_PAGE_SIZE + 7 * PG, PG, PROT_READ);
    fails += selftest_check(!err && leaf(a + LARGE_PAGE_SIZE + 7 * PG, &l) == 1 && !l.writable &&
                                leaf(a + LARGE_PAGE_SIZE, &l) == 1 && l.writable,
                            "mprotect inside a large page splits it too");
    long b = vm_mmap(vm, 0, MiB(4), RW, ANON, NULL, 0);
    err = vm_madvise(vm, b, MiB(4), MADV_NOHUGEPAGE);
    fails += selftest_check(!err && vm_fault(vm, b, VM_FAULT_WRITE) == 0 && leaf(b, &l) == 1,
                            "MADV_NOHUGEPAGE: 4 KiB pages only");
    vm_munmap(vm, b, MiB(4));
    long c = vm_mmap(vm, 0, MiB(4), RW, ANON | MAP_STACK, NULL, 0);
    fails += selftest_check(vm_fault(vm, c + MiB(2), VM_FAULT_WRITE) == 0 && leaf(c + MiB(2), &l) == 1,
                            "MAP_STACK memory gets 4 KiB pages (as Linux)");
    vm_munmap(vm, c, MiB(4));
    vm_munmap(vm, a, MiB(8));
    uint64_t after = free_pages();
    fails += selftest_check(after + 4 >= before, "all of it is freed (free %lu -> %lu)", before, after);
    return fails;
}

static int test_mremap(struct vm_space *vm)
{
    struct paging_leaf l;
    int fails = 0;
    long a = vm_mmap(vm, 0, 4 * PG, RW, ANON, NULL, 0);
    for (unsigned i = 0; i < 4; i++) {
        vm_fault(vm, a + i * PG, VM_FAULT_WRITE);
        *kptr(a + i * PG) = (uint8_t)(0x40 + i);
    }
    /* the space just above a (top-down allocation) is free: grows in place */
    vm_munmap(vm, a + 4 * PG, 4 * PG);
    long r = vm_mremap(vm, a, 4 * PG, 8 * PG, 0, 0);
    fails += selftest_check(r == a && vma_find(&vm->vmas, a + 7 * PG) != NULL,
                            "mremap grows in place when the space after is free");
    long blocker = vm_mmap(vm, a + 8 * PG, PG, PROT_READ, ANON | MAP_FIXED, NULL, 0);
    fails += selftest_check(vm_mremap(vm, a, 8 * PG, 16 * PG, 0, 0) == -ENOMEM,
                            "without MREMAP_MAYMOVE a blocked mapping cannot grow (ENOMEM)");
    r = vm_mremap(vm, a, 8 * PG, 16 * PG, MREMAP_MAYMOVE, 0);
    bool moved = r > 0 && r != a && *kptr(r) == 0x40 && *kptr(r + 3 * PG) == 0x43 &&
                 leaf(a, &l) == 0 && !vma_find(&vm->vmas, a);
    fails += selftest_check(moved, "MREMAP_MAYMOVE moves the pages (%#lx -> %#lx), the old range is gone", a, r);
    fails += selftest_check(vm_fault(vm, r + 12 * PG, VM_FAULT_WRITE) == 0 && kptr(r + 12 * PG)[9] == 0,
                            "the grown part is fresh zeroed memory");
    fails += selftest_check(vm_mremap(vm, r, 16 * PG, 2 * PG, 0, 0) == r && !vma_find(&vm->vmas, r + 2 * PG),
                            "shrinking unmaps the tail");
    fails += selftest_check(vm_mremap(vm, r + 1, PG, PG, 0, 0) == -EINVAL &&
                                vm_mremap(vm, r, PG, 0, MREMAP_MAYMOVE, 0) == -EINVAL &&
                                vm_mremap(vm, r, PG, 2 * PG, MREMAP_FIXED, r + MiB(1)) == -EINVAL &&
                                vm_mremap(vm, r + MiB(64), PG, 2 * PG, MREMAP_MAYMOVE, 0) == -EFAULT,
                            "mremap errors: unaligned, zero size, FIXED without MAYMOVE, unmapped");
    /* DONTUNMAP: the old range stays, empty */
    long d = vm_mremap(vm, r, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    fails += selftest_check(d > 0 && *kptr(d) == 0x40 && vma_find(&vm->vmas, r) && leaf(r, &l) == 0 &&
                                vm_fault(vm, r, 0) == 0 && kptr(r)[0] == 0,
                            "MREMAP_DONTUNMAP leaves the old range mapped and empty");
    /* a large page moved to a 2 MiB aligned place stays large */
    long big = vm_mmap(vm, 0, MiB(4), RW, ANON, NULL, 0);
    vm_fault(vm, big, VM_FAULT_WRITE);
    *kptr(big + 100) = 0x5a;
    long dst = vm_mmap(vm, 0, MiB(4), PROT_READ, ANON, NULL, 0);
    r = vm_mremap(vm, big, MiB(4), MiB(4), MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    fails += selftest_check(r == dst && leaf(dst, &l) == PAGING_LEVEL_2M && *kptr(dst + 100) == 0x5a &&
                                l.writable,
                            "MREMAP_FIXED replaces the target; a large page stays large");
    r = vm_mremap(vm, dst, MiB(4), MiB(4), MREMAP_MAYMOVE | MREMAP_FIXED, big + PG);
    fails += selftest_check(r == (long)(big + PG) && leaf(r, &l) == 1 && *kptr(r + 100) == 0x5a,
                            "moved to an unaligned place it becomes 4 KiB pages");
    vm_munmap(vm, r, MiB(4));
    vm_munmap(vm, blocker, PG);
    vm_munmap(vm, d, 2 * PG);
    vm_munmap(vm, a, 32 * PG);
    return fails;
}

static int test_brk_and_madvise(struct vm_space *vm)
{
    struct paging_leaf l;
    int fails = 0;
    uintptr_t base = 0x10000000 + 0x123;
    vm_set_brk_base(vm, base);
    fails += selftest_check(vm_brk(vm, 0) == base && vm_brk(vm, base - 1) == base,
                            "brk(0) and a break below the start return the current break");
    uintptr_t top = base + 3 * PG;
    fails += selftest_check(vm_brk(vm, top) == top && vma_find(&vm->vmas, top - 1) &&
                                vma_find(&vm->vmas, top - 1)->name &&
                                !strcmp(vma_find(&vm->vmas, top - 1)->name, "[heap]") &&
                                vm_fault(vm, top - 1, VM_FAULT_WRITE) == 0,
                            "brk grows a [heap] mapping");
    fails += selftest_check(vm_brk(vm, base + PG) == base + PG && vm_fault(vm, base + 2 * PG, 0) == -EFAULT,
                            "brk shrinks it");
    vm_mmap(vm, ALIGN_UP(base + PG, PG) + PG, PG, PROT_READ, ANON | MAP_FIXED, NULL, 0);
    fails += selftest_check(vm_brk(vm, base + 8 * PG) == base + PG,
                            "a break that would run into another mapping fails (returns the old one)");
    vm_munmap(vm, ALIGN_UP(base + PG, PG) + PG, PG);
    long a = vm_mmap(vm, 0, 8 * PG, RW, ANON, NULL, 0);
    for (unsigned i = 0; i < 8; i++) {
        vm_fault(vm, a + i * PG, VM_FAULT_WRITE);
        memset(kptr(a + i * PG), 0x77, PG);
    }
    uint64_t rss = vm->rss_anon;
    int err = vm_madvise(vm, a + 2 * PG, 4 * PG, MADV_DONTNEED);
    fails += selftest_check(!err && leaf(a + 2 * PG, &l) == 0 && vm->rss_anon == rss - 4 &&
                                vm_fault(vm, a + 3 * PG, 0) == 0 && kptr(a + 3 * PG)[7] == 0 &&
                                kptr(a + PG)[7] == 0x77,
                            "MADV_DONTNEED frees the pages: the next touch reads zeros");
    fails += selftest_check(vm_madvise(vm, a, 8 * PG, MADV_FREE) == 0 && leaf(a, &l) == 0,
                            "MADV_FREE frees them too");
    fails += selftest_check(vm_madvise(vm, a, PG, 12345) == -EINVAL && vm_madvise(vm, a + 1, PG, 0) == -EINVAL &&
                                vm_madvise(vm, a, 16 * PG, MADV_WILLNEED) == -ENOMEM &&
                                vm_madvise(vm, a, PG, MADV_MERGEABLE) == -EINVAL,
                            "madvise errors: unknown advice, unaligned, a hole, KSM");
    unsigned char vec[8];
    vm_fault(vm, a + PG, 0);
    fails += selftest_check(vm_mincore(vm, a, 8 * PG, vec) == 0 && vec[0] == 0 && vec[1] == 1 &&
                                vm_mincore(vm, a, 9 * PG, vec) == -ENOMEM,
                            "mincore reports what is resident and ENOMEM for a hole");
    fails += selftest_check(vm_mlock(vm, a + 5, PG, 0) == 0 && leaf(a, &l) && vm_munlock(vm, a, PG) == 0 &&
                                vm_mlock(vm, a, PG, 2) == -EINVAL && vm_mlockall(vm, MCL_ONFAULT) == -EINVAL,
                            "mlock populates and is accepted; bad flags are EINVAL");
    fails += selftest_check(vm_msync(vm, a, PG, MS_SYNC) == 0 && vm_msync(vm, a, PG, MS_SYNC | MS_ASYNC) == -EINVAL &&
                                vm_msync(vm, a + 1, PG, 0) == -EINVAL && vm_msync(vm, a, 9 * PG, MS_ASYNC) == -ENOMEM,
                            "msync validates its arguments");
    vm_munmap(vm, a, 8 * PG);
    return fails;
}

static int test_mmap_args(struct vm_space *vm)
{
    int fails = 0;
    long a = vm_mmap(vm, 0x200000000, PG, RW, ANON, NULL, 0);
    fails += selftest_check(a == 0x200000000, "a free hint is honoured");
    fails += selftest_check(vm_mmap(vm, 0x200000000, PG, RW, ANON, NULL, 0) != a,
                            "an occupied hint is not");
    fails += selftest_check(vm_mmap(vm, a, PG, RW, ANON | MAP_FIXED_NOREPLACE, NULL, 0) == -EEXIST,
                            "MAP_FIXED_NOREPLACE over a mapping is EEXIST");
    fails += selftest_check(vm_mmap(vm, a, PG, PROT_READ, ANON | MAP_FIXED, NULL, 0) == a &&
                                vma_find(&vm->vmas, a)->prot == PROT_READ,
                            "MAP_FIXED replaces it");
    fails += selftest_check(vm_mmap(vm, 0, 0, RW, ANON, NULL, 0) == -EINVAL &&
                                vm_mmap(vm, 0, PG, RW, MAP_ANONYMOUS, NULL, 0) == -EINVAL &&
                                vm_mmap(vm, 0, PG, RW, MAP_ANONYMOUS | MAP_SHARED_VALIDATE, NULL, 0) == -EINVAL &&
                                vm_mmap(vm, a + 1, PG, RW, ANON | MAP_FIXED, NULL, 0) == -EINVAL &&
                                vm_mmap(vm, 0, PG, RW, ANON, NULL, 1) == -EINVAL,
                            "EINVAL: zero length, no type, bad type, unaligned fixed address or offset");
    fails += selftest_check(vm_mmap(vm, 0, PG, RW, MAP_PRIVATE, NULL, 0) == -EBADF &&
                                vm_mmap(vm, 0, -PG, RW, ANON, NULL, 0) == -ENOMEM &&
                                vm_mmap(vm, USER_TOP - PG, 2 * PG, RW, ANON | MAP_FIXED, NULL, 0) == -ENOMEM &&
                                vm_mmap(vm, 0, GiB(64), RW, ANON, NULL, 0) == -ENOMEM &&
                                vm_mmap(vm, 0, PG, RW, ANON | MAP_HUGETLB, NULL, 0) == -ENOMEM,
                            "EBADF without a file; ENOMEM: too long, past the top, overcommit, hugetlb");
    long nr = vm_mmap(vm, 0, GiB(64), RW, ANON | MAP_NORESERVE, NULL, 0);
    fails += selftest_check(nr > 0, "MAP_NORESERVE may reserve more than RAM");
    vm_munmap(vm, nr, GiB(64));
    long s = vm_mmap(vm, 0, 2 * PG, RW, MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
    bool stored = s > 0 && vm_fault(vm, s, VM_FAULT_WRITE) == 0 && kptr(s);
    if (stored)
        *kptr(s) = 0x3c;
    fails += selftest_check(stored && vm_madvise(vm, s, 2 * PG, MADV_DONTNEED) == 0 && !kptr(s) &&
                                vm_fault(vm, s, 0) == 0 && kptr(s) && *kptr(s) == 0x3c,
                            "shared anonymous memory keeps its data through MADV_DONTNEED (its object has it)");
    vm_munmap(vm, s, 2 * PG);
    long p = vm_mmap(vm, 0, 4 * PG, RW, ANON | MAP_POPULATE, NULL, 0);
    struct paging_leaf l;
    fails += selftest_check(p > 0 && leaf(p + 3 * PG, &l) && l.writable, "MAP_POPULATE prefaults for writing");
    vm_munmap(vm, p, 4 * PG);
    vm_munmap(vm, a, PG);
    return fails;
}

/* Linux's exact text: a trailing space when there is no name, names at
 * column 73, and smaps figures for what was touched. */
static int test_maps_format(struct vm_space *vm)
{
    static char text[4096];
    long a = vm_mmap(vm, 0x500000000, 3 * PG, RW, ANON | MAP_FIXED, NULL, 0);
    long s = vm_mmap(vm, 0x500010000, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
    vm_fault(vm, a, VM_FAULT_WRITE);
    vm_fault(vm, a + PG, VM_FAULT_WRITE);
    vm_fault(vm, a + 2 * PG, 0); /* the zero page: not counted */
    size_t n = vm_format_maps(vm, text, sizeof(text));
    int fails = selftest_check(n < sizeof(text) && contains(text, "500000000-500003000 rw-p 00000000 00:00 0 \n"),
                               "maps: an anonymous mapping ends with a space");
    char want[128];
    int w = snprintf(want, sizeof(want), "500010000-500011000 r--s 00000000 00:00 0 ");
    snprintf(want + w, sizeof(want) - (size_t)w, "%*s/dev/zero (deleted)\n", 73 - w, "");
    fails += selftest_check(contains(text, want), "maps: shared anonymous memory is /dev/zero (deleted) at column 73");
    struct vm_smaps sm;
    fails += selftest_check(vm_get_smaps(vm, a, &sm) && sm.size == 3 * PG && sm.rss == 2 * PG &&
                                sm.anonymous == 2 * PG && sm.pss == 2 * PG && sm.private_dirty + sm.private_clean == 2 * PG,
                            "smaps: Size 12 kB, Rss = Pss = Anonymous = 8 kB (the zero page is not counted)");
    n = vm_format_smaps(vm, text, sizeof(text));
    fails += selftest_check(n > 0 && contains(text, "Rss:                   8 kB\n") &&
                                contains(text, "KernelPageSize:        4 kB\n") && contains(text, "VmFlags: rd wr mr mw me ac \n"),
                            "smaps: Linux's field layout");
    struct vm_stats st;
    vm_get_stats(vm, &st);
    fails += selftest_check(st.rss >= 2 * PG && st.vma_count == vm->vmas.count && st.size == vm->vmas.pages * PG,
                            "status figures: VmRSS %lu kB, VmSize %lu kB, %u mappings", st.rss >> 10, st.size >> 10,
                            st.vma_count);
    /* truncation: snprintf's convention */
    size_t whole = vm_format_maps(vm, text, sizeof(text));
    fails += selftest_check(vm_format_maps(vm, text, 10) == whole && strlen(text) == 9,
                            "a short buffer gets a NUL-terminated prefix and the full length back");
    vm_munmap(vm, a, 3 * PG);
    vm_munmap(vm, s, PG);
    return fails;
}

static int test_stack(struct vm_space *vm)
{
    int fails = 0;
    uintptr_t top = 0x7ff000000000;
    long s = vm_map_stack(vm, top, 16 * PG);
    fails += selftest_check(s == (long)(top - 16 * PG), "the main stack is mapped below its top");
    fails += selftest_check(vm_fault(vm, top - 40 * PG, VM_FAULT_WRITE) == 0 &&
                                vma_find(&vm->vmas, top - 40 * PG)->start == top - 40 * PG,
                            "a fault below it grows it");
    fails += selftest_check(vm_fault(vm, top - MiB(9), VM_FAULT_WRITE) == -EFAULT,
                            "not beyond the stack limit (8 MiB)");
    long g = vm_mmap(vm, top - MiB(2), PG, RW, ANON | MAP_FIXED, NULL, 0);
    fails += selftest_check(g > 0 && vm_fault(vm, top - MiB(2) + 2 * PG, VM_FAULT_WRITE) == -EFAULT,
                            "nor into the guard gap above another mapping");
    fails += selftest_check(vm_pick_address(vm, top - 16 * PG - MiB(1) + PG, PG, ANON) != top - 16 * PG - MiB(1) + PG,
                            "a hint inside the guard gap below a stack is not taken");
    char maps[1024], want[160];
    size_t n = vm_format_maps(vm, maps, sizeof(maps));
    int w = snprintf(want, sizeof(want), "%08lx-%08lx rw-p 00000000 00:00 0 ", top - 40 * PG, top);
    snprintf(want + w, sizeof(want) - (size_t)w, "%*s[stack]\n", 73 - w, "");
    fails += selftest_check(n < sizeof(maps) && contains(maps, want), "/proc/self/maps shows it: %.*s",
                            (int)strlen(want) - 1, want);
    vm_munmap(vm, g, PG);
    vm_munmap(vm, top - 40 * PG, 40 * PG);
    return fails + test_maps_format(vm);
}

SELFTEST(vm, "address spaces: demand paging, COW, 2 MiB pages, munmap/mprotect/mremap/brk, TLB shootdown", true)
{
    uint64_t before = free_pages();
    struct vm_space *vm = vm_space_create();
    if (selftest_check(vm != NULL, "an address space is created"))
        return 1;
    test_vm = vm;
    struct vm_space *other = vm_space_create();
    int fails = selftest_check(other && other->pt.pml4 != vm->pt.pml4 && other->pt.pml4 != paging_kernel_root(),
                               "a second one has its own page-table root");
    if (other)
        vm_space_put(other);
    fails += test_demand_zero(vm);
    fails += test_munmap_frees(vm);
    fails += test_protection(vm);
    fails += test_large_pages(vm);
    fails += test_mremap(vm);
    fails += test_brk_and_madvise(vm);
    fails += test_mmap_args(vm);
    fails += test_stack(vm);
    fails += vm_selftest_smp(vm);
    vm_space_put(vm);
    uint64_t after = free_pages();
    fails += selftest_check(after + 8 >= before, "destroying the space gives the memory back (%lu -> %lu)",
                            before, after);
    return fails;
}
