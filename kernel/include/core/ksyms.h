/* Kernel symbol table (generated at link time) for symbolised backtraces. */
#pragma once

#include "lib/types.h"

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksyms_lookup(uint64_t addr, uint64_t *offset);
