/* The `syscall` instruction's entry: switch to the thread's kernel stack and
 * save the application's registers as a struct trap_frame (the same layout an
 * interrupt from ring 3 leaves), so signals, clone and the return path see
 * one format. The return takes `sysretq` when the frame still describes a
 * plain return to where the call came from, `iretq` otherwise. */
#include "arch/gdt.h"
#include "arch/layout.h"

#define USER_CS (GDT_USER_CODE64 | 3)
#define USER_DS (GDT_USER_DATA | 3)
#define SYSCALL_VECTOR 0x100 /* frame.vector for a syscall: no exception has that number */

/* struct trap_frame offsets */
#define TF_R11 32
#define TF_RCX 96
#define TF_RIP 136
#define TF_CS 144
#define TF_RFLAGS 152
#define TF_RSP 160
#define TF_SS 168

    .text
    .globl syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:32          /* arch_cpu.user_rsp */
    movq %gs:24, %rsp          /* arch_cpu.kernel_rsp */
    pushq $USER_DS
    pushq %gs:32
    pushq %r11                 /* the application's rflags */
    pushq $USER_CS
    pushq %rcx                 /* its return address */
    pushq %rax                 /* error_code slot: the syscall number, for restarts */
    pushq $SYSCALL_VECTOR
    pushq %rax
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
    xorl %ebp, %ebp            /* backtraces end here */
    movq %rsp, %rdi
    call syscall_dispatch      /* returns with interrupts disabled */

    .globl syscall_return
syscall_return:
    /* sysret reloads rip from rcx and rflags from r11: usable only when the
     * frame says so and rip is a canonical application address (a
     * non-canonical rcx would fault in ring 0 on the user stack) */
    movq TF_RIP(%rsp), %rcx
    cmpq TF_RCX(%rsp), %rcx
    jne 1f
    movq TF_RFLAGS(%rsp), %r11
    cmpq TF_R11(%rsp), %r11
    jne 1f
    movabsq $USER_TOP, %rax
    cmpq %rax, %rcx
    jae 1f
    cmpq $USER_CS, TF_CS(%rsp)
    jne 1f
    cmpq $USER_DS, TF_SS(%rsp)
    jne 1f
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    addq $8, %rsp              /* r11: rflags, loaded above */
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    addq $8, %rsp              /* rcx: rip, loaded above */
    popq %rbx
    popq %rax
    movq 40(%rsp), %rsp        /* past vector, error code, rip, cs, rflags: the user rsp */
    swapgs
    sysretq
1:  jmp trap_return

/* void arch_enter_user(struct trap_frame *f): leave for ring 3 through the
 * frame at the top of this thread's kernel stack. */
    .globl arch_enter_user
arch_enter_user:
    cli
    movq %rdi, %rsp
    jmp trap_return
