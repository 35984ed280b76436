/* Kernel entry points. PVH (QEMU -kernel, Cloud Hypervisor, Firecracker with the
 * note) enters in 32-bit protected mode without paging; the Linux 64-bit boot
 * protocol enters in long mode on the loader's identity map. Both build the boot
 * page tables (identity map of the low 4 GiB and the kernel's top-2-GiB map),
 * switch to the high-half stack and call boot_start(protocol, info_phys). */
#include "arch/layout.h"

#define PHYS(sym) ((sym) - KERNEL_VMA)
#define BOOT_PROTO_PVH 1
#define BOOT_PROTO_LINUX 2
#define PDE_LARGE 0x83 /* present, writable, 2 MiB page */

/* Xen PVH note: the 32-bit physical entry point (XEN_ELFNOTE_PHYS32_ENTRY). */
    .section .note.osprey, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long PHYS(pvh_entry32)
    .balign 4

    .section .text.boot, "ax"
    .code32
    .globl pvh_entry32
pvh_entry32:
    cli
    cld
    rdtsc
    movl %eax, PHYS(boot_tsc0)
    movl %edx, PHYS(boot_tsc0) + 4
    movl %ebx, %esi /* hvm_start_info, kept in esi */

    /* Clear .bss: the loader need not have done it. */
    movl $PHYS(__bss_start), %edi
    movl $PHYS(__bss_end), %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    /* Identity-map the low 4 GiB with 2 MiB pages (the four boot page directories). */
    movl $PHYS(boot_pd), %edi
    movl $PDE_LARGE, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $LARGE_PAGE_SIZE, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b

    movl %cr4, %eax
    orl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx /* EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax /* PG | WP | PE */
    movl %eax, %cr0
    lgdt PHYS(boot_gdt_desc)
    ljmp $0x08, $PHYS(pvh_entry64)

    .code64
pvh_entry64:
    movl $BOOT_PROTO_PVH, %edi
    /* esi already holds the start_info address; zero-extend it. */
    movl %esi, %esi
    jmp boot_enter_high

    .globl linux64_entry
linux64_entry:
    /* Long mode, paging on with the loader's identity map, %rsi = boot_params. */
    cli
    cld
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, PHYS(boot_tsc0)
    movq %rsi, %r12

    movl $PHYS(__bss_start), %edi
    movl $PHYS(__bss_end), %ecx
    subl %edi, %ecx
    shrl $3, %ecx
    xorl %eax, %eax
    rep stosq

    movl $PHYS(boot_pd), %edi
    movq $PDE_LARGE, %rax
    movl $2048, %ecx
1:  movq %rax, (%rdi)
    addq $LARGE_PAGE_SIZE, %rax
    addq $8, %rdi
    decl %ecx
    jnz 1b

    movl $PHYS(boot_pml4), %eax
    movq %rax, %cr3
    movl $BOOT_PROTO_LINUX, %edi
    movq %r12, %rsi
    /* fall through */

/* Common: still at low addresses; reload segments, then continue at the
 * kernel's virtual address on the boot stack. */
boot_enter_high:
    /* Neither protocol promises a usable stack (Firecracker happens to give
     * one, the Linux boot protocol does not): take ours, at its physical address. */
    movl $PHYS(boot_stack_top), %esp
    lgdt PHYS(boot_gdt_desc)
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    pushq $0x08
    movabsq $boot_high, %rax
    pushq %rax
    lretq

    .text
boot_high:
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    call boot_start
1:  cli
    hlt
    jmp 1b

    .data
    .balign 8
    .globl boot_tsc0
boot_tsc0:
    .quad 0

    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff /* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .quad PHYS(boot_gdt)

    .balign PAGE_SIZE
    .globl boot_pml4
boot_pml4:
    .quad PHYS(boot_pdpt_low) + 3
    .fill 510, 8, 0
    .quad PHYS(boot_pdpt_high) + 3
boot_pdpt_low:
    .quad PHYS(boot_pd) + 3
    .quad PHYS(boot_pd) + PAGE_SIZE + 3
    .quad PHYS(boot_pd) + 2 * PAGE_SIZE + 3
    .quad PHYS(boot_pd) + 3 * PAGE_SIZE + 3
    .fill 508, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad PHYS(boot_pd) + 3             /* KERNEL_VMA -> physical 0 */
    .quad PHYS(boot_pd) + PAGE_SIZE + 3 /* KERNEL_VMA + 1 GiB -> physical 1 GiB */

    .bss
    .balign PAGE_SIZE
boot_pd:
    .skip 4 * PAGE_SIZE
    .balign 16
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:
