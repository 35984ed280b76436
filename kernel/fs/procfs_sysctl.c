/* /proc/sys: the kernel tunables runtimes read (and the host names, which
 * may be written). Values Osprey does not let change are read-only: opening
 * them for writing fails with EACCES, as for a read-only sysctl on Linux. */
#include "arch/spinlock.h"
#include "core/uts.h"
#include "fs/fdtable.h"
#include "fs/procfs.h"
#include "fs/random.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"
#include "mm/vm.h"

/* A read-only sysctl showing a fixed string. */
#define SYSCTL_CONST(nm, fn) \
    { .name = nm, .mode = 0444, .type = PROCFS_FILE, .flags = PROCFS_WRITE_EACCES, .show = fn }
#define SYSCTL_RW(nm, fn, st) \
    { .name = nm, .mode = 0644, .type = PROCFS_FILE, .flags = PROCFS_WRITE_EACCES, .show = fn, .store = st }

#define SYSCTL_SHOW(fname, ...)                                                   \
    static int fname(const struct procfs_node *n, struct procfs_buf *b)          \
    {                                                                             \
        (void)n;                                                                  \
        procfs_printf(b, __VA_ARGS__);                                            \
        return 0;                                                                 \
    }

static uint64_t sysctl_total_pages(void)
{
    struct phys_stats ps;
    phys_get_stats(&ps);
    return ps.total_pages;
}

/* ---- kernel/ ---- */

SYSCTL_SHOW(sysctl_hostname, "%s\n", uts_hostname())
SYSCTL_SHOW(sysctl_domainname, "%s\n", uts_domainname())
SYSCTL_SHOW(sysctl_osrelease, "%s\n", UTS_RELEASE)
SYSCTL_SHOW(sysctl_ostype, "%s\n", UTS_SYSNAME)
SYSCTL_SHOW(sysctl_version, "%s\n", UTS_VERSION)
SYSCTL_SHOW(sysctl_pid_max, "%d\n", 32768)
SYSCTL_SHOW(sysctl_ngroups_max, "%d\n", 65536)
SYSCTL_SHOW(sysctl_cap_last_cap, "%d\n", 40)
SYSCTL_SHOW(sysctl_overflowid, "%d\n", 65534)
SYSCTL_SHOW(sysctl_random_pool, "%d\n", 256)
/* Linux allows a thread's stack (16 KiB) per 8 of its size in RAM. */
SYSCTL_SHOW(sysctl_threads_max, "%lu\n", MAX(sysctl_total_pages() / 32, 20ul))

/* A string sysctl takes the text up to the first newline; longer is cut. */
static size_t sysctl_string_len(const char *data, size_t len, size_t max)
{
    const char *nl = memchr(data, '\n', len);
    len = nl ? (size_t)(nl - data) : len;
    len = strnlen(data, len);
    return MIN(len, max);
}

static int sysctl_store_hostname(const struct procfs_node *n, const char *data, size_t len)
{
    (void)n;
    return uts_set_hostname(data, sysctl_string_len(data, len, UTS_LEN - 1));
}

static int sysctl_store_domainname(const struct procfs_node *n, const char *data, size_t len)
{
    (void)n;
    return uts_set_domainname(data, sysctl_string_len(data, len, UTS_LEN - 1));
}

/* A random (version 4) UUID in its 8-4-4-4-12 form. */
static void sysctl_uuid(struct procfs_buf *b, const uint8_t raw[16])
{
    uint8_t u[16];
    memcpy(u, raw, sizeof(u));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++)
        procfs_printf(b, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
    procfs_puts(b, "\n");
}

static int sysctl_uuid_new(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    uint8_t raw[16];
    random_get_bytes(raw, sizeof(raw));
    sysctl_uuid(b, raw);
    return 0;
}

/* boot_id: drawn at the first read, the same for the rest of the boot. */
static int sysctl_boot_id(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    static uint8_t id[16];
    static bool drawn;
    static spinlock_t lock = SPINLOCK_INIT;
    irqflags_t f = spin_lock(&lock);
    if (!drawn) {
        random_get_bytes(id, sizeof(id));
        drawn = true;
    }
    uint8_t copy[16];
    memcpy(copy, id, sizeof(copy));
    spin_unlock(&lock, f);
    sysctl_uuid(b, copy);
    return 0;
}

static const struct procfs_entry sysctl_random_entries[] = {
    SYSCTL_CONST("boot_id", sysctl_boot_id),
    SYSCTL_CONST("entropy_avail", sysctl_random_pool),
    SYSCTL_CONST("poolsize", sysctl_random_pool),
    SYSCTL_CONST("uuid", sysctl_uuid_new),
};
static const struct procfs_dir sysctl_random_dir = { PROCFS_TABLE(sysctl_random_entries) };

static const struct procfs_entry sysctl_kernel_entries[] = {
    SYSCTL_CONST("cap_last_cap", sysctl_cap_last_cap),
    SYSCTL_RW("domainname", sysctl_domainname, sysctl_store_domainname),
    SYSCTL_RW("hostname", sysctl_hostname, sysctl_store_hostname),
    SYSCTL_CONST("ngroups_max", sysctl_ngroups_max),
    SYSCTL_CONST("osrelease", sysctl_osrelease),
    SYSCTL_CONST("ostype", sysctl_ostype),
    SYSCTL_CONST("overflowgid", sysctl_overflowid),
    SYSCTL_CONST("overflowuid", sysctl_overflowid),
    SYSCTL_CONST("pid_max", sysctl_pid_max),
    PROCFS_DIR("random", sysctl_random_dir),
    SYSCTL_CONST("threads-max", sysctl_threads_max),
    SYSCTL_CONST("version", sysctl_version),
};
static const struct procfs_dir sysctl_kernel_dir = { PROCFS_TABLE(sysctl_kernel_entries) };

/* ---- vm/, fs/, net/ ---- */

SYSCTL_SHOW(sysctl_overcommit_memory, "0\n")
SYSCTL_SHOW(sysctl_overcommit_ratio, "50\n")
SYSCTL_SHOW(sysctl_max_map_count, "%d\n", VM_MAX_MAP_COUNT)
SYSCTL_SHOW(sysctl_mmap_min_addr, "%lu\n", VM_MMAP_MIN_ADDR)
SYSCTL_SHOW(sysctl_nr_open, "%d\n", FD_HARD_LIMIT)
/* Linux's default: a file per 10 KiB of RAM, at least 8192. */
SYSCTL_SHOW(sysctl_file_max, "%lu\n", MAX(sysctl_total_pages() * 4 / 10, 8192ul))
SYSCTL_SHOW(sysctl_somaxconn, "4096\n")

static const struct procfs_entry sysctl_vm_entries[] = {
    SYSCTL_CONST("max_map_count", sysctl_max_map_count),
    SYSCTL_CONST("mmap_min_addr", sysctl_mmap_min_addr),
    SYSCTL_CONST("overcommit_memory", sysctl_overcommit_memory),
    SYSCTL_CONST("overcommit_ratio", sysctl_overcommit_ratio),
};
static const struct procfs_dir sysctl_vm_dir = { PROCFS_TABLE(sysctl_vm_entries) };

static const struct procfs_entry sysctl_fs_entries[] = {
    SYSCTL_CONST("file-max", sysctl_file_max),
    SYSCTL_CONST("nr_open", sysctl_nr_open),
};
static const struct procfs_dir sysctl_fs_dir = { PROCFS_TABLE(sysctl_fs_entries) };

static const struct procfs_entry sysctl_net_core_entries[] = {
    SYSCTL_CONST("somaxconn", sysctl_somaxconn),
};
static const struct procfs_dir sysctl_net_core_dir = { PROCFS_TABLE(sysctl_net_core_entries) };
static const struct procfs_entry sysctl_net_entries[] = { PROCFS_DIR("core", sysctl_net_core_dir) };
static const struct procfs_dir sysctl_net_dir = { PROCFS_TABLE(sysctl_net_entries) };

static const struct procfs_entry sysctl_entries[] = {
    PROCFS_DIR("fs", sysctl_fs_dir),
    PROCFS_DIR("kernel", sysctl_kernel_dir),
    PROCFS_DIR("net", sysctl_net_dir),
    PROCFS_DIR("vm", sysctl_vm_dir),
};
const struct procfs_dir procfs_sys_dir = { PROCFS_TABLE(sysctl_entries) };
