/* The vDSO image the kernel carries and maps into the application. */
#pragma once

#include "lib/types.h"

struct vm_space;

/* Prepare the [vvar] pages (after the clock is running). */
void vdso_init(void);
/* Map [vvar] and [vdso]; returns the vDSO's address (AT_SYSINFO_EHDR) or -errno. */
long vdso_map(struct vm_space *vm);
/* The wall clock moved (clock_settime). */
void vdso_update_realtime(void);
