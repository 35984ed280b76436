/* Copies between the kernel and application memory. Every instruction that
 * touches application memory is listed in the exception table: when it faults
 * on a page that cannot be made present, the fault handler resumes at the
 * fixup, which returns -EFAULT. stac/clac open and close SMAP's window; they
 * are listed in .smap_sites and patched to NOPs on CPUs without SMAP. */

#define EFAULT 14

    .macro UACCESS_OPEN
771: stac
    .pushsection .smap_sites, "a"
    .quad 771b
    .popsection
    .endm

    .macro UACCESS_CLOSE
772: clac
    .pushsection .smap_sites, "a"
    .quad 772b
    .popsection
    .endm

    .macro EXTABLE insn, fixup
    .pushsection __ex_table, "a"
    .quad \insn, \fixup
    .popsection
    .endm

    .text
/* int arch_copy_user(void *dst, const void *src, size_t n): ranges checked by the caller */
    .globl arch_copy_user
arch_copy_user:
    UACCESS_OPEN
    movq %rdx, %rcx
    shrq $3, %rcx
10: rep movsq
    movl %edx, %ecx
    andl $7, %ecx
11: rep movsb
    UACCESS_CLOSE
    xorl %eax, %eax
    ret
    EXTABLE 10b, uaccess_fault
    EXTABLE 11b, uaccess_fault

/* int arch_clear_user(void *dst, size_t n) */
    .globl arch_clear_user
arch_clear_user:
    UACCESS_OPEN
    movq %rsi, %rcx
    shrq $3, %rcx
    xorl %eax, %eax
20: rep stosq
    movl %esi, %ecx
    andl $7, %ecx
21: rep stosb
    UACCESS_CLOSE
    ret
    EXTABLE 20b, uaccess_fault
    EXTABLE 21b, uaccess_fault

/* long arch_strncpy_user(char *dst, const char *src, size_t size): length
 * without the NUL, or -1 when no NUL lies in the first `size` bytes; -EFAULT */
    .globl arch_strncpy_user
arch_strncpy_user:
    UACCESS_OPEN
    xorl %eax, %eax
1:  cmpq %rdx, %rax
    jae 3f
30: movb (%rsi,%rax), %cl
    movb %cl, (%rdi,%rax)
    testb %cl, %cl
    jz 2f
    incq %rax
    jmp 1b
2:  UACCESS_CLOSE
    ret
3:  UACCESS_CLOSE
    movq $-1, %rax
    ret
    EXTABLE 30b, uaccess_fault

/* int arch_get_user64(uint64_t *out, const void *src) and the 32-bit one */
    .globl arch_get_user64
arch_get_user64:
    UACCESS_OPEN
40: movq (%rsi), %rax
    UACCESS_CLOSE
    movq %rax, (%rdi)
    xorl %eax, %eax
    ret
    EXTABLE 40b, uaccess_fault

    .globl arch_get_user32
arch_get_user32:
    UACCESS_OPEN
41: movl (%rsi), %eax
    UACCESS_CLOSE
    movl %eax, (%rdi)
    xorl %eax, %eax
    ret
    EXTABLE 41b, uaccess_fault

/* int arch_put_user64(void *dst, uint64_t v) and the 32-bit one */
    .globl arch_put_user64
arch_put_user64:
    UACCESS_OPEN
50: movq %rsi, (%rdi)
    UACCESS_CLOSE
    xorl %eax, %eax
    ret
    EXTABLE 50b, uaccess_fault

    .globl arch_put_user32
arch_put_user32:
    UACCESS_OPEN
51: movl %esi, (%rdi)
    UACCESS_CLOSE
    xorl %eax, %eax
    ret
    EXTABLE 51b, uaccess_fault

/* int arch_cmpxchg_user32(uint32_t *uaddr, uint32_t expected, uint32_t new, uint32_t *old):
 * atomic compare-and-exchange on application memory (futexes) */
    .globl arch_cmpxchg_user32
arch_cmpxchg_user32:
    movl %esi, %eax
    UACCESS_OPEN
60: lock cmpxchgl %edx, (%rdi)
    UACCESS_CLOSE
    movl %eax, (%rcx)
    xorl %eax, %eax
    ret
    EXTABLE 60b, uaccess_fault

uaccess_fault:
    UACCESS_CLOSE
    movq $-EFAULT, %rax
    ret
