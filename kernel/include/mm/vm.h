/* Address spaces: each process's mappings (VMAs), its own page-table root
 * (the lower half; the kernel's upper half is shared), the heap, the mmap
 * area and stack growth, page faults, fork with copy on write, switching
 * between spaces on context switches, and the figures /proc shows. */
#pragma once

#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/tlb.h"
#include "core/mutex.h"
#include "mm/mman.h"
#include "mm/vma.h"

struct file;

/* vm_fault flags: what the faulting access was. */
#define VM_FAULT_WRITE 1
#define VM_FAULT_EXEC 2
#define VM_FAULT_USER 4

#define VM_MMAP_MIN_ADDR 0x10000ul       /* hints below this are raised to it */
#define VM_DEFAULT_MMAP_BASE (USER_TOP - MiB(128)) /* Linux's layout without ASLR */
#define VM_DEFAULT_STACK_LIMIT MiB(8)    /* RLIMIT_STACK */
#define VM_MAX_MAP_COUNT 65530           /* Linux's vm.max_map_count */

struct vm_space {
    struct mutex lock;          /* the VMAs, the counters and the page tables' contents */
    struct paging_root pt;      /* this space's page tables */
    struct tlb_space tlb;       /* CPUs with pt loaded (lazily too), running it, stale: shootdowns */
    uint32_t refs;              /* vm_space_get/put (atomic) */
    struct vma_tree vmas;
    uintptr_t mmap_base;        /* top-down mmap allocation starts below this */
    uintptr_t brk_start, brk;   /* the heap is [brk_start, PAGE_ALIGN(brk)) */
    uint64_t stack_limit;       /* bytes a grows-down VMA may reach */
    uint64_t rss_anon, rss_file; /* mapped pages (4 KiB units), not the zero page */
    uint64_t peak_rss, peak_pages;
    uint64_t faults;            /* resolved faults (minor: nothing is read from disk here) */
    bool lock_future;           /* mlockall(MCL_FUTURE) */
};

/* Summary figures for /proc/self/status and statm (bytes unless noted). */
struct vm_stats {
    uint64_t size, peak_size;   /* VmSize, VmPeak */
    uint64_t rss, peak_rss;     /* VmRSS, VmHWM */
    uint64_t rss_anon, rss_file;
    uint64_t data, stack, exec, locked; /* VmData, VmStk, VmExe, VmLck */
    uint64_t faults;
    unsigned vma_count;
};

/* Per-VMA memory figures, as /proc/self/smaps shows them (bytes). */
struct vm_smaps {
    uint64_t size, rss, pss, pss_dirty, anonymous, shared_clean, shared_dirty, private_clean,
        private_dirty, referenced, locked;
    uint64_t anon_huge;         /* AnonHugePages: 2 MiB pages */
};

/* ---- Life cycle and layout (the ELF loader) ---- */

/* Memory init: the zero page and the TLB shootdown handler. */
void vm_init(void);

/* An empty address space with one reference; NULL when out of memory. */
struct vm_space *vm_space_create(void);
/* A copy of parent for fork, with one reference: the same VMAs (names, flags,
 * files, brk and mmap bases, limits; not MADV_DONTFORK ones, and without
 * mlock's VMA_LOCKED or MCL_FUTURE, as Linux); shared mappings map the same
 * pages; private ones become copy on write in both spaces (parent's CPUs are
 * flushed before this returns); MADV_WIPEONFORK ones start empty. NULL when
 * out of memory. Thread context; takes parent->lock. */
struct vm_space *vm_space_fork(struct vm_space *parent);
/* References (vfork, clone(CLONE_VM) between processes): get returns vm;
 * the last put destroys the space (put of NULL does nothing). Put may sleep:
 * thread context, interrupts enabled, not from the scheduler's reaping. */
struct vm_space *vm_space_get(struct vm_space *vm);
void vm_space_put(struct vm_space *vm);
/* Destroy now (the caller holds the only reference): every CPU that still
 * has the space loaded switches to the kernel's root first, then every page
 * goes back through its reference count. Thread context. */
void vm_space_destroy(struct vm_space *vm);

/* Load vm's page tables on this CPU (NULL: the kernel's root) and record it
 * in the CPU masks. Any context; the caller keeps vm alive while loaded. */
void vm_activate(struct vm_space *vm);
/* The scheduler's hook, for every context switch (interrupts off): a thread
 * of a process (next_vm non-NULL) gets its space loaded unless it already is;
 * a kernel thread (next_vm NULL) keeps whatever is loaded (lazy: no CR3
 * write, and shootdowns of that space skip this CPU until it runs the space
 * again). prev_vm is only informational and never dereferenced. A kernel
 * thread that reads a space's memory through the MMU calls vm_activate with
 * interrupts off around the access. */
void vm_switch_to(struct vm_space *prev_vm, struct vm_space *next_vm);
/* The space this CPU has loaded (NULL: the kernel's root). */
struct vm_space *vm_loaded_here(void);

/* The heap starts at addr (the end of the program's bss); brk(0) returns it. */
void vm_set_brk_base(struct vm_space *vm, uintptr_t addr);
/* Top-down mmap allocation starts below addr (page aligned down). */
void vm_set_mmap_base(struct vm_space *vm, uintptr_t addr);
/* RLIMIT_STACK: how large grows-down VMAs may become. */
void vm_set_stack_limit(struct vm_space *vm, uint64_t bytes);
/* The main stack: [top - size, top) read-write, growing down on faults up to
 * the stack limit, named "[stack]". Returns top - size or -errno. */
long vm_map_stack(struct vm_space *vm, uintptr_t top, size_t size);
/* Kernel pages (vDSO, vvar) at addr (0: anywhere, top-down), read-only unless
 * prot says otherwise; phys[] gives each page and must outlive the mapping.
 * Returns the address or -errno. */
long vm_map_special(struct vm_space *vm, uintptr_t addr, size_t len, int prot,
                    const uint64_t *phys, const char *name);

/* ---- The memory system calls, for kernel callers (same semantics) ---- */

/* mmap(2): f is NULL for MAP_ANONYMOUS (the VMA takes its own file reference). */
long vm_mmap(struct vm_space *vm, uintptr_t addr, size_t len, int prot, int flags,
             struct file *f, uint64_t off);
int vm_munmap(struct vm_space *vm, uintptr_t addr, size_t len);
int vm_mprotect(struct vm_space *vm, uintptr_t addr, size_t len, int prot);
long vm_mremap(struct vm_space *vm, uintptr_t old_addr, size_t old_len, size_t new_len,
               int flags, uintptr_t new_addr);
int vm_madvise(struct vm_space *vm, uintptr_t addr, size_t len, int advice);
/* brk(2): the new break, or the current one when the request fails. */
uintptr_t vm_brk(struct vm_space *vm, uintptr_t addr);
/* mincore(2) into a kernel buffer of DIV_ROUND_UP(len, 4096) bytes. */
int vm_mincore(struct vm_space *vm, uintptr_t addr, size_t len, unsigned char *vec);
int vm_msync(struct vm_space *vm, uintptr_t addr, size_t len, int flags);
int vm_mlock(struct vm_space *vm, uintptr_t addr, size_t len, unsigned flags);
int vm_munlock(struct vm_space *vm, uintptr_t addr, size_t len);
int vm_mlockall(struct vm_space *vm, int flags);
int vm_munlockall(struct vm_space *vm);
/* Fault in every page of [addr, addr+len) now (writable private pages for
 * writing). 0, -ENOMEM (a hole, or out of memory) or a fault error. */
int vm_populate(struct vm_space *vm, uintptr_t addr, size_t len);

/* ---- Page faults ----
 * Resolve a fault at addr. 0: retry the access. -EFAULT: no mapping
 * (SIGSEGV/SEGV_MAPERR); -EACCES: the mapping forbids it (SEGV_ACCERR);
 * -ENXIO or -EIO: file page beyond the end or unreadable (SIGBUS/BUS_ADRERR);
 * -ENOMEM: out of memory. Thread context, interrupts enabled (it may sleep);
 * the caller must not hold vm->lock. */
int vm_fault(struct vm_space *vm, uintptr_t addr, unsigned flags);

/* Copy to or from vm's memory at addr without loading vm (another
 * process's: process_vm_readv/writev, /proc/PID/mem). Pages are faulted in as
 * the access needs them (a write to a page shared since a fork copies it
 * first). Bytes copied (fewer when a page is not accessible after some were),
 * -EFAULT or -ENOMEM. buf is kernel memory; thread context. */
long vm_access(struct vm_space *vm, uintptr_t addr, void *buf, size_t len, bool write);

/* Where a futex on a MAP_SHARED mapping lives, so that every process
 * mapping the page finds the same waiters: 1 with *phys set (the page is
 * faulted in, written if the mapping allows it, so it is not the zero page),
 * 0 for a private mapping (keyed by space and address instead), -EFAULT when
 * nothing is mapped. Thread context; takes vm->lock. */
int vm_shared_page_phys(struct vm_space *vm, uintptr_t addr, uint64_t *phys);

/* ---- /proc ---- */

/* /proc/self/maps in Linux's exact format. Writes at most size-1 bytes plus a
 * NUL and returns the length the whole text needs (like snprintf). */
size_t vm_format_maps(struct vm_space *vm, char *buf, size_t size);
/* /proc/self/smaps (each maps line followed by its figures) and
 * smaps_rollup (one [rollup] block); same return convention. */
size_t vm_format_smaps(struct vm_space *vm, char *buf, size_t size);
size_t vm_format_smaps_rollup(struct vm_space *vm, char *buf, size_t size);
void vm_get_stats(struct vm_space *vm, struct vm_stats *out);
/* Figures of the VMA containing addr (false when none), or of all (rollup). */
bool vm_get_smaps(struct vm_space *vm, uintptr_t addr, struct vm_smaps *out);
void vm_get_smaps_total(struct vm_space *vm, struct vm_smaps *out);
