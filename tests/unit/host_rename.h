/* Force-included when kernel sources are compiled for host tests: renames the
 * kernel's libc-named functions so they do not collide with the host libc. */
#pragma once
#define snprintf kernel_snprintf
#define vsnprintf kernel_vsnprintf
#define strlcpy kernel_strlcpy
#define strlcat kernel_strlcat
