/* Access to application memory from the kernel. Every function checks that the
 * range lies in the application half and survives any bad pointer: a page the
 * application has not touched yet is faulted in, an unmapped or forbidden one
 * makes the call return -EFAULT instead of faulting the kernel. */
#pragma once

#include "arch/layout.h"
#include "lib/types.h"

/* Marks pointers into application memory; never dereference them directly. */
#define __user

static inline bool user_range_ok(const void __user *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    return a <= USER_TOP && n <= USER_TOP - a;
}

/* 0, or -EFAULT when any byte of the range is not accessible. */
int copy_from_user(void *dst, const void __user *src, size_t n);
int copy_to_user(void __user *dst, const void *src, size_t n);
int clear_user(void __user *dst, size_t n);
/* Copy a NUL-terminated string of at most size-1 characters: its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL lies within `size` bytes (dst is
 * then not terminated). */
long strncpy_from_user(char *dst, const char __user *src, size_t size);

/* Fixed-size accessors: 0 or -EFAULT. */
int get_user_u32(uint32_t *out, const void __user *src);
int get_user_u64(uint64_t *out, const void __user *src);
int put_user_u32(void __user *dst, uint32_t v);
int put_user_u64(void __user *dst, uint64_t v);

/* Atomically: if *uaddr == expected, store new_val; *old gets the value seen.
 * 0, -EFAULT, or -EINVAL when uaddr is not 4-byte aligned (futexes). */
int cmpxchg_user_u32(uint32_t __user *uaddr, uint32_t expected, uint32_t new_val, uint32_t *old);

/* For the page-fault handler: where a faulting user access at `rip` resumes
 * (0 when rip is not a user-access instruction). */
uintptr_t uaccess_fixup(uintptr_t rip);
/* Boot: drop stac/clac when the CPU lacks SMAP (before text is write-protected). */
void uaccess_patch_smap(bool have_smap);
