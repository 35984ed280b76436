/* The one address space: application in the lower half (ring 3), kernel in the
 * top 2 GiB, a direct map of all RAM, and a window for device memory. Usable from
 * C and from assembly. */
#pragma once

#define KERNEL_VMA 0xffffffff80000000  /* virtual base of the top 2 GiB; maps physical 0 */
#define KERNEL_LOAD_PHYS 0x100000      /* kernel image loaded at 1 MiB */
#define DIRECT_MAP_BASE 0xffff888000000000 /* physical 0 in the direct map */
#define DIRECT_MAP_SIZE 0x0000400000000000 /* 64 TiB */
#define KVIRT_BASE 0xffffc90000000000  /* kernel virtual area: MMIO, stacks with guard pages */
#define KVIRT_SIZE 0x0000200000000000  /* 32 TiB */
#define USER_TOP 0x00007ffffffff000    /* end of the application half */

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096
#define LARGE_PAGE_SIZE 0x200000       /* 2 MiB */
#define HUGE_PAGE_SIZE 0x40000000      /* 1 GiB */

#define MAX_CPUS 64

#define BOOT_STACK_SIZE 16384
#define KERNEL_STACK_SIZE 16384
#define IST_STACK_SIZE 8192
