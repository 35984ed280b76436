/* The kernel side of the vDSO: the [vvar] data page (clock parameters under a
 * sequence count), the kvmclock page, and mapping both with the vDSO image
 * into the application. */
#include "exec/vdso.h"
#include "arch/cpu.h"
#include "arch/layout.h"
#include "core/clock.h"
#include "core/log.h"
#include "exec/elf.h"
#include "exec/vdso_data.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"
#include "mm/vm.h"

#define VDSO_MAX_PAGES 8

extern const uint8_t vdso_image_start[], vdso_image_end[];

static struct vdso_data *vdso_data;
static uint64_t vvar_phys[VDSO_VVAR_PAGES];
static uint64_t image_phys[VDSO_MAX_PAGES];
static unsigned image_pages;

static uint64_t kernel_image_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p - KERNEL_VMA;
}

static void vdso_disable(const char *why)
{
    pr_err("vdso: %s; applications will use system calls for the time\n", why);
    image_pages = 0;
}

void vdso_init(void)
{
    size_t size = (size_t)(vdso_image_end - vdso_image_start);
    image_pages = (unsigned)DIV_ROUND_UP(size, (size_t)PAGE_SIZE);
    if (size < sizeof(Elf64_Ehdr) || memcmp(vdso_image_start, ELF_MAGIC, 4) || image_pages > VDSO_MAX_PAGES)
        return vdso_disable("the built-in image is not a usable ELF file");
    for (unsigned i = 0; i < image_pages; i++)
        image_phys[i] = kernel_image_phys(vdso_image_start + i * PAGE_SIZE);
    vdso_data = page_alloc_zeroed(0);
    if (!vdso_data)
        return vdso_disable("out of memory");
    struct clock_user_params cp;
    int mode = clock_user_params(&cp);
    vdso_data->mode = mode == CLOCK_USER_TSC ? VDSO_MODE_TSC
                      : mode == CLOCK_USER_PVCLOCK ? VDSO_MODE_PVCLOCK : VDSO_MODE_SYSCALL;
    vdso_data->tsc_base = cp.tsc_base;
    vdso_data->ns_per_tick_fp = cp.ns_per_tick_fp;
    vdso_data->pvclock_offset_ns = cp.pvclock_offset_ns;
    vdso_data->epoch_ns = cp.epoch_ns;
    vdso_data->resolution_ns = 1;
    vdso_data->have_rdtscp = cpu_features.rdtscp;
    vvar_phys[0] = virt_to_phys(vdso_data);
    vvar_phys[1] = kernel_image_phys(cp.pvclock_virt);
}

void vdso_update_realtime(void)
{
    if (!vdso_data)
        return;
    struct clock_user_params cp;
    clock_user_params(&cp);
    __atomic_fetch_add(&vdso_data->seq, 1, __ATOMIC_RELEASE);
    vdso_data->epoch_ns = cp.epoch_ns;
    __atomic_fetch_add(&vdso_data->seq, 1, __ATOMIC_RELEASE);
}

long vdso_map(struct vm_space *vm)
{
    if (!image_pages)
        return 0; /* no vDSO: the C library uses the system calls */
    size_t total = (VDSO_VVAR_PAGES + image_pages) * PAGE_SIZE;
    /* find room for both, then place them side by side */
    long at = vm_mmap(vm, 0, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, NULL, 0);
    if (at < 0)
        return at;
    int e = vm_munmap(vm, (uintptr_t)at, total);
    if (e)
        return e;
    long r = vm_map_special(vm, (uintptr_t)at, VDSO_VVAR_PAGES * PAGE_SIZE, PROT_READ, vvar_phys, "[vvar]");
    if (r < 0)
        return r;
    uintptr_t base = (uintptr_t)at + VDSO_VVAR_PAGES * PAGE_SIZE;
    r = vm_map_special(vm, base, image_pages * PAGE_SIZE, PROT_READ | PROT_EXEC, image_phys, "[vdso]");
    return r < 0 ? r : (long)base;
}
