/* Walking the frame-pointer chain (the kernel keeps frame pointers). */
#pragma once

#include "lib/types.h"

/* Calls fn(return address) for each frame starting at rbp, at most `max`
 * times; stops at the first frame that does not look like a kernel stack frame.
 * Returns the number of frames reported. */
unsigned arch_backtrace(uint64_t rbp, void (*fn)(uint64_t pc, void *ctx), void *ctx, unsigned max);
