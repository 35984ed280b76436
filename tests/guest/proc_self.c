/* Guest test: /proc/self as runtimes read it. maps shows this program's
 * text, heap, stack and vDSO; status has Linux's fields in Linux's order;
 * stat has 52 fields whose addresses match argv and environ; cmdline,
 * environ, exe, cwd, fd/, fdinfo/, task/, comm, oom_score_adj, limits,
 * auxv, mounts, mountinfo and cgroup say what Linux says. */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;
static char text[1 << 17];
int main(int argc, char **argv);

/* The whole file (NUL-terminated) and its length, or -1. */
static long slurp_into(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    return (long)len;
}

static const char *slurp(const char *path)
{
    return slurp_into(path, text, sizeof(text)) >= 0 ? text : "";
}

/* The value after "key:\t" in status-like text, copied, or NULL. */
static const char *field(const char *t, const char *key)
{
    static char val[512];
    size_t n = strlen(key);
    for (const char *l = t; *l;) {
        if (!strncmp(l, key, n) && l[n] == ':' && l[n + 1] == '\t') {
            const char *v = l + n + 2, *nl = strchr(v, '\n');
            size_t len = nl ? (size_t)(nl - v) : strlen(v);
            if (len >= sizeof(val))
                len = sizeof(val) - 1;
            memcpy(val, v, len);
            val[len] = 0;
            return val;
        }
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return NULL;
}

/* The maps line whose range holds addr: start, end, perms and name. */
static int maps_find(const char *maps, uintptr_t addr, char perms[5], char *name, size_t size)
{
    for (const char *l = maps; *l;) {
        unsigned long s, e, off, ino;
        unsigned dmaj, dmin;
        char p[5];
        int used = 0;
        if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu%n", &s, &e, p, &off, &dmaj, &dmin, &ino, &used) == 7 &&
            addr >= s && addr < e) {
            const char *nm = l + used, *nl = strchr(nm, '\n');
            while (*nm == ' ')
                nm++;
            size_t len = nl ? (size_t)(nl - nm) : strlen(nm);
            len = len < size - 1 ? len : size - 1;
            memcpy(name, nm, len);
            name[len] = 0;
            memcpy(perms, p, 5);
            return 1;
        }
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return 0;
}

static void test_maps(const char *exe)
{
    char *maps = strdup(slurp("/proc/self/maps"));
    char perms[5], name[512];
    int local = 0;
    CHECK(maps_find(maps, (uintptr_t)&main, perms, name, sizeof(name)) && perms[0] == 'r' && perms[2] == 'x' &&
              !strcmp(name, exe), "maps: main's text is r-x in %s (%s %s)", exe, perms, name);
    CHECK(maps_find(maps, (uintptr_t)&local, perms, name, sizeof(name)) && !strcmp(name, "[stack]") &&
              !strncmp(perms, "rw", 2), "maps: a local variable is in [stack] (%s)", name);
    uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
    CHECK(vdso && maps_find(maps, vdso, perms, name, sizeof(name)) && !strcmp(name, "[vdso]"),
          "maps: AT_SYSINFO_EHDR is in [vdso] (%s)", name);
    free(maps);
    char *old = (char *)syscall(SYS_brk, 0); /* musl's sbrk only reports */
    CHECK(syscall(SYS_brk, old + 8192) == (long)(old + 8192), "brk grows the heap");
    old[100] = 1;
    maps = strdup(slurp("/proc/self/maps"));
    CHECK(maps_find(maps, (uintptr_t)old + 100, perms, name, sizeof(name)) && !strcmp(name, "[heap]"),
          "maps: memory from sbrk is in [heap] (%s)", name);
    free(maps);
}

static void on_signal(int sig)
{
    (void)sig;
}

static void test_status(void)
{
    const char *t = slurp("/proc/self/status");
    static const char *const order[] = {
        "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize",
        "Groups", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
        "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "Threads", "SigQ", "SigPnd", "ShdPnd",
        "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
        "Seccomp", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list",
        "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
    };
    const char *prev = t;
    int in_order = 1;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        char key[64];
        snprintf(key, sizeof(key), "\n%s:\t", order[i]);
        const char *at = i == 0 ? (strncmp(t, "Name:\t", 6) ? NULL : t) : strstr(t, key);
        if (!at || at < prev) {
            printf("     status: %s missing or out of order\n", order[i]);
            in_order = 0;
        }
        prev = at ? at : prev;
    }
    CHECK(in_order, "status: every field present in Linux's order");
    char comm[17] = "";
    prctl(PR_GET_NAME, comm);
    const char *v;
    CHECK((v = field(t, "Name")) && !strcmp(v, comm), "status: Name %s is the thread name %s", v, comm);
    CHECK((v = field(t, "State")) && !strcmp(v, "R (running)"), "status: State %s", v);
    CHECK((v = field(t, "Tgid")) && atoi(v) == getpid(), "status: Tgid is getpid()");
    CHECK((v = field(t, "Pid")) && atoi(v) == (int)syscall(SYS_gettid), "status: Pid is gettid()");
    unsigned u[4] = { 9, 9, 9, 9 };
    CHECK((v = field(t, "Uid")) && sscanf(v, "%u\t%u\t%u\t%u", &u[0], &u[1], &u[2], &u[3]) == 4 &&
              u[0] == getuid() && u[1] == geteuid(), "status: Uid has 4 ids: %s", v);
    CHECK((v = field(t, "Threads")) && atoi(v) == 1, "status: Threads 1");
    unsigned long kb = 0;
    char unit[8] = "";
    CHECK((v = field(t, "VmRSS")) && strlen(v) == 11 && sscanf(v, "%8lu %2s", &kb, unit) == 2 && kb > 0 &&
              !strcmp(unit, "kB"), "status: VmRSS '%s' is %%8lu kB", v);
    CHECK((v = field(t, "SigQ")) && strchr(v, '/'), "status: SigQ n/limit");
    CHECK((v = field(t, "Cpus_allowed_list")) && v[0] == '0', "status: Cpus_allowed_list %s", v);
    CHECK((v = field(t, "Mems_allowed_list")) && !strcmp(v, "0"), "status: Mems_allowed_list 0");

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR2, on_signal);
    t = slurp("/proc/self/status");
    unsigned long long blk = 0, ign = 0, cgt = 0;
    CHECK((v = field(t, "SigBlk")) && strlen(v) == 16 && sscanf(v, "%llx", &blk) == 1 && (blk & (1ull << (SIGUSR1 - 1))),
          "status: SigBlk %s has SIGUSR1", v);
    CHECK((v = field(t, "SigIgn")) && sscanf(v, "%llx", &ign) == 1 && (ign & (1ull << (SIGPIPE - 1))),
          "status: SigIgn %s has SIGPIPE", v);
    CHECK((v = field(t, "SigCgt")) && sscanf(v, "%llx", &cgt) == 1 && (cgt & (1ull << (SIGUSR2 - 1))),
          "status: SigCgt %s has SIGUSR2", v);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGUSR2, SIG_DFL);
}

/* stat: the fields after "(comm)", split on spaces. */
static int stat_fields(const char *t, char f[64][32], char comm[32])
{
    const char *open = strchr(t, '('), *close = strrchr(t, ')');
    if (!open || !close || close < open || close - open - 1 >= 32)
        return 0;
    memcpy(comm, open + 1, (size_t)(close - open - 1));
    comm[close - open - 1] = 0;
    int n = 2; /* pid and comm; field i (from 1) goes to f[i] */
    for (const char *p = close + 1; *p && *p != '\n' && n < 63;) {
        while (*p == ' ')
            p++;
        int len = 0;
        while (p[len] && p[len] != ' ' && p[len] != '\n')
            len++;
        if (!len)
            break;
        snprintf(f[++n], 32, "%.*s", len, p);
        p += len;
    }
    return n;
}

static void test_stat(int argc, char **argv)
{
    static char f[64][32];
    char comm[32], pname[17] = "";
    const char *t = slurp("/proc/self/stat");
    int n = stat_fields(t, f, comm);
    prctl(PR_GET_NAME, pname);
    CHECK(n == 52, "stat: 52 fields (%d)", n);
    CHECK(atoi(t) == getpid() && !strcmp(comm, pname), "stat: pid %d and (comm) %s", atoi(t), comm);
    CHECK(!strcmp(f[3], "R"), "stat: state %s", f[3]);
    CHECK(atoi(f[20]) == 1, "stat: num_threads %s", f[20]);
    /* Linux's RSS counters lag for a small process: only vsize must be > 0 */
    CHECK(strtoull(f[23], NULL, 10) > 0 && f[24][0] >= '0' && f[24][0] <= '9', "stat: vsize %s, rss %s", f[23], f[24]);
    unsigned long long start_code = strtoull(f[26], NULL, 10), end_code = strtoull(f[27], NULL, 10);
    CHECK(start_code <= (uintptr_t)&main && (uintptr_t)&main < end_code, "stat: main between startcode and endcode");
    CHECK(strtoull(f[28], NULL, 10) == (uintptr_t)argv - sizeof(long), "stat: startstack %s is where argc is (%p)",
          f[28], (void *)((char *)argv - sizeof(long)));
    unsigned long long arg_start = strtoull(f[48], NULL, 10), arg_end = strtoull(f[49], NULL, 10);
    unsigned long long env_start = strtoull(f[50], NULL, 10);
    CHECK(arg_start == (uintptr_t)argv[0] && arg_end == (uintptr_t)argv[argc - 1] + strlen(argv[argc - 1]) + 1,
          "stat: arg_start and arg_end frame argv's strings");
    CHECK(env_start == (uintptr_t)environ[0], "stat: env_start is environ[0]");
    CHECK(strtoull(f[47], NULL, 10) <= (uintptr_t)syscall(SYS_brk, 0), "stat: start_brk %s", f[47]);
    t = slurp("/proc/self/statm");
    unsigned long sz, res, shr, txt, lib, dat, dt;
    CHECK(sscanf(t, "%lu %lu %lu %lu %lu %lu %lu", &sz, &res, &shr, &txt, &lib, &dat, &dt) == 7 && sz >= res,
          "statm: 7 page counts (%.*s)", (int)strcspn(t, "\n"), t);
}

static void test_cmdline_environ(int argc, char **argv)
{
    static char buf[65536];
    long n = slurp_into("/proc/self/cmdline", buf, sizeof(buf));
    long want = 0, ok = 1;
    for (int i = 0; i < argc; i++) {
        ok &= n >= want + (long)strlen(argv[i]) + 1 && !strcmp(buf + want, argv[i]);
        want += (long)strlen(argv[i]) + 1;
    }
    CHECK(ok && n == want, "cmdline: argv, NUL-separated (%ld bytes)", n);
    n = slurp_into("/proc/self/environ", buf, sizeof(buf));
    want = 0;
    ok = 1;
    for (char **e = environ; *e; e++) {
        ok &= n >= want + (long)strlen(*e) + 1 && !strcmp(buf + want, *e);
        want += (long)strlen(*e) + 1;
    }
    CHECK(ok && n == want, "environ: the environment, NUL-separated (%ld bytes)", n);
}

static void test_links(const char *argv0)
{
    char buf[4096], cwd[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    struct stat a, b;
    CHECK(n > 0 && buf[0] == '/' && stat(buf, &a) == 0 && stat(argv0, &b) == 0 && a.st_ino == b.st_ino &&
              a.st_dev == b.st_dev, "exe -> %s, the program", buf);
    CHECK(stat("/proc/self/exe", &a) == 0 && a.st_ino == b.st_ino, "stat follows exe to the program");
    n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK(n > 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(buf, cwd), "cwd -> %s", buf);
    n = readlink("/proc/self/root", buf, sizeof(buf) - 1);
    CHECK(n == 1 && buf[0] == '/', "root -> /");
    n = readlink("/proc/self", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK(n > 0 && atoi(buf) == getpid(), "/proc/self -> %s", buf);
    char want[64];
    snprintf(want, sizeof(want), "%d/task/%ld", getpid(), syscall(SYS_gettid));
    n = readlink("/proc/thread-self", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK(!strcmp(buf, want), "/proc/thread-self -> %s", buf);
    CHECK(lstat("/proc/self", &a) == 0 && S_ISLNK(a.st_mode) && stat("/proc/self", &b) == 0 && S_ISDIR(b.st_mode),
          "/proc/self is a link to a directory");
}

static int dir_has(const char *path, const char *name, int *count)
{
    DIR *d = opendir(path);
    int found = 0;
    *count = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        (*count)++;
        found |= !strcmp(e->d_name, name);
    }
    if (d)
        closedir(d);
    return found;
}

static void test_fds(void)
{
    char path[64], link[64], buf[256], name[16];
    snprintf(path, sizeof(path), "/tmp/proc_self.%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK(fd >= 0 && !strcmp(buf, path), "fd/%d -> %s", fd, buf);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode) && (st.st_mode & 0777) == 0700, "fd/%d is lrwx------", fd);
    int count;
    snprintf(name, sizeof(name), "%d", fd);
    CHECK(dir_has("/proc/self/fd", name, &count) && dir_has("/proc/self/fd", "0", &count), "fd/ lists 0 and %d", fd);
    CHECK(write(fd, "hello", 5) == 5, "write 5 bytes");
    snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", fd);
    const char *t = slurp(link);
    unsigned flags = 0;
    const char *v;
    CHECK((v = field(t, "pos")) && !strcmp(v, "5"), "fdinfo: pos 5");
    CHECK((v = field(t, "flags")) && v[0] == '0' && sscanf(v, "%o", &flags) == 1 && (flags & O_ACCMODE) == O_RDWR,
          "fdinfo: flags %s in octal, O_RDWR", v);
    CHECK(field(t, "mnt_id") != NULL, "fdinfo: mnt_id");
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
    n = readlink(link, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK(!strncmp(buf, "pipe:[", 6) && buf[n - 1] == ']', "a pipe's fd -> %s", buf);
    CHECK(lstat(link, &st) == 0 && (st.st_mode & 0777) == 0500, "the read end is lr-x------");
    close(p[0]);
    close(p[1]);
    close(fd);
    unlink(path);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    CHECK_ERR(lstat(link, &st), ENOENT, "a closed fd is gone from fd/");
}

static int thread_go[2], thread_done[2];
static long thread_tid;

static void *thread_main(void *arg)
{
    (void)arg;
    char c;
    thread_tid = syscall(SYS_gettid);
    prctl(PR_SET_NAME, "proc-worker");
    if (write(thread_go[1], "x", 1) != 1 || read(thread_done[0], &c, 1) != 1)
        return NULL;
    return NULL;
}

static void test_tasks(void)
{
    char path[128], name[16];
    int count;
    snprintf(name, sizeof(name), "%d", getpid());
    CHECK(dir_has("/proc/self/task", name, &count) && count == 1, "task/ lists the one thread %s", name);
    CHECK(dir_has("/proc", name, &count), "/proc lists the process %s", name);
    pthread_t th;
    char c;
    CHECK(pipe(thread_go) == 0 && pipe(thread_done) == 0 && pthread_create(&th, NULL, thread_main, NULL) == 0 &&
              read(thread_go[0], &c, 1) == 1, "a second thread runs");
    snprintf(name, sizeof(name), "%ld", thread_tid);
    CHECK(dir_has("/proc/self/task", name, &count) && count == 2, "task/ lists it too (%d threads)", count);
    snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", thread_tid);
    CHECK(!strcmp(slurp(path), "proc-worker\n"), "task/%ld/comm is its name", thread_tid);
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", thread_tid);
    CHECK(atol(slurp(path)) == thread_tid, "task/%ld/stat starts with its tid", thread_tid);
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", thread_tid);
    const char *v = field(slurp(path), "Pid");
    CHECK(v && atol(v) == thread_tid, "task/%ld/status Pid", thread_tid);
    v = field(slurp("/proc/self/status"), "Threads");
    CHECK(v && atoi(v) == 2, "status: Threads 2");
    snprintf(path, sizeof(path), "/proc/%ld/stat", thread_tid);
    CHECK(access(path, R_OK) == 0, "/proc/<tid> of a thread resolves");
    CHECK(write(thread_done[1], "x", 1) == 1 && pthread_join(th, NULL) == 0, "the thread ends");
    snprintf(path, sizeof(path), "/proc/self/task/%ld", thread_tid);
    struct stat st;
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) { /* it may take a moment to be reaped */
        gone = stat(path, &st) != 0 && errno == ENOENT;
        if (!gone)
            usleep(5000);
    }
    CHECK(gone, "its task/ directory is gone");
}

static void test_writable(void)
{
    char saved[32];
    snprintf(saved, sizeof(saved), "%s", slurp("/proc/self/comm"));
    int fd = open("/proc/self/comm", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "renamed", 7) == 7, "write comm");
    close(fd);
    char name[17] = "";
    prctl(PR_GET_NAME, name);
    CHECK(!strcmp(slurp("/proc/self/comm"), "renamed\n") && !strcmp(name, "renamed"), "comm sets the thread name");
    saved[strcspn(saved, "\n")] = 0;
    prctl(PR_SET_NAME, saved);
    fd = open("/proc/self/oom_score_adj", O_RDWR);
    CHECK(fd >= 0 && write(fd, "100\n", 4) == 4, "write oom_score_adj 100");
    char buf[16] = "";
    CHECK(pread(fd, buf, sizeof(buf) - 1, 0) == 4 && !strcmp(buf, "100\n"), "oom_score_adj reads back 100");
    CHECK_ERR(write(fd, "5000", 4), EINVAL, "oom_score_adj refuses 5000");
    CHECK(write(fd, "0", 1) == 1, "oom_score_adj back to 0");
    close(fd);
    CHECK(atoi(slurp("/proc/self/oom_score")) >= 0, "oom_score parses");
}

static void test_limits(void)
{
    const char *t = slurp("/proc/self/limits");
    const char *head = "Limit                     Soft Limit           Hard Limit           Units     \n";
    CHECK(!strncmp(t, head, strlen(head)), "limits: the header line");
    const char *l = strstr(t, "\nMax open files ");
    l = l ? l + 1 : NULL;
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    unsigned long soft = 0, hard = 0;
    CHECK(l && sscanf(l + 26, "%lu", &soft) == 1 && sscanf(l + 47, "%lu", &hard) == 1 && soft == r.rlim_cur &&
              hard == r.rlim_max && !strncmp(l + 68, "files     \n", 11),
          "limits: Max open files %lu %lu in their columns", soft, hard);
    l = strstr(t, "\nMax stack size ");
    CHECK(l && !strncmp(l + 1 + 26, "8388608              unlimited            bytes", 47), "limits: stack 8 MiB");
    int lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    CHECK(lines == 17, "limits: 16 limits and the header (%d lines)", lines);
}

static void test_misc(void)
{
    static char buf[4096];
    long n = slurp_into("/proc/self/auxv", buf, sizeof(buf));
    unsigned long *av = (unsigned long *)buf, pagesz = 0, entry = 0;
    for (long i = 0; i + 1 < n / 8; i += 2) {
        if (av[i] == AT_PAGESZ)
            pagesz = av[i + 1];
        if (av[i] == AT_ENTRY)
            entry = av[i + 1];
    }
    CHECK(n > 0 && n % 16 == 0 && pagesz == 4096 && entry == getauxval(AT_ENTRY), "auxv: binary pairs (%ld bytes)", n);
    const char *t = slurp("/proc/self/mounts");
    CHECK(strstr(t, "proc /proc proc rw,") != NULL, "mounts: proc on /proc");
    t = slurp("/proc/mounts");
    CHECK(strstr(t, " /proc proc ") != NULL, "/proc/mounts is self/mounts");
    t = slurp("/proc/self/mountinfo");
    const char *l = strstr(t, " /proc rw,");
    int id, parent;
    unsigned maj, min;
    char root[64];
    const char *line = l;
    while (line && line > t && line[-1] != '\n')
        line--;
    CHECK(l && sscanf(line, "%d %d %u:%u %63s", &id, &parent, &maj, &min, root) == 5 && !strcmp(root, "/") &&
              strstr(l, " - proc proc ") && strstr(l, "\n"), "mountinfo: /proc's line");
    t = slurp("/proc/self/cgroup");
    CHECK(!strncmp(t, "0::/", 4) || strstr(t, "\n0::/"), "cgroup: a v2 line 0::/...");
    n = slurp_into("/proc/self/loginuid", buf, sizeof(buf));
    CHECK(n > 0 && buf[n - 1] != '\n', "loginuid has no newline");
}

/* Partial reads and seeks see the same text as one read. */
static void test_partial_reads(void)
{
    static char whole[8192], pieces[8192];
    long n = slurp_into("/proc/version", whole, sizeof(whole));
    int fd = open("/proc/version", O_RDONLY);
    long got = 0;
    ssize_t r;
    while ((r = read(fd, pieces + got, 3)) > 0)
        got += r;
    CHECK(n > 0 && got == n && !memcmp(whole, pieces, (size_t)n), "version read 3 bytes at a time");
    char b[8] = "";
    CHECK(lseek(fd, 8, SEEK_SET) == 8 && read(fd, b, 7) == 7 && !memcmp(b, whole + 8, 7), "lseek + read");
    CHECK(pread(fd, b, 5, 0) == 5 && !memcmp(b, whole, 5), "pread at 0");
    close(fd);
    struct stat st;
    CHECK(stat("/proc/self/status", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0, "status: size 0, as Linux");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (access("/proc/self/stat", R_OK) != 0) {
        printf("FAIL no /proc (%s)\n", strerror(errno));
        return 1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    test_maps(exe);
    test_status();
    test_stat(argc, argv);
    test_cmdline_environ(argc, argv);
    test_links(argv[0]);
    test_fds();
    test_tasks();
    test_writable();
    test_limits();
    test_misc();
    test_partial_reads();
    return check_exit();
}
