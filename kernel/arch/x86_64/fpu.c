/* XSAVE (or FXSAVE on old CPUs) management of application FPU state: which
 * components exist, how big a saved state is, and the save/restore primitives
 * the context switch and signal delivery use. */
#include "arch/fpu.h"
#include "arch/cpu.h"
#include "core/log.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define CR4_OSXSAVE (1ul << 18)
#define XFEATURES_WANTED (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_OPMASK | \
                          XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM)
#define XSAVE_HEADER_OFFSET 512

struct fpu_info fpu_info;
static void *fpu_init_image;

static inline void xsetbv(uint32_t reg, uint64_t v)
{
    __asm__ __volatile__("xsetbv" : : "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void fpu_init_cpu(void)
{
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (fpu_info.xsave)
        cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
    write_cr0((read_cr0() & ~(1ul << 2 | 1ul << 3)) | (1ul << 1) | (1ul << 5)); /* EM=0 TS=0 MP=1 NE=1 */
    if (fpu_info.xsave)
        xsetbv(0, fpu_info.xcr0);
    __asm__ __volatile__("fninit");
}

void fpu_init_bsp(void)
{
    fpu_info.xsave = cpu_features.xsave;
    fpu_info.size = FPU_LEGACY_SIZE;
    if (fpu_info.xsave) {
        struct cpuid_regs r = cpuid(0xd, 0);
        fpu_info.xcr0 = (((uint64_t)r.edx << 32) | r.eax) & XFEATURES_WANTED;
        /* AVX-512 state is all or nothing */
        uint64_t avx512 = XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM;
        if ((fpu_info.xcr0 & avx512) != avx512)
            fpu_info.xcr0 &= ~avx512;
        if (!(fpu_info.xcr0 & XFEATURE_AVX))
            fpu_info.xcr0 &= ~avx512;
        fpu_info.xsaveopt = cpuid(0xd, 1).eax & 1;
    }
    fpu_init_cpu();
    if (fpu_info.xsave)
        fpu_info.size = cpuid(0xd, 0).ebx; /* size for the components now enabled */
    /* MXCSR_MASK tells which MXCSR bits a program may set (FXSAVE image, byte 28) */
    static uint8_t probe[FPU_LEGACY_SIZE] __aligned(16);
    memset(probe, 0, sizeof(probe));
    __asm__ __volatile__("fxsave64 %0" : "=m"(probe));
    memcpy(&fpu_info.mxcsr_mask, probe + 28, 4);
    if (!fpu_info.mxcsr_mask)
        fpu_info.mxcsr_mask = 0xffbf;
    fpu_init_image = fpu_state_alloc();
    pr_info("fpu: %s, components %#lx, %u-byte state\n", fpu_info.xsave ? (fpu_info.xsaveopt ? "xsaveopt" : "xsave") : "fxsave",
            fpu_info.xcr0, fpu_info.size);
}

void fpu_state_init(void *state)
{
    uint8_t *s = state;
    memset(s, 0, fpu_info.size);
    uint16_t fcw = FPU_FCW_DEFAULT;
    uint32_t mxcsr = FPU_MXCSR_DEFAULT;
    memcpy(s + 0, &fcw, 2);
    memcpy(s + 24, &mxcsr, 4);
    /* XSTATE_BV = x87|SSE makes XRSTOR load exactly this image; the other
     * components start in their init state (zero) */
    if (fpu_info.xsave) {
        uint64_t bv = XFEATURE_X87 | XFEATURE_SSE;
        memcpy(s + XSAVE_HEADER_OFFSET, &bv, 8);
    }
}

void *fpu_state_alloc(void)
{
    void *s = kmalloc(fpu_info.size + 64); /* kmalloc aligns to 16; XSAVE needs 64 */
    if (!s)
        return NULL;
    uintptr_t aligned = ALIGN_UP((uintptr_t)s + 8, (uintptr_t)64);
    ((void **)aligned)[-1] = s;
    fpu_state_init((void *)aligned);
    return (void *)aligned;
}

void fpu_state_free(void *state)
{
    if (state)
        kfree(((void **)state)[-1]);
}

void fpu_restore(const void *state)
{
    if (fpu_info.xsave)
        __asm__ __volatile__("xrstor64 (%0)" : : "r"(state), "a"((uint32_t)fpu_info.xcr0),
                             "d"((uint32_t)(fpu_info.xcr0 >> 32)) : "memory");
    else
        __asm__ __volatile__("fxrstor64 (%0)" : : "r"(state) : "memory");
}

void fpu_save(void *state)
{
    if (fpu_info.xsaveopt)
        __asm__ __volatile__("xsaveopt64 (%0)" : : "r"(state), "a"((uint32_t)fpu_info.xcr0),
                             "d"((uint32_t)(fpu_info.xcr0 >> 32)) : "memory");
    else if (fpu_info.xsave)
        __asm__ __volatile__("xsave64 (%0)" : : "r"(state), "a"((uint32_t)fpu_info.xcr0),
                             "d"((uint32_t)(fpu_info.xcr0 >> 32)) : "memory");
    else
        __asm__ __volatile__("fxsave64 (%0)" : : "r"(state) : "memory");
}

const void *fpu_init_state(void)
{
    return fpu_init_image;
}

bool fpu_state_valid(const void *state)
{
    const uint8_t *s = state;
    uint32_t mxcsr;
    memcpy(&mxcsr, s + 24, 4);
    if (mxcsr & ~fpu_info.mxcsr_mask)
        return false;
    if (!fpu_info.xsave)
        return true;
    uint64_t header[8];
    memcpy(header, s + XSAVE_HEADER_OFFSET, sizeof(header));
    if (header[0] & ~fpu_info.xcr0)
        return false; /* XSTATE_BV names a component that is not enabled */
    for (int i = 1; i < 8; i++)
        if (header[i])
            return false; /* XCOMP_BV (compacted format) and the reserved bytes must be 0 */
    return true;
}
