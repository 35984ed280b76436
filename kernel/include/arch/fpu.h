/* FPU/SSE/AVX state of application threads. The kernel itself never touches
 * these registers (-mgeneral-regs-only), so they hold the state of the last
 * application thread that ran on the CPU and only need saving when another
 * application thread is switched in, or for a signal frame. */
#pragma once

#include "lib/types.h"

/* XSAVE component bits (XCR0). */
#define XFEATURE_X87 (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define XFEATURE_AVX (1ull << 2)
#define XFEATURE_OPMASK (1ull << 5)
#define XFEATURE_ZMM_HI256 (1ull << 6)
#define XFEATURE_HI16_ZMM (1ull << 7)

#define FPU_LEGACY_SIZE 512 /* the FXSAVE image, first part of every XSAVE area */
#define FPU_MXCSR_DEFAULT 0x1f80
#define FPU_FCW_DEFAULT 0x037f

struct fpu_info {
    bool xsave, xsaveopt;
    uint64_t xcr0;      /* components enabled for applications */
    uint32_t size;      /* bytes of one saved state (standard XSAVE format) */
    uint32_t mxcsr_mask;
};
extern struct fpu_info fpu_info;

/* Boot CPU: choose the components and the area size; every CPU: enable them. */
void fpu_init_bsp(void);
void fpu_init_cpu(void);

/* A state area (64-byte aligned, fpu_info.size bytes) holding the initial
 * state a new program starts with; NULL when out of memory. */
void *fpu_state_alloc(void);
void fpu_state_free(void *state);
void fpu_state_init(void *state);
/* Load the CPU's FPU registers from `state` / store them into it. */
void fpu_restore(const void *state);
void fpu_save(void *state);
/* The state a new program or a signal handler starts with. */
const void *fpu_init_state(void);
/* Whether XRSTOR/FXRSTOR would accept `state` (an image from the application). */
bool fpu_state_valid(const void *state);
