/* GDT selectors (usable from assembly). */
#pragma once

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_USER_CODE32 0x18
#define GDT_USER_DATA 0x20
#define GDT_USER_CODE64 0x28
#define GDT_TSS 0x30
