/* The process a program starts as: arguments, environment, the auxiliary
 * vector, identity, limits, system information, randomness, CPU affinity.
 * osprey: cpus=2 */
#include "check.h"

#include <elf.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void check_auxv(const char *argv0)
{
    CHECK(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ is 4096");
    CHECK(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK is 100");
    const uint8_t *rnd = (const uint8_t *)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; rnd && i < 16; i++)
        nonzero |= rnd[i];
    CHECK(rnd && nonzero, "AT_RANDOM points at 16 random bytes");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn && strcmp(execfn, argv0) == 0, "AT_EXECFN is the program path (%s)", execfn ? execfn : "?");
    const char *platform = (const char *)getauxval(AT_PLATFORM);
    CHECK(platform && strcmp(platform, "x86_64") == 0, "AT_PLATFORM is x86_64");
    const Elf64_Ehdr *vdso = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
    CHECK(vdso && memcmp(vdso->e_ident, ELFMAG, SELFMAG) == 0 && vdso->e_type == ET_DYN,
          "AT_SYSINFO_EHDR is a vDSO shared object");
    CHECK(getauxval(AT_PHDR) && getauxval(AT_PHNUM) > 0 && getauxval(AT_PHENT) == sizeof(Elf64_Phdr),
          "AT_PHDR/AT_PHNUM/AT_PHENT describe the program headers");
    CHECK(getauxval(AT_ENTRY) != 0, "AT_ENTRY is set");
    CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE is 0");
    CHECK(getauxval(AT_HWCAP) != 0, "AT_HWCAP is set (glibc replaces the kernel's value with its own)");
    CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_GID) == getgid(), "AT_UID/AT_GID match getuid/getgid");
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    int has_load = 0;
    for (unsigned i = 0; ph && i < getauxval(AT_PHNUM); i++)
        has_load |= ph[i].p_type == PT_LOAD;
    CHECK(has_load, "the program headers at AT_PHDR are readable and have a PT_LOAD");
}

static void check_identity(void)
{
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0,
          "uname: Linux on x86_64 (%s %s)", u.sysname, u.release);
    int major = 0, minor = 0;
    CHECK(sscanf(u.release, "%d.%d", &major, &minor) == 2 && (major > 3 || (major == 3 && minor >= 2)),
          "the release string is a Linux version glibc accepts (%s)", u.release);
    CHECK(getpid() > 0 && syscall(SYS_gettid) == getpid(), "the main thread's id is the process id");
    CHECK(getuid() == geteuid() && getgid() == getegid(), "real and effective ids agree");
    uid_t r, e, s;
    CHECK(getresuid(&r, &e, &s) == 0 && r == getuid(), "getresuid");
    CHECK(getpgrp() == getpid() || getpgrp() > 0, "getpgrp");
    CHECK_ERR(syscall(SYS_getresuid, (void *)1, (void *)1, (void *)1), EFAULT, "getresuid with a bad pointer: EFAULT");
    CHECK_ERR(uname((struct utsname *)8), EFAULT, "uname with a bad pointer: EFAULT");
}

static void check_limits(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256, "RLIMIT_NOFILE (%lu)", (unsigned long)rl.rlim_cur);
    struct rlimit lower = { 200, rl.rlim_max };
    CHECK(setrlimit(RLIMIT_NOFILE, &lower) == 0, "lower RLIMIT_NOFILE");
    struct rlimit back;
    CHECK(getrlimit(RLIMIT_NOFILE, &back) == 0 && back.rlim_cur == 200, "it reads back");
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "restore it");
    struct rlimit bad = { 10, 5 };
    CHECK_ERR(setrlimit(RLIMIT_CORE, &bad), EINVAL, "soft above hard: EINVAL");
    CHECK_ERR(syscall(SYS_prlimit64, 0, 999, NULL, &rl), EINVAL, "an unknown resource: EINVAL");
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= 1 << 20, "RLIMIT_STACK");
}

static void check_system(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0 && si.totalram > 0 && si.freeram <= si.totalram * si.mem_unit,
          "sysinfo: RAM %lu, free %lu", (unsigned long)si.totalram, (unsigned long)si.freeram);
    unsigned char a[32] = { 0 }, b[32] = { 0 };
    CHECK(syscall(SYS_getrandom, a, sizeof(a), 0) == 32 && syscall(SYS_getrandom, b, sizeof(b), 0) == 32 &&
              memcmp(a, b, sizeof(a)) != 0, "getrandom fills buffers, differently each time");
    CHECK_ERR(syscall(SYS_getrandom, a, 8, 0x100), EINVAL, "getrandom with an unknown flag: EINVAL");
    CHECK_ERR(syscall(SYS_getrandom, (void *)16, 8, 0), EFAULT, "getrandom into a bad pointer: EFAULT");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == ncpu,
          "the affinity mask holds every online CPU (%ld)", ncpu);
    unsigned cpu = 99;
    CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && cpu < (unsigned)ncpu, "getcpu (%u)", cpu);
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    CHECK(sched_setaffinity(0, sizeof(set), &set) == 0, "pin to CPU 0");
    int on0 = 1;
    for (int i = 0; i < 50; i++) {
        sched_yield();
        on0 &= sched_getcpu() == 0;
    }
    CHECK(on0, "a pinned thread stays on its CPU");
    CPU_ZERO(&set);
    CHECK_ERR(sched_setaffinity(0, sizeof(set), &set), EINVAL, "an empty mask: EINVAL");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(argc >= 1 && argv[argc] == NULL, "argv is NULL-terminated (argc %d)", argc);
    CHECK(environ && environ[0], "there is an environment");
    CHECK(getenv("PATH") != NULL, "PATH is set");
    check_auxv(argv[0]);
    check_identity();
    check_limits();
    check_system();
    return check_exit();
}
