/* Guest program: prints /proc and /sys files between marker lines, and what
 * sysconf and get_nprocs say, so tests/test_procfs.py can parse them the way
 * Python, psutil and libmount do and compare their layout with the host's.
 * As a guest test it checks only that every file can be read. */
#include "check.h"
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static const char *const files[] = {
    "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/uptime", "/proc/loadavg", "/proc/version",
    "/proc/filesystems", "/proc/swaps", "/proc/self/status", "/proc/self/stat", "/proc/self/statm",
    "/proc/self/limits", "/proc/self/mountinfo", "/proc/self/mounts", "/proc/self/maps",
    "/proc/self/smaps_rollup", "/proc/self/cgroup", "/proc/self/fdinfo/0", "/sys/devices/system/cpu/online",
    "/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/cpu0/topology/core_siblings",
    "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/sys/kernel/random/boot_id",
};

static int dump(const char *path)
{
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;
    close(fd);
    printf("@@@ begin %s\n", path);
    fwrite(buf, 1, len, stdout);
    printf("%s@@@ end %s\n", len && buf[len - 1] == '\n' ? "" : "\n", path);
    return 0;
}

int main(void)
{
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        CHECK(dump(files[i]) == 0, "read %s", files[i]);
    printf("@@@ nprocs onln=%ld conf=%ld get_nprocs=%d get_nprocs_conf=%d\n", sysconf(_SC_NPROCESSORS_ONLN),
           sysconf(_SC_NPROCESSORS_CONF), get_nprocs(), get_nprocs_conf());
    fflush(stdout);
    return check_exit();
}
