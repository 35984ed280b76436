/* Number parsing for command lines and tables: strict, overflow-checked. */
#pragma once

#include "lib/types.h"

/* Parse an unsigned integer in base 10, or base 16 with 0x. The whole string
 * must be consumed. Returns 0 on success, -EINVAL or -ERANGE otherwise. */
int parse_u64(const char *s, uint64_t *out);

/* Like parse_u64 but accepts a size suffix K, M, G or T (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
