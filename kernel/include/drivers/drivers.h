/* Device drivers' boot-time entry: PCI enumeration, virtio probing over PCI
 * and MMIO, and the drivers for what is found (block, entropy, ...). */
#pragma once

/* Once, from the init thread: after interrupts, the clock and SMP (MSI-X
 * vectors are spread over the CPUs, drivers may sleep), before the root
 * filesystem is mounted (it may live on a disk). */
void drivers_init(void);
