/* drivers_init: register the virtio drivers, then find the devices: PCI
 * (unless --nopci), MMIO from the command line, MMIO from ACPI. Drivers that
 * other parts of the tree provide (net, console, fs) are picked up through
 * weak references, so they need no change here. */
#include "drivers/drivers.h"
#include "core/bootchart.h"
#include "core/bootopts.h"
#include "core/log.h"
#include "drivers/block.h"
#include "drivers/pci.h"
#include "drivers/virtio.h"

extern const struct virtio_driver virtio_blk_driver, virtio_rng_driver;
extern const struct virtio_driver virtio_net_driver __attribute__((weak));
extern const struct virtio_driver virtio_console_driver __attribute__((weak));
extern const struct virtio_driver virtio_fs_driver __attribute__((weak));

void drivers_init(void)
{
    virtio_register_driver(&virtio_rng_driver);
    virtio_register_driver(&virtio_blk_driver);
    const struct virtio_driver *optional[] = { &virtio_net_driver, &virtio_console_driver,
                                               &virtio_fs_driver };
    for (unsigned i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
        if (optional[i])
            virtio_register_driver(optional[i]);
    if (boot_options.nopci) {
        pr_info("pci: not scanned (--nopci)\n");
    } else {
        pci_enumerate();
        virtio_pci_probe_all();
    }
    virtio_mmio_probe_cmdline();
    virtio_mmio_probe_acpi();
    blockdev_devfiles_register();
    bootchart_mark("drivers");
}
