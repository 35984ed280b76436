/* `osprey run`: options, checks, then QEMU. */

#include "osprey.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CPUS 64
#define MAX_MEMORY_MIB (1024ull * 1024) /* 1 TiB */
#define MIN_MEMORY_MIB 2 /* the kernel is loaded at 1 MiB: below this QEMU runs garbage */

void run_usage(void)
{
    printf("usage: osprey run [options] [-- BOOT_OPTIONS... PROGRAM ARGS...]\n"
           "\n"
           "Boot the Osprey kernel on QEMU. Words after -- form the kernel command line:\n"
           "boot options such as --bootchart first, then the program and its arguments.\n"
           "\n"
           "  --vmm microvm|q35|pc   machine type (default microvm)\n"
           "  -m, --memory SIZE      guest memory, e.g. 256M or 1G; a plain number is MiB (default 128M)\n"
           "  -c, --cpus N           virtual CPUs, 1-%d (default 1)\n"
           "  --accel kvm|tcg        accelerator (default: kvm when the CPU has hardware\n"
           "                         virtualization and /dev/kvm is usable, tcg otherwise)\n"
           "  --kernel FILE          kernel to boot (default: kernel.elf next to osprey)\n"
           "  --initrd FILE          initial ramdisk\n"
           "  --timeout SECONDS      stop the VM after SECONDS and exit 124\n"
           "  --gdb PORT             QEMU gdb server on PORT; the VM waits for the debugger\n"
           "  --bootchart            pass --bootchart: print the boot phases and their times\n"
           "  --verbose              pass --verbose: informational kernel messages\n"
           "  --qemu PATH            QEMU binary (default: qemu-system-x86_64 in PATH, or $OSPREY_QEMU)\n"
           "  --dry-run              print the QEMU command line and stop\n"
           "  -h, --help             this help\n"
           "\n"
           "The application's console is stdin/stdout; kernel messages go to stderr.\n"
           "Exit status: the application's, 124 on --timeout, 70 on a kernel panic,\n"
           "125 when osprey or QEMU could not run the VM.\n",
           MAX_CPUS);
}

static uint64_t parse_memory_mib(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || !isdigit((unsigned char)*s))
        die("bad --memory value \"%s\" (use e.g. 256M or 1G)", s);
    unsigned long long mib;
    switch (toupper((unsigned char)*end)) {
    case 'K': mib = v % 1024 ? 0 : v / 1024; end++; break;
    case 'M': case '\0': mib = v; if (*end) end++; break;
    case 'G': mib = v * 1024; end++; break;
    case 'T': mib = v * 1024 * 1024; end++; break;
    default: mib = 0; end = (char *)"?"; break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || mib == 0 || mib > MAX_MEMORY_MIB)
        die("bad --memory value \"%s\" (use a whole number of MiB between 1M and 1T, e.g. 256M)", s);
    if (mib < MIN_MEMORY_MIB)
        die("--memory %s is too small: the kernel is loaded at 1 MiB and needs at least %dM", s, MIN_MEMORY_MIB);
    return mib;
}

static unsigned parse_uint(const char *s, const char *what, unsigned lo, unsigned hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi || !isdigit((unsigned char)*s))
        die("bad %s value \"%s\" (expected a number from %u to %u)", what, s, lo, hi);
    return (unsigned)v;
}

enum { OPT_VMM = 256, OPT_ACCEL, OPT_KERNEL, OPT_INITRD, OPT_TIMEOUT, OPT_GDB, OPT_BOOTCHART,
       OPT_VERBOSE, OPT_QEMU, OPT_DRY_RUN };

static const struct option run_options[] = {
    { "vmm", required_argument, NULL, OPT_VMM },
    { "memory", required_argument, NULL, 'm' },
    { "cpus", required_argument, NULL, 'c' },
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "gdb", required_argument, NULL, OPT_GDB },
    { "bootchart", no_argument, NULL, OPT_BOOTCHART },
    { "verbose", no_argument, NULL, OPT_VERBOSE },
    { "qemu", required_argument, NULL, OPT_QEMU },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static void parse_one(struct run_config *cfg, int opt, const char *arg)
{
    switch (opt) {
    case OPT_VMM:
        if (!strcmp(arg, "firecracker") || !strcmp(arg, "cloud-hypervisor"))
            die("--vmm %s is not supported yet (use microvm, q35 or pc)", arg);
        if (!qemu_machine_known(arg))
            die("unknown --vmm \"%s\" (use microvm, q35 or pc)", arg);
        cfg->vmm = arg;
        break;
    case 'm': cfg->memory_mib = parse_memory_mib(arg); break;
    case 'c': cfg->cpus = parse_uint(arg, "--cpus", 1, MAX_CPUS); break;
    case OPT_ACCEL:
        if (!strcmp(arg, "kvm"))
            cfg->accel = ACCEL_KVM;
        else if (!strcmp(arg, "tcg"))
            cfg->accel = ACCEL_TCG;
        else
            die("unknown --accel \"%s\" (use kvm or tcg)", arg);
        break;
    case OPT_KERNEL: cfg->kernel = arg; break;
    case OPT_INITRD: cfg->initrd = arg; break;
    case OPT_TIMEOUT: cfg->timeout_s = parse_uint(arg, "--timeout", 1, 1000000); break;
    case OPT_GDB: cfg->gdb_port = parse_uint(arg, "--gdb", 1, 65535); break;
    case OPT_BOOTCHART: cfg->bootchart = true; break;
    case OPT_VERBOSE: cfg->verbose = true; break;
    case OPT_QEMU: cfg->qemu = arg; break;
    case OPT_DRY_RUN: cfg->dry_run = true; break;
    case 'h': run_usage(); exit(0);
    default: break;
    }
}

static void parse_run_args(struct run_config *cfg, int argc, char **argv)
{
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:m:c:h", run_options, NULL)) != -1) {
        if (opt == '?')
            die("unknown option %s (see osprey run --help)", argv[optind - 1]);
        if (opt == ':')
            die("option %s needs a value (see osprey run --help)", argv[optind - 1]);
        parse_one(cfg, opt, optarg);
    }
    /* getopt stops at `--` (consumed) or at the first other word */
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
        die("unexpected argument \"%s\" (kernel arguments go after --)", argv[optind]);
    cfg->kernel_args = argv + optind;
    cfg->nkernel_args = argc - optind;
}

static void default_kernel(struct run_config *cfg)
{
    if (cfg->kernel) {
        if (!file_readable(cfg->kernel))
            die("kernel not found: %s", cfg->kernel);
        return;
    }
    char *dir = self_dir();
    char *beside = xasprintf("%s/kernel.elf", dir), *installed = xasprintf("%s/../lib/osprey/kernel.elf", dir);
    if (file_readable(beside))
        cfg->kernel = beside;
    else if (file_readable(installed))
        cfg->kernel = installed;
    else
        die("kernel not found: %s (run make, or pass --kernel FILE)", beside);
}

static void print_dry_run(char **argv)
{
    char *line = shell_join(argv);
    printf("%s\n", line);
    free(line);
}

int cmd_run(int argc, char **argv)
{
    struct run_config cfg = { .vmm = "microvm", .memory_mib = 128, .cpus = 1 };
    parse_run_args(&cfg, argc, argv);
    default_kernel(&cfg);
    if (cfg.initrd && !file_readable(cfg.initrd))
        die("initrd not found: %s", cfg.initrd);
    enum accel accel = cfg.accel;
    if (accel == ACCEL_AUTO)
        accel = host_has_kvm() ? ACCEL_KVM : ACCEL_TCG;

    struct strvec qemu_argv = { 0 };
    if (cfg.dry_run) {
        qemu_build_argv(&cfg, accel, -1, &qemu_argv);
        print_dry_run(qemu_argv.v);
        return 0;
    }
    int log_pipe[2];
    if (pipe(log_pipe) != 0)
        die("pipe: %s", strerror(errno));
    fcntl(log_pipe[0], F_SETFD, FD_CLOEXEC); /* the write end stays open for QEMU */
    qemu_build_argv(&cfg, accel, log_pipe[1], &qemu_argv);
    return vmm_run(&cfg, qemu_argv.v, log_pipe[0], log_pipe[1]);
}
