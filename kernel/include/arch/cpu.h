/* x86-64 CPU primitives: CPUID, MSRs, control registers, TSC, interrupt flag. */
#pragma once

#include "lib/types.h"

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_TSC_AUX 0xc0000103
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)

#define CR0_WP (1ul << 16)
#define CR4_PGE (1ul << 7)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_FSGSBASE (1ul << 16)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)

#define RFLAGS_IF (1ul << 9)

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ __volatile__("cpuid"
                         : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                         : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ __volatile__("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR_ACCESSORS(n)                                           \
    static inline uint64_t read_cr##n(void)                              \
    {                                                                    \
        uint64_t v;                                                      \
        __asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));            \
        return v;                                                        \
    }                                                                    \
    static inline void write_cr##n(uint64_t v)                           \
    {                                                                    \
        __asm__ __volatile__("mov %0, %%cr" #n : : "r"(v) : "memory");   \
    }
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline void cpu_pause(void)
{
    __asm__ __volatile__("pause" ::: "memory");
}

static inline void cpu_halt(void)
{
    __asm__ __volatile__("hlt" ::: "memory");
}

static inline void irq_enable(void)
{
    __asm__ __volatile__("sti" ::: "memory");
}

static inline void irq_disable(void)
{
    __asm__ __volatile__("cli" ::: "memory");
}

/* Enable interrupts and halt atomically: an interrupt arriving between the two
 * instructions still wakes the hlt (sti's one-instruction shadow). */
static inline void irq_enable_and_halt(void)
{
    __asm__ __volatile__("sti; hlt" ::: "memory");
}

static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ __volatile__("pushfq; popq %0" : "=r"(f) : : "memory");
    return f;
}

static inline bool irq_enabled(void)
{
    return read_rflags() & RFLAGS_IF;
}

typedef uint64_t irqflags_t;

static inline irqflags_t irq_save(void)
{
    irqflags_t f = read_rflags();
    irq_disable();
    return f;
}

static inline void irq_restore(irqflags_t f)
{
    if (f & RFLAGS_IF)
        irq_enable();
}

static inline void invlpg(uintptr_t va)
{
    __asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

/* CPU features the kernel cares about, read once at boot (cpu_features_detect). */
struct cpu_features {
    char vendor[13];
    uint32_t max_leaf, max_ext_leaf, max_hv_leaf;
    bool x2apic, tsc_deadline, invariant_tsc, nx, pdpe1gb, pge, smep, smap, umip,
        fsgsbase, xsave, avx, rdrand, rdseed, rdtscp, hypervisor, kvmclock, kvmclock_stable;
    char hypervisor_sig[13];
    uint32_t family, model;
};

extern struct cpu_features cpu_features;
void cpu_features_detect(void);
