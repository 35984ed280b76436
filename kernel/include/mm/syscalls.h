/* The memory system calls (mm/vm_syscalls.c): Linux's argument types, the
 * result or -errno. Thin wrappers over the vm_* functions of mm/vm.h for the
 * current process's address space. */
#pragma once

#include "lib/types.h"

long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
              unsigned long fd, unsigned long off);
long sys_munmap(unsigned long addr, size_t len);
long sys_mprotect(unsigned long start, size_t len, unsigned long prot);
long sys_mremap(unsigned long addr, unsigned long old_len, unsigned long new_len,
                unsigned long flags, unsigned long new_addr);
long sys_madvise(unsigned long start, size_t len, int advice);
long sys_brk(unsigned long brk);
long sys_mincore(unsigned long start, size_t len, unsigned char *vec);
long sys_msync(unsigned long start, size_t len, int flags);
long sys_mlock(unsigned long start, size_t len);
long sys_mlock2(unsigned long start, size_t len, int flags);
long sys_munlock(unsigned long start, size_t len);
long sys_mlockall(int flags);
long sys_munlockall(void);
