/* printf-style formatting into buffers (no floating point: the kernel has no SSE). */
#pragma once

#include "lib/types.h"

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
