/* Normalise the two boot protocols into struct boot_info. Runs on the boot page
 * tables (low 4 GiB identity-mapped), before any subsystem; it only copies. */
#include "arch/boot_info.h"
#include "arch/layout.h"
#include "lib/string.h"

#define BOOT_PROTO_PVH 1
#define BOOT_PROTO_LINUX 2
#define PVH_MAGIC 0x336ec578u
#define IDENTITY_LIMIT 0x100000000ull /* what the boot page tables map 1:1 */

struct boot_info boot_info;
/* Problems found before the console exists; kmain reports them. */
const char *boot_error;

void kmain(void) __noreturn;
void boot_start(uint32_t protocol, uint64_t info_phys);

/* Xen's hvm_start_info (version 1 adds the memory map). */
struct pvh_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries, reserved;
} __packed;

struct pvh_module {
    uint64_t paddr, size, cmdline_paddr, reserved;
} __packed;

struct pvh_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
} __packed;

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
} __packed;

/* Offsets into the Linux boot_params "zero page" (Documentation/arch/x86/zero-page). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR_MAGIC 0x202
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define LINUX_HDR_MAGIC 0x53726448u /* "HdrS" */

static bool phys_ok(uint64_t addr, uint64_t size)
{
    return addr && addr < IDENTITY_LIMIT && size <= IDENTITY_LIMIT - addr;
}

static void copy_cmdline(uint64_t phys)
{
    if (!phys)
        return;
    if (!phys_ok(phys, 1)) {
        boot_error = "command line lies above 4 GiB; ignored";
        return;
    }
    const char *src = (const char *)(uintptr_t)phys;
    size_t len = strlcpy(boot_info.cmdline, src, sizeof(boot_info.cmdline));
    boot_info.cmdline_truncated = len >= sizeof(boot_info.cmdline);
}

static void add_mem_range(uint64_t base, uint64_t size, uint32_t type)
{
    if (size == 0)
        return; /* QEMU's PVH map ends with an empty entry */
    if (boot_info.memmap_count >= BOOT_MEMMAP_MAX) {
        boot_error = "memory map has too many entries; the rest is ignored";
        return;
    }
    boot_info.memmap[boot_info.memmap_count++] = (struct boot_mem_range){ base, size, type };
}

static void boot_from_pvh(uint64_t phys)
{
    const struct pvh_start_info *si = (const void *)(uintptr_t)phys;
    boot_info.protocol = "pvh";
    if (!phys_ok(phys, sizeof(*si)) || si->magic != PVH_MAGIC) {
        boot_error = "PVH start_info missing or bad magic";
        return;
    }
    copy_cmdline(si->cmdline_paddr);
    boot_info.rsdp = si->rsdp_paddr;
    if (si->nr_modules && phys_ok(si->modlist_paddr, sizeof(struct pvh_module))) {
        const struct pvh_module *m = (const void *)(uintptr_t)si->modlist_paddr;
        boot_info.initrd_base = m->paddr;
        boot_info.initrd_size = m->size;
    }
    if (si->version < 1 || !si->memmap_entries ||
        !phys_ok(si->memmap_paddr, si->memmap_entries * sizeof(struct pvh_memmap_entry))) {
        boot_error = "PVH start_info has no memory map (version 0 loader?)";
        return;
    }
    const struct pvh_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries; i++)
        add_mem_range(e[i].addr, e[i].size, e[i].type);
}

static void boot_from_linux(uint64_t phys)
{
    const uint8_t *bp = (const uint8_t *)(uintptr_t)phys;
    boot_info.protocol = "linux";
    if (!phys_ok(phys, 4096)) {
        boot_error = "Linux boot_params pointer invalid";
        return;
    }
    if (*(const uint32_t *)(bp + BP_HDR_MAGIC) != LINUX_HDR_MAGIC)
        boot_error = "Linux boot_params header lacks the HdrS magic; trusting it anyway";
    uint64_t cmd = *(const uint32_t *)(bp + BP_CMD_LINE_PTR) |
                   (uint64_t)*(const uint32_t *)(bp + BP_EXT_CMD_LINE_PTR) << 32;
    copy_cmdline(cmd);
    boot_info.initrd_base = *(const uint32_t *)(bp + BP_RAMDISK_IMAGE) |
                            (uint64_t)*(const uint32_t *)(bp + BP_EXT_RAMDISK_IMAGE) << 32;
    boot_info.initrd_size = *(const uint32_t *)(bp + BP_RAMDISK_SIZE) |
                            (uint64_t)*(const uint32_t *)(bp + BP_EXT_RAMDISK_SIZE) << 32;
    if (!boot_info.initrd_base)
        boot_info.initrd_size = 0;
    boot_info.rsdp = *(const uint64_t *)(bp + BP_ACPI_RSDP);
    unsigned n = bp[BP_E820_ENTRIES];
    if (n > BP_E820_MAX)
        n = BP_E820_MAX;
    const struct e820_entry *e = (const void *)(bp + BP_E820_TABLE);
    for (unsigned i = 0; i < n; i++)
        add_mem_range(e[i].addr, e[i].size, e[i].type);
    if (!n)
        boot_error = "Linux boot_params has an empty e820 memory map";
}

void boot_start(uint32_t protocol, uint64_t info_phys)
{
    boot_info.tsc_at_entry = boot_tsc0;
    if (protocol == BOOT_PROTO_PVH)
        boot_from_pvh(info_phys);
    else
        boot_from_linux(info_phys);
    kmain();
}
