/* linuxboot shim: a PVH guest that boots the kernel given as its -initrd module
 * through the Linux 64-bit boot protocol, so TCG runs can test that entry.
 * shim_setup (C) loads the kernel and writes Firecracker's boot structures;
 * this file enters long mode on them and jumps to the kernel's e_entry. */
#define ZERO_PAGE 0x7000
#define STACK_TOP 0x8ff0
#define PML4 0x9000
#define GDT_ADDR 0x500
#define IDT_ADDR 0x520

    .section .note.shim, "a", @note
    .balign 4
    .long 4, 4, 18            /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long shim_start
    .balign 4

    .text
    .code32
    .globl shim_start
shim_start:
    cli
    cld
    movl $shim_stack_top, %esp
    pushl %ebx                /* hvm_start_info */
    call shim_setup
    addl $4, %esp

    /* Long mode as Firecracker leaves it: CR4 = PAE, EFER = LME (LMA follows),
     * CR0 = PE | ET | PG, CR3 = the identity map, the GDT at 0x500. */
    lgdt shim_gdt_desc
    movl $0x20, %eax
    movl %eax, %cr4
    movl $PML4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl $0x80000011, %eax
    movl %eax, %cr0
    ljmp $0x08, $shim_long

    .code64
shim_long:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %fs
    movl %eax, %gs
    movl %eax, %ss
    /* TR stays as PVH left it: the 8-byte TSS entry Firecracker writes would
     * need 16 in long mode for ltr; the kernel loads its own before using it. */
    /* addresses through a register: an ELF32 object has no 64-bit absolute forms */
    movl $shim_idt_desc, %eax
    lidt (%rax)
    movl $shim_entry, %eax
    movq (%rax), %rax
    movl $STACK_TOP, %esp
    movl %esp, %ebp
    movl $ZERO_PAGE, %esi
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %edi, %edi
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    pushq $2                  /* RFLAGS: only the reserved bit */
    popfq
    jmpq *%rax

    .data
    .balign 8
shim_gdt_desc:
    .word 4 * 8 - 1
    .long GDT_ADDR
    .balign 8
shim_idt_desc:                /* 10 bytes: lidt in long mode reads a 64-bit base */
    .word 8 - 1
    .quad IDT_ADDR

    .bss
    .balign 16
    .skip 8192
shim_stack_top:
