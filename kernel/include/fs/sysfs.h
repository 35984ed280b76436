/* sysfs (/sys): a minimal instance of the procfs table framework (fs/procfs.h)
 * with the CPU lists and topology and the transparent huge page policy. */
#pragma once

#include "fs/vfs.h"

extern struct vfs_fstype sysfs_fstype;

/* Register the "sysfs" file system type (once, from vfs_init). */
void sysfs_init(void);
