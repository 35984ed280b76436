/* Traps and interrupts: the frame the entry code saves, handler registration,
 * vector assignments. */
#pragma once

#include "lib/types.h"

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Exceptions. */
#define VEC_DIVIDE 0
#define VEC_DEBUG 1
#define VEC_NMI 2
#define VEC_BREAKPOINT 3
#define VEC_INVALID_OPCODE 6
#define VEC_DOUBLE_FAULT 8
#define VEC_GP 13
#define VEC_PAGE_FAULT 14
#define VEC_MACHINE_CHECK 18

/* Interrupt vectors we assign. ISA IRQs land at 0x20 + irq. */
#define VEC_IRQ_BASE 0x20
#define VEC_DEVICE_FIRST 0x30 /* dynamically allocated device vectors */
#define VEC_DEVICE_LAST 0xdf
#define VEC_TLB_SHOOTDOWN 0xf0
#define VEC_RESCHEDULE 0xf1
#define VEC_CALL_FUNCTION 0xf2
#define VEC_PANIC_STOP 0xf3
#define VEC_KICK 0xf4 /* no work: makes a CPU running application code enter the kernel (signals) */
#define VEC_LAPIC_TIMER 0xfd
#define VEC_LAPIC_ERROR 0xfe
#define VEC_SPURIOUS 0xff

/* IST slots (1-based, as in the IDT gate). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_COUNT 3

/* Exception handler: returns true when it dealt with the fault. */
typedef bool (*exception_handler_t)(struct trap_frame *f);
typedef void (*irq_handler_t)(struct trap_frame *f, void *ctx);

void trap_set_exception_handler(unsigned vector, exception_handler_t h);
void trap_set_irq_handler(unsigned vector, irq_handler_t h, void *ctx);
/* A free vector in VEC_DEVICE_FIRST..VEC_DEVICE_LAST, or -1. */
int trap_alloc_vector(void);
/* Called on the way out of every interrupt (not exceptions) with IRQs off:
 * the scheduler uses it to preempt. */
void trap_set_irq_exit_hook(void (*hook)(struct trap_frame *f));
/* Called last before any return to ring 3 from an interrupt or exception. */
void trap_set_user_return_hook(void (*hook)(struct trap_frame *f));

void idt_init(void);  /* build the IDT (once) */
void trap_init_handlers(void); /* NMI and LAPIC error handlers (once) */
void idt_load(void);  /* load it on this CPU */
/* GDT and TSS for this CPU; IST stacks must be provided (top addresses). */
struct arch_cpu;
void gdt_init_cpu(struct arch_cpu *c, const uintptr_t ist_tops[IST_COUNT]);

/* Print registers of a frame at LOG_EMERG. */
void trap_dump_frame(const struct trap_frame *f);
const char *trap_vector_name(unsigned vector);
