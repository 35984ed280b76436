/* Context switch between kernel threads: only callee-saved registers need
 * saving, since the switch is an ordinary function call for both sides. */

/* void arch_context_switch(uint64_t *save_rsp, uint64_t load_rsp) */
    .text
    .globl arch_context_switch
arch_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* First code of every new thread: arch_thread_stack_init left the entry
 * function in r12 and its argument in r13. */
    .globl arch_thread_trampoline
arch_thread_trampoline:
    xorl %ebp, %ebp /* end of the frame-pointer chain */
    movq %r12, %rdi
    movq %r13, %rsi
    call thread_first_run
    ud2
