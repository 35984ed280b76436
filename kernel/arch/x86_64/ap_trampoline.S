/* Application-processor start-up code, copied to a page below 1 MiB. A
 * Startup IPI starts the AP in real mode at that page; it moves to protected
 * mode, then long mode on a small page table that maps the page one to one
 * plus the kernel's half, and jumps to ap_entry on the stack the boot CPU
 * left in the parameter block. Addresses that depend on where the page lands
 * are patched by smp.c (see struct ap_params). */
#define OFF(sym) ((sym) - ap_trampoline_start)

    .section .rodata
    .code16
    .globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl OFF(ap_gdt_desc)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *OFF(ap_far32)

    .code32
ap_pm32:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    .byte 0xbb /* movl $imm32, %ebx: the page's physical base, patched */
ap_base_patch:
    .long 0
    movl %cr4, %eax
    orl $0x20, %eax /* PAE */
    movl %eax, %cr4
    movl OFF(ap_cr3)(%ebx), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl OFF(ap_efer)(%ebx), %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010000, %eax /* PG | WP */
    movl %eax, %cr0
    ljmpl *OFF(ap_far64)(%ebx)

    .code64
ap_lm64:
    movq ap_stack(%rip), %rsp
    movq ap_arg(%rip), %rdi
    xorl %ebp, %ebp
    movq ap_entry(%rip), %rax
    jmp *%rax

    .balign 16
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff /* 0x10: data */
    .quad 0x00af9a000000ffff /* 0x18: 64-bit code */
ap_gdt_desc:
    .word 31
    .long 0                  /* patched: physical address of ap_gdt */
ap_far32:
    .long 0                  /* patched: physical address of ap_pm32 */
    .word 0x08
ap_far64:
    .long 0                  /* patched: physical address of ap_lm64 */
    .word 0x18
    .balign 8
ap_trampoline_params:
ap_cr3:
    .long 0
ap_efer:
    .long 0
ap_stack:
    .quad 0
ap_entry:
    .quad 0
ap_arg:
    .quad 0
ap_trampoline_end:

    .globl ap_off_gdt, ap_off_gdt_desc, ap_off_far32, ap_off_far64, ap_off_pm32, ap_off_lm64, ap_off_base_patch
    .set ap_off_gdt, OFF(ap_gdt)
    .set ap_off_gdt_desc, OFF(ap_gdt_desc)
    .set ap_off_far32, OFF(ap_far32)
    .set ap_off_far64, OFF(ap_far64)
    .set ap_off_pm32, OFF(ap_pm32)
    .set ap_off_lm64, OFF(ap_lm64)
    .set ap_off_base_patch, OFF(ap_base_patch)
