/* The vDSO shared object (built from kernel/exec/vdso/), page aligned so its
 * pages can be mapped into the application as they are. */
    .section .rodata
    .balign 4096
    .globl vdso_image_start, vdso_image_end
vdso_image_start:
    .incbin VDSO_SO
vdso_image_end:
    .balign 4096
