/* sysfs (/sys), the minimal part runtimes read: the CPU lists and topology
 * (glibc's get_nprocs and sysconf, the JVM, Go), the transparent huge page
 * policy (the JVM, Go's hpage_pmd_size). /sys/fs/cgroup is absent on
 * purpose: lookups get ENOENT and runtimes then assume no limits. */
#include "arch/layout.h"
#include "core/cpu.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "lib/errno.h"

static uint64_t sysfs_online_mask(void)
{
    return procfs_cpu_mask(0);
}

static int sysfs_show_cpu_list(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_cpu_list(b, sysfs_online_mask()); /* every CPU there is runs: no hot-plug */
    procfs_puts(b, "\n");
    return 0;
}

static int sysfs_show_empty_line(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "\n");
    return 0;
}

static int sysfs_show_kernel_max(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%d\n", MAX_CPUS - 1);
    return 0;
}

/* ---- cpuN/topology: one package, one core per CPU, one thread per core ---- */

static int sysfs_show_zero(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "0\n");
    return 0;
}

/* The CPU's own number: its core id and the list of its core's CPUs. */
static int sysfs_show_index(const struct procfs_node *n, struct procfs_buf *b)
{
    procfs_printf(b, "%d\n", n->index);
    return 0;
}

static int sysfs_show_self_mask(const struct procfs_node *n, struct procfs_buf *b)
{
    procfs_bitmap(b, 1ull << n->index, cpu_count);
    procfs_puts(b, "\n");
    return 0;
}

static int sysfs_show_all_mask(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_bitmap(b, sysfs_online_mask(), cpu_count);
    procfs_puts(b, "\n");
    return 0;
}

static const struct procfs_entry sysfs_topology_entries[] = {
    PROCFS_FILE_RO("core_cpus", sysfs_show_self_mask),
    PROCFS_FILE_RO("core_cpus_list", sysfs_show_index),
    PROCFS_FILE_RO("core_id", sysfs_show_index),
    PROCFS_FILE_RO("core_siblings", sysfs_show_all_mask),
    PROCFS_FILE_RO("core_siblings_list", sysfs_show_cpu_list),
    PROCFS_FILE_RO("die_cpus", sysfs_show_all_mask),
    PROCFS_FILE_RO("die_cpus_list", sysfs_show_cpu_list),
    PROCFS_FILE_RO("die_id", sysfs_show_zero),
    PROCFS_FILE_RO("package_cpus", sysfs_show_all_mask),
    PROCFS_FILE_RO("package_cpus_list", sysfs_show_cpu_list),
    PROCFS_FILE_RO("physical_package_id", sysfs_show_zero),
    PROCFS_FILE_RO("thread_siblings", sysfs_show_self_mask),
    PROCFS_FILE_RO("thread_siblings_list", sysfs_show_index),
};
static const struct procfs_dir sysfs_topology_dir = { PROCFS_TABLE(sysfs_topology_entries) };

static const struct procfs_entry sysfs_cpun_entries[] = {
    PROCFS_DIR("topology", sysfs_topology_dir),
};
static const struct procfs_dir sysfs_cpun_dir = { PROCFS_TABLE(sysfs_cpun_entries) };
static const struct procfs_entry sysfs_cpun_entry = PROCFS_DIR("cpu", sysfs_cpun_dir);

static int sysfs_cpu_next_id(const struct procfs_node *dir, int from)
{
    (void)dir;
    return from >= 0 && (unsigned)from < cpu_count ? from : -1;
}

static bool sysfs_cpu_has_id(const struct procfs_node *dir, int id)
{
    (void)dir;
    return id >= 0 && (unsigned)id < cpu_count;
}

static void sysfs_cpu_enter_id(struct procfs_node *child, int id)
{
    child->index = id;
}

static const struct procfs_entry sysfs_cpu_entries[] = {
    PROCFS_FILE_RO("kernel_max", sysfs_show_kernel_max),
    PROCFS_FILE_RO("offline", sysfs_show_empty_line),
    PROCFS_FILE_RO("online", sysfs_show_cpu_list),
    PROCFS_FILE_RO("possible", sysfs_show_cpu_list),
    PROCFS_FILE_RO("present", sysfs_show_cpu_list),
};
static const struct procfs_dir sysfs_cpu_dir = {
    PROCFS_TABLE(sysfs_cpu_entries),
    .numbered = &sysfs_cpun_entry,
    .prefix = "cpu",
    .next_id = sysfs_cpu_next_id,
    .has_id = sysfs_cpu_has_id,
    .enter_id = sysfs_cpu_enter_id,
};

static const struct procfs_entry sysfs_system_entries[] = { PROCFS_DIR("cpu", sysfs_cpu_dir) };
static const struct procfs_dir sysfs_system_dir = { PROCFS_TABLE(sysfs_system_entries) };
static const struct procfs_entry sysfs_devices_entries[] = { PROCFS_DIR("system", sysfs_system_dir) };
static const struct procfs_dir sysfs_devices_dir = { PROCFS_TABLE(sysfs_devices_entries) };

/* ---- kernel/mm/transparent_hugepage ---- */

/* Anonymous regions get 2 MiB pages wherever a whole aligned block fits,
 * unless MADV_NOHUGEPAGE says no: that is the "always" policy. */
static int sysfs_show_thp_enabled(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "[always] madvise never\n");
    return 0;
}

static int sysfs_show_thp_defrag(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "always defer defer+madvise [madvise] never\n");
    return 0;
}

static int sysfs_show_thp_size(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_printf(b, "%lu\n", MiB(2));
    return 0;
}

static const struct procfs_entry sysfs_thp_entries[] = {
    PROCFS_FILE_RO("defrag", sysfs_show_thp_defrag),
    PROCFS_FILE_RO("enabled", sysfs_show_thp_enabled),
    PROCFS_FILE_RO("hpage_pmd_size", sysfs_show_thp_size),
};
static const struct procfs_dir sysfs_thp_dir = { PROCFS_TABLE(sysfs_thp_entries) };
static const struct procfs_entry sysfs_mm_entries[] = { PROCFS_DIR("transparent_hugepage", sysfs_thp_dir) };
static const struct procfs_dir sysfs_mm_dir = { PROCFS_TABLE(sysfs_mm_entries) };
static const struct procfs_entry sysfs_kernel_entries[] = { PROCFS_DIR("mm", sysfs_mm_dir) };
static const struct procfs_dir sysfs_kernel_dir = { PROCFS_TABLE(sysfs_kernel_entries) };

/* ---- the root ---- */

static const struct procfs_dir sysfs_empty_dir = { 0 };

static const struct procfs_entry sysfs_root_entries[] = {
    PROCFS_DIR("devices", sysfs_devices_dir),
    PROCFS_DIR("fs", sysfs_empty_dir), /* no cgroup: /sys/fs/cgroup is ENOENT */
    PROCFS_DIR("kernel", sysfs_kernel_dir),
};
static const struct procfs_dir sysfs_root_dir = { PROCFS_TABLE(sysfs_root_entries) };
static const struct procfs_entry sysfs_root_entry = PROCFS_DIR("/", sysfs_root_dir);

static int sysfs_mount(const struct vfs_fstype *type, const char *source, unsigned long flags,
                       const char *data, struct vfs_sb **out)
{
    (void)source, (void)flags, (void)data;
    return procfs_mount_table(type, SYSFS_MAGIC, &sysfs_root_entry, out);
}

struct vfs_fstype sysfs_fstype = { .name = "sysfs", .mount = sysfs_mount, .nodev = true };

void sysfs_init(void)
{
    vfs_register_fstype(&sysfs_fstype);
}
