/* Guest test: the system-wide /proc and /sys files as glibc, musl, Go, the
 * JVM and Python read them: cpuinfo and /sys/devices/system/cpu agree with
 * sysconf and get_nprocs, meminfo, stat, uptime and loadavg parse, the
 * sysctls under /proc/sys read (and hostname writes), cgroup files are
 * cleanly absent. osprey: cpus=3 */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static char text[1 << 17];

static const char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    size_t len = 0;
    ssize_t n;
    while (fd >= 0 && len + 1 < sizeof(text) && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    text[len] = 0;
    return text;
}

static int count_lines_starting(const char *t, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        n += !strncmp(l, prefix, len);
    return n;
}

/* "0-2,4" → 4 CPUs; -1 when it does not parse. */
static int cpu_list_count(const char *s)
{
    int n = 0;
    while (*s && *s != '\n') {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s)
            return -1;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        n += (int)(b - a + 1);
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void test_cpus(void)
{
    long onln = sysconf(_SC_NPROCESSORS_ONLN), conf = sysconf(_SC_NPROCESSORS_CONF);
    const char *t = slurp("/proc/cpuinfo");
    int procs = count_lines_starting(t, "processor\t: ");
    CHECK(procs == onln, "cpuinfo: %d processors, sysconf says %ld", procs, onln);
    static const char *const keys[] = { "vendor_id\t: ", "cpu family\t: ", "model\t\t: ", "model name\t: ",
                                        "flags\t\t: ", "bogomips\t: ", "address sizes\t: ", "cpu MHz\t\t: " };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        CHECK(count_lines_starting(t, keys[i]) == procs, "cpuinfo: '%.*s' in every block", (int)strcspn(keys[i], "\t"),
              keys[i]);
    const char *flags = strstr(t, "\nflags\t\t: ");
    CHECK(flags && strstr(flags, " fpu ") && strstr(flags, " sse2 ") && strstr(flags, " lm "), "cpuinfo: flags name fpu, sse2, lm");
    CHECK(get_nprocs() == onln && get_nprocs_conf() == conf && conf >= onln, "get_nprocs %d, get_nprocs_conf %d",
          get_nprocs(), get_nprocs_conf());
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == onln, "sched_getaffinity agrees");
    int online = cpu_list_count(slurp("/sys/devices/system/cpu/online"));
    CHECK(online == onln, "/sys/devices/system/cpu/online: %d CPUs", online);
    int possible = cpu_list_count(slurp("/sys/devices/system/cpu/possible"));
    int present = cpu_list_count(slurp("/sys/devices/system/cpu/present"));
    CHECK(possible >= online && present >= online, "possible %d, present %d", possible, present);
    CHECK(atoi(slurp("/sys/devices/system/cpu/kernel_max")) >= online - 1, "kernel_max");
    int dirs = 0;
    DIR *d = opendir("/sys/devices/system/cpu");
    for (struct dirent *e; d && (e = readdir(d));) {
        int n;
        char rest;
        dirs += sscanf(e->d_name, "cpu%d%c", &n, &rest) == 1;
    }
    if (d)
        closedir(d);
    CHECK(dirs == conf, "/sys/devices/system/cpu has %d cpuN directories", dirs);
    t = slurp("/sys/devices/system/cpu/cpu0/topology/core_id");
    CHECK(t[0] >= '0' && t[0] <= '9', "cpu0/topology/core_id %s", t);
}

static void test_meminfo(void)
{
    const char *t = slurp("/proc/meminfo");
    unsigned long total = 0, mfree = 0, avail = 0;
    CHECK(sscanf(t, "MemTotal: %lu kB\nMemFree: %lu kB\nMemAvailable: %lu kB", &total, &mfree, &avail) == 3 &&
              total >= mfree && mfree > 0 && avail > 0, "meminfo: MemTotal %lu, MemFree %lu, MemAvailable %lu", total,
          mfree, avail);
    int ok = 1, lines = 0;
    for (const char *l = t; *l; lines++) {
        const char *nl = strchr(l, '\n');
        int len = nl ? (int)(nl - l) : (int)strlen(l);
        /* "Key:" padded to 16, a value right-aligned in 8, then " kB" or nothing */
        const char *colon = memchr(l, ':', (size_t)len);
        int kb = len > 3 && !strncmp(l + len - 3, " kB", 3);
        int end = kb ? len - 3 : len;
        int odd = !strncmp(l, "HardwareCorrupted: ", 19); /* Linux's one differently padded line */
        if (!odd && (!colon || colon - l > 15 || (colon - l < 15 && l[15] != ' ') || end < 24 ||
            l[end - 1] < '0' || l[end - 1] > '9' || l[16] == '\t')) {
            printf("     meminfo line '%.*s'\n", len, l);
            ok = 0;
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    CHECK(ok && lines > 20, "meminfo: %d lines in Linux's columns", lines);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0 && (unsigned long)(si.totalram * si.mem_unit / 1024) >= total - total / 100 &&
              (unsigned long)(si.totalram * si.mem_unit / 1024) <= total + total / 100, "sysinfo agrees on MemTotal");
    CHECK(strstr(t, "\nSwapTotal: ") && strstr(t, "\nHugepagesize:       2048 kB\n"), "meminfo: SwapTotal, Hugepagesize");
}

static double uptime_now(double *idle)
{
    double up = -1;
    if (sscanf(slurp("/proc/uptime"), "%lf %lf", &up, idle) != 2)
        return -1;
    return up;
}

static void test_times(void)
{
    double idle = 0, up1 = uptime_now(&idle);
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    CHECK(up1 > 0 && idle >= 0 && up1 - (boot.tv_sec + boot.tv_nsec / 1e9) < 1 &&
              (boot.tv_sec + boot.tv_nsec / 1e9) - up1 < 1, "uptime %.2f matches CLOCK_BOOTTIME", up1);
    usleep(60000);
    double up2 = uptime_now(&idle);
    CHECK(up2 > up1, "uptime increases: %.2f -> %.2f", up1, up2);
    float l1, l5, l15;
    int run, total, last;
    CHECK(sscanf(slurp("/proc/loadavg"), "%f %f %f %d/%d %d", &l1, &l5, &l15, &run, &total, &last) == 6 && run >= 1 &&
              total >= run, "loadavg: %d/%d", run, total);
    const char *t = slurp("/proc/stat");
    unsigned long long v[10];
    CHECK(sscanf(t, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                 &v[6], &v[7], &v[8], &v[9]) == 10, "stat: the cpu line has 10 figures");
    CHECK(count_lines_starting(t, "cpu") - 1 == sysconf(_SC_NPROCESSORS_ONLN), "stat: a cpuN line per CPU");
    const char *b = strstr(t, "\nbtime ");
    long btime = b ? atol(b + 7) : 0;
    time_t now = time(NULL);
    CHECK(btime > 0 && btime <= now && btime >= now - (long)up2 - 5, "stat: btime %ld is boot time", btime);
    const char *r = strstr(t, "\nprocs_running ");
    CHECK(strstr(t, "\nctxt ") && strstr(t, "\nprocesses ") && r && atoi(r + 15) >= 1, "stat: ctxt, processes, procs_running");
    /* top and psutil subtract samples: no figure may go back, idle CPUs included */
    unsigned long long w[10];
    usleep(100000);
    t = slurp("/proc/stat");
    int back = sscanf(t, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &w[0], &w[1], &w[2], &w[3], &w[4],
                      &w[5], &w[6], &w[7], &w[8], &w[9]) != 10;
    for (int i = 0; i < 10; i++)
        back |= w[i] < v[i];
    CHECK(!back && w[0] + w[2] + w[3] > v[0] + v[2] + v[3], "stat: the cpu figures only grow (%llu %llu -> %llu %llu)",
          v[0], v[3], w[0], w[3]);
}

static void test_kernel_files(void)
{
    struct utsname u;
    uname(&u);
    CHECK(!strncmp(slurp("/proc/version"), "Linux version ", 14), "version");
    char want[80];
    snprintf(want, sizeof(want), "%s\n", u.release);
    CHECK(!strcmp(slurp("/proc/sys/kernel/osrelease"), want), "sys/kernel/osrelease is uname's release");
    CHECK(!strcmp(slurp("/proc/sys/kernel/ostype"), "Linux\n"), "sys/kernel/ostype");
    const char *t = slurp("/proc/filesystems");
    CHECK(strstr(t, "nodev\tproc\n") && strstr(t, "nodev\tsysfs\n"), "filesystems lists proc and sysfs");
    CHECK(!strcmp(slurp("/proc/swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n") || strstr(text, "\n/"),
          "swaps: the header");
    t = slurp("/proc/cmdline");
    CHECK(t[0] && t[strlen(t) - 1] == '\n', "cmdline ends with a newline");
}

static int is_uuid(const char *s)
{
    static const int dash[] = { 8, 13, 18, 23 };
    if (strlen(s) != 37 || s[36] != '\n' || s[14] != '4')
        return 0;
    for (int i = 0, k = 0; i < 36; i++) {
        if (k < 4 && i == dash[k]) {
            if (s[i] != '-')
                return 0;
            k++;
        } else if (!strchr("0123456789abcdef", s[i])) {
            return 0;
        }
    }
    return 1;
}

static long read_long(const char *path)
{
    const char *t = slurp(path);
    return t[0] ? atol(t) : -1;
}

static void test_sysctls(void)
{
    char a[64], b[64];
    snprintf(a, sizeof(a), "%s", slurp("/proc/sys/kernel/random/boot_id"));
    snprintf(b, sizeof(b), "%s", slurp("/proc/sys/kernel/random/boot_id"));
    CHECK(is_uuid(a) && !strcmp(a, b), "random/boot_id is a fixed UUID: %.36s", a);
    snprintf(a, sizeof(a), "%s", slurp("/proc/sys/kernel/random/uuid"));
    snprintf(b, sizeof(b), "%s", slurp("/proc/sys/kernel/random/uuid"));
    CHECK(is_uuid(a) && is_uuid(b) && strcmp(a, b), "random/uuid is new at each read");
    CHECK(read_long("/proc/sys/kernel/pid_max") > 300, "pid_max");
    CHECK(read_long("/proc/sys/kernel/threads-max") > 0, "threads-max");
    CHECK(read_long("/proc/sys/kernel/ngroups_max") == 65536, "ngroups_max");
    CHECK(read_long("/proc/sys/kernel/cap_last_cap") >= 36, "cap_last_cap");
    long oc = read_long("/proc/sys/vm/overcommit_memory");
    CHECK(oc >= 0 && oc <= 2, "vm/overcommit_memory %ld", oc);
    CHECK(read_long("/proc/sys/vm/max_map_count") > 0, "vm/max_map_count");
    CHECK(read_long("/proc/sys/net/core/somaxconn") >= 128, "net/core/somaxconn");
    CHECK(read_long("/proc/sys/fs/file-max") > 0 && read_long("/proc/sys/fs/nr_open") >= 1024, "fs/file-max, fs/nr_open");
    CHECK_ERR(open("/proc/sys/kernel/ostype", O_WRONLY), EACCES, "a read-only sysctl refuses writers");
    CHECK_ERR(open("/proc/sys/kernel/no-such-thing", O_RDONLY), ENOENT, "unknown sysctl: ENOENT");
}

/* Writing the host name changes the machine's name: only inside Osprey, or
 * natively in a private UTS namespace. */
static void test_hostname(void)
{
    struct utsname u;
    uname(&u);
    int mine = strstr(u.release, "osprey") != NULL || unshare(CLONE_NEWUTS) == 0;
    if (!mine) {
        printf("skip hostname writes: not in Osprey and no private UTS namespace\n");
        return;
    }
    char saved[80];
    snprintf(saved, sizeof(saved), "%s", slurp("/proc/sys/kernel/hostname"));
    int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "proc-test-host\n", 15) == 15, "write sys/kernel/hostname");
    close(fd);
    char name[80] = "";
    gethostname(name, sizeof(name));
    uname(&u);
    CHECK(!strcmp(name, "proc-test-host") && !strcmp(u.nodename, "proc-test-host"), "gethostname and uname see %s", name);
    CHECK(!strcmp(slurp("/proc/sys/kernel/hostname"), "proc-test-host\n"), "hostname reads back");
    fd = open("/proc/sys/kernel/hostname", O_WRONLY);
    CHECK(fd >= 0 && write(fd, saved, strlen(saved)) == (ssize_t)strlen(saved), "restore the host name");
    close(fd);
}

static void test_sysfs_misc(void)
{
    const char *t = slurp("/sys/kernel/mm/transparent_hugepage/enabled");
    CHECK(strstr(t, "[always]") || strstr(t, "[madvise]") || strstr(t, "[never]"), "transparent_hugepage/enabled: %.*s",
          (int)strcspn(t, "\n"), t);
    CHECK(read_long("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") == 2097152, "hpage_pmd_size 2 MiB");
    /* Go and the JVM probe cgroup files: absent must mean ENOENT, never a crash */
    struct stat st;
    int r = stat("/sys/fs/cgroup/cpu.max", &st);
    CHECK(r == 0 || errno == ENOENT, "/sys/fs/cgroup/cpu.max exists or is ENOENT");
    CHECK_ERR(open("/sys/no/such/file", O_RDONLY), ENOENT, "/sys: unknown names are ENOENT");
    CHECK_ERR(open("/proc/self/no-such-entry", O_RDONLY), ENOENT, "/proc/self: unknown names are ENOENT");
    CHECK_ERR(open("/proc/999999/stat", O_RDONLY), ENOENT, "/proc/999999: no such process");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_cpus();
    test_meminfo();
    test_times();
    test_kernel_files();
    test_sysctls();
    test_hostname();
    test_sysfs_misc();
    return check_exit();
}
