/* lwIP's platform header for Osprey: basic types and printf formats from
 * the freestanding kernel library, diagnostics into the kernel log, and
 * the lock lwIP's pbuf reference counts take (SYS_LIGHTWEIGHT_PROT). */
#pragma once

#include "lib/types.h"

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_CTYPE_H 1
#define SSIZE_MAX INT64_MAX /* lib/types.h has ssize_t: lwIP must not define its own */

#define X8_F "02x"
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN

void lwip_port_diag(const char *fmt, ...) __printf(1, 2);
__noreturn void lwip_port_assert(const char *msg, const char *file, int line);
uint32_t lwip_port_rand(void);

#define LWIP_PLATFORM_DIAG(x) lwip_port_diag x
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() lwip_port_rand()

typedef uint64_t sys_prot_t; /* saved interrupt flags */
