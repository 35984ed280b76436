/* Shared internals of the address-space code (kernel/mm/vm_*.c): the VFS
 * glue, page accounting, and page-table operations that run with vm->lock
 * held. Not for use outside kernel/mm. */
#pragma once

#include "arch/paging.h"
#include "arch/tlb.h"
#include "mm/page.h"
#include "mm/phys.h"
#include "mm/vm.h"

/* ---- VFS glue (vm_file.c): the only place mm touches the file system ---- */

/* The page of f at pgoff with a reference for the caller; -ENXIO beyond the
 * end, -ENODEV when the file cannot be mapped, other -errno on I/O errors. */
int vm_file_page(struct file *f, uint64_t pgoff, struct page **out);
/* The file's path for /proc/self/maps ("" when unknown); its length. */
size_t vm_file_name(struct file *f, char *buf, size_t size);
/* Device and inode numbers for /proc/self/maps (0 when unknown). */
void vm_file_ids(struct file *f, uint32_t *dev_major, uint32_t *dev_minor, uint64_t *ino);
/* Can f be mapped this way? 0, -EACCES or -ENODEV; *maywrite tells whether
 * a shared mapping may ever become writable. */
int vm_file_check(struct file *f, int prot, bool shared, bool *maywrite);
/* Write a shared mapping's dirty pages back (msync MS_SYNC). */
int vm_file_sync(struct file *f);
/* The open file behind descriptor fd of the current process, with a
 * reference, or NULL. */
struct file *vm_file_from_fd(int fd);

/* ---- Shared anonymous objects (vm_anon.c) ---- */

/* An empty object with one reference (the first VMA's); NULL when out of memory. */
struct vm_anon *vm_anon_create(void);
/* The page at index with a reference for the caller, or NULL when there is none yet. */
struct page *vm_anon_lookup(struct vm_anon *a, uint64_t index);
/* Put fresh (a zeroed page, whose reference the caller gives) at index unless
 * a page is there already; returns the page now at index with a reference for
 * the caller (fresh's is dropped if unused), NULL when out of memory. */
struct page *vm_anon_insert(struct vm_anon *a, uint64_t index, struct page *fresh);
/* Drop the object's pages [first, first+count) (MADV_REMOVE): zeros next time. */
void vm_anon_punch(struct vm_anon *a, uint64_t first, uint64_t count);
/* Pages the object holds. */
uint64_t vm_anon_pages(struct vm_anon *a);

/* ---- Pages ---- */

extern struct page *vm_zero_page;  /* shared, read-only, permanently referenced */
extern bool vm_large_pages;        /* 2 MiB pages for anonymous memory */

/* A counted page for anonymous memory (PAGE_FLAG_ANON), zeroed if asked. */
struct page *vm_page_alloc_anon(bool zero);
/* The counted page a leaf maps, or NULL (the zero page, kernel pages). For a
 * 2 MiB leaf, the first of its 512 pages. */
struct page *vm_leaf_page(uint64_t pte, int level);
/* Account pages that were just mapped / unmapped (map_count, RSS, dirty). */
void vm_account_map(struct vm_space *vm, struct page *p, unsigned count);
void vm_account_unmap(struct vm_space *vm, struct page *p, unsigned count, bool dirty);
/* The leaf value v's protection asks for, for the page pte maps (writable
 * only where the page may be written in place: see vm_page_exclusive). */
uint64_t vm_leaf_pte(const struct vma *v, uint64_t pte, int level);
/* Is this anonymous page (a 2 MiB leaf's 512 frames) held by one mapping
 * only, so a private mapping may write it in place? After fork it is not,
 * until the other side has copied it or gone. */
bool vm_page_exclusive(const struct page *p, int level);
/* Install one 4 KiB leaf for page p (accounted); drops p's reference on failure. */
int vm_install_page(struct vm_space *vm, uintptr_t va, struct page *p, uint64_t pte);

static inline bool vm_prot_accessible(uint32_t prot)
{
    return prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
}

/* ---- TLBs and switching (vm_switch.c) ---- */

/* Flush a batch on the CPUs that may cache vm's entries. */
static inline void vm_tlb_flush(struct vm_space *vm, struct tlb_batch *b)
{
    tlb_batch_flush(b, &vm->tlb);
}
/* Make every CPU that has vm loaded load the kernel's root (destroy). */
void vm_evict_cpus(struct vm_space *vm);
/* A fault of the running thread's own process on a CPU without vm loaded
 * (before the scheduler hook, or the exec'ing thread's first copy): load it.
 * True when it did, and the access should simply be retried. */
bool vm_fault_loads_space(struct vm_space *vm);
/* Address-space loads so far (CR3 writes by vm_activate). */
uint64_t vm_switch_stats(void);

/* ---- Page-table operations (vm_pages.c), vm->lock held ---- */

/* Make start and end 4 KiB boundaries in the page tables. 0 or -ENOMEM. */
int vm_pages_split_edges(struct vm_space *vm, uintptr_t start, uintptr_t end);
/* Unmap [start, end), flush TLBs, release the pages and emptied tables. */
int vm_pages_unmap(struct vm_space *vm, uintptr_t start, uintptr_t end);
/* Rewrite leaves in [start, end) for v's (new) protection; flushes. */
int vm_pages_protect(struct vm_space *vm, const struct vma *v, uintptr_t start, uintptr_t end);
/* Move every leaf of [from, from+len) to the same offset at `to` (an empty
 * range). -ENOMEM (nothing moved) when page tables cannot be allocated. */
int vm_pages_move(struct vm_space *vm, uintptr_t from, uintptr_t to, size_t len);
/* Resident pages in [start, end): one byte per 4 KiB page, bit 0 set. */
void vm_pages_residency(struct vm_space *vm, uintptr_t start, uintptr_t end, unsigned char *vec);
/* Move PTE dirty bits of shared file pages into the pages (msync). */
void vm_pages_harvest_dirty(struct vm_space *vm, uintptr_t start, uintptr_t end);

/* ---- Helpers between the vm_*.c files, vm->lock held ---- */

int vm_fault_locked(struct vm_space *vm, uintptr_t addr, unsigned flags);
int vm_populate_locked(struct vm_space *vm, uintptr_t start, uintptr_t end);
/* munmap's core: split, detach, unmap pages, free the VMAs. */
int vm_unmap_locked(struct vm_space *vm, uintptr_t start, uintptr_t end);
/* Insert a new VMA over a free range and merge it. */
int vm_insert_vma(struct vm_space *vm, uintptr_t start, uintptr_t end, uint32_t prot,
                  uint32_t flags, struct file *f, uint64_t pgoff, const char *name);
/* Where a mapping of len bytes goes: the hint if it fits, else top-down.
 * 0 when there is no room. */
uintptr_t vm_pick_address(struct vm_space *vm, uintptr_t hint, uint64_t len, int flags);
/* Linux's heuristic overcommit check: can `pages` more pages ever be backed? */
bool vm_enough_memory(uint64_t pages);
void vm_note_peak(struct vm_space *vm);
