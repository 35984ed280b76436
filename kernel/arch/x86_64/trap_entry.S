/* Interrupt and exception entry: one stub per vector pushes a uniform
 * (vector, error code) pair, the common path saves the general registers as a
 * struct trap_frame and calls trap_dispatch. */

/* Vectors where the CPU pushes an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .altmacro
/* Every stub is padded to 16 bytes, so the stub for vector v is at
 * trap_stubs + 16 * v and the IDT needs no table of addresses. */
    .macro TRAP_STUB v
    .balign 16
    .if HAS_ERRCODE(\v)
    pushq $\v
    .else
    pushq $0
    pushq $\v
    .endif
    jmp trap_common
    .endm

    .text
    .balign 16
    .globl trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    TRAP_STUB %vec
    .set vec, vec + 1
    .endr

trap_common:
    cld
    /* An interrupt may arrive inside a user copy, with SMAP's window open
     * (rflags.AC): close it for the handler and whatever it switches to; the
     * saved rflags reopen it on the way back. Patched out without SMAP. */
773: clac
    .pushsection .smap_sites, "a"
    .quad 773b
    .popsection
    /* Came from ring 3? Then the GS base must be swapped to the kernel's. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    call trap_dispatch
    .globl trap_return
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp
    iretq
