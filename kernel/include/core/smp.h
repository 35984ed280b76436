/* Bringing up every CPU the VMM gives, and cross-CPU calls. */
#pragma once

#include "lib/types.h"

/* Start all application processors listed by the platform tables. */
void smp_boot(void);
/* Stop every other CPU (panic path). */
void smp_stop_others(void);
