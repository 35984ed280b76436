/* Checked access to application memory (arch/uaccess.h): range checks here,
 * the copying in uaccess.S, the exception-table lookup the page-fault handler
 * uses, and boot-time removal of stac/clac on CPUs without SMAP. */
#include "arch/uaccess.h"
#include "arch/cpu.h"
#include "lib/errno.h"
#include "lib/string.h"

int arch_copy_user(void *dst, const void *src, size_t n);
int arch_clear_user(void *dst, size_t n);
long arch_strncpy_user(char *dst, const char *src, size_t size);
int arch_get_user64(uint64_t *out, const void *src);
int arch_get_user32(uint32_t *out, const void *src);
int arch_put_user64(void *dst, uint64_t v);
int arch_put_user32(void *dst, uint32_t v);
int arch_cmpxchg_user32(uint32_t *uaddr, uint32_t expected, uint32_t new_val, uint32_t *old);

struct extable_entry {
    uint64_t insn, fixup;
};
extern const struct extable_entry __ex_table_start[], __ex_table_end[];
extern const uint64_t __smap_sites_start[], __smap_sites_end[];

uintptr_t uaccess_fixup(uintptr_t rip)
{
    for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == rip)
            return e->fixup;
    return 0;
}

/* stac and clac are #UD without SMAP: overwrite each with a 3-byte NOP.
 * Runs before the kernel image is write-protected. */
void uaccess_patch_smap(bool have_smap)
{
    if (have_smap)
        return;
    static const uint8_t nop3[3] = { 0x0f, 0x1f, 0x00 };
    for (const uint64_t *s = __smap_sites_start; s < __smap_sites_end; s++)
        memcpy((void *)*s, nop3, sizeof(nop3));
}

int copy_from_user(void *dst, const void __user *src, size_t n)
{
    if (!user_range_ok(src, n))
        return -EFAULT;
    return n ? arch_copy_user(dst, (const void *)src, n) : 0;
}

int copy_to_user(void __user *dst, const void *src, size_t n)
{
    if (!user_range_ok(dst, n))
        return -EFAULT;
    return n ? arch_copy_user((void *)dst, src, n) : 0;
}

int clear_user(void __user *dst, size_t n)
{
    if (!user_range_ok(dst, n))
        return -EFAULT;
    return n ? arch_clear_user((void *)dst, n) : 0;
}

long strncpy_from_user(char *dst, const char __user *src, size_t size)
{
    uintptr_t a = (uintptr_t)src;
    if (a >= USER_TOP)
        return -EFAULT;
    size_t room = USER_TOP - a; /* never read past the application half */
    long r = arch_strncpy_user(dst, (const char *)src, MIN(size, room));
    if (r == -1)
        return size <= room ? -ENAMETOOLONG : -EFAULT;
    return r;
}

int get_user_u32(uint32_t *out, const void __user *src)
{
    if (!user_range_ok(src, 4))
        return -EFAULT;
    return arch_get_user32(out, (const void *)src);
}

int get_user_u64(uint64_t *out, const void __user *src)
{
    if (!user_range_ok(src, 8))
        return -EFAULT;
    return arch_get_user64(out, (const void *)src);
}

int put_user_u32(void __user *dst, uint32_t v)
{
    if (!user_range_ok(dst, 4))
        return -EFAULT;
    return arch_put_user32((void *)dst, v);
}

int put_user_u64(void __user *dst, uint64_t v)
{
    if (!user_range_ok(dst, 8))
        return -EFAULT;
    return arch_put_user64((void *)dst, v);
}

int cmpxchg_user_u32(uint32_t __user *uaddr, uint32_t expected, uint32_t new_val, uint32_t *old)
{
    if ((uintptr_t)uaddr & 3)
        return -EINVAL;
    if (!user_range_ok(uaddr, 4))
        return -EFAULT;
    return arch_cmpxchg_user32((uint32_t *)uaddr, expected, new_val, old);
}
