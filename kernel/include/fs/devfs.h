/* devfs: /dev as a tmpfs-like instance (what devtmpfs is on Linux) holding
 * the device nodes Osprey provides; their drivers are character devices. */
#pragma once

#include "fs/vfs.h"

#define DEV_MEM_MAJOR 1
#define DEV_NULL_MINOR 3
#define DEV_ZERO_MINOR 5
#define DEV_FULL_MINOR 7
#define DEV_RANDOM_MINOR 8
#define DEV_URANDOM_MINOR 9
#define DEV_TTYAUX_MAJOR 5
#define DEV_TTY_MINOR 0
#define DEV_CONSOLE_MINOR 1

extern struct vfs_fstype devfs_fstype;

/* Register the drivers (once, from vfs_init). */
void devfs_init(void);
void devfs_mem_register(void);
void devfs_console_register(void);
