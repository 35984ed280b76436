/* `osprey run`: options, checks, then the VMM. */

#include "osprey.h"
#include "image.h"

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
    printf("usage: osprey run [options] [IMAGE] [-- [BOOT_OPTIONS...] [PROGRAM ARGS...]]\n"
           "       osprey run [options] --rootfs DIR -- [BOOT_OPTIONS...] PROGRAM ARGS...\n"
           "\n"
           "Boot an image made by osprey build, a directory, or the bare kernel. Words after --\n"
           "are kernel boot options such as --bootchart, then the program and its arguments,\n"
           "which replace the image's default command.\n"
           "\n"
           "  --rootfs DIR           pack DIR as the root filesystem on the fly and boot it\n"
           "  -e, --env NAME=VALUE   set an environment variable for the program (repeatable)\n"
           "  --cwd DIR              start the program in DIR\n"
           "  --strace               pass --strace: log every system call\n"
           "  -t, --tty              the guest console is a terminal (default: when stdin is one)\n"
           "  --no-tty               it is not (isatty false), as for piped input\n"
           "  --vmm microvm|q35|pc|firecracker|cloud-hypervisor\n"
           "                         machine or hypervisor (default microvm; qemu = q35)\n"
           "  -m, --memory SIZE      guest memory, e.g. 256M or 1G; a plain number is MiB (default\n"
           "                         128M, or the image's, or enough for a large root filesystem)\n"
           "  -c, --cpus N           virtual CPUs, 1-%d (default 1, or the image's)\n"
           "  --disk FILE            attach FILE as a raw virtio-blk disk (repeatable)\n"
           "  -n, --net user|tap:NAME|none\n"
           "                         networking (default none; -p implies user)\n"
           "  -p, --port HOST:GUEST[/udp]\n"
           "                         forward a host port to the guest (user networking)\n"
           "  --accel kvm|tcg        accelerator (default: kvm when the CPU has hardware\n"
           "                         virtualization and /dev/kvm is usable, tcg otherwise)\n"
           "  --kernel FILE          kernel to boot (default: the image's, or kernel.elf next to osprey)\n"
           "  --initrd FILE          initial ramdisk (a cpio newc archive) instead of an image\n"
           "  --timeout SECONDS      stop the VM after SECONDS and exit 124\n"
           "  --gdb PORT             QEMU gdb server on PORT; the VM waits for the debugger\n"
           "  --bootchart            pass --bootchart: print the boot phases and their times\n"
           "  --verbose              pass --verbose: informational kernel messages\n"
           "  --qemu PATH            QEMU binary (default: qemu-system-x86_64 in PATH, or $OSPREY_QEMU)\n"
           "  --dry-run              print the QEMU or Cloud Hypervisor command line, or the\n"
           "                         Firecracker JSON config, and stop\n"
           "  -h, --help             this help\n"
           "\n"
           "The application's console is stdin/stdout; kernel messages go to stderr.\n"
           "Exit status: the application's, 124 on --timeout, 70 on a kernel panic,\n"
           "125 when osprey or the VMM could not run the VM.\n",
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

uint64_t parse_memory_option(const char *s)
{
    return parse_memory_mib(s);
}

unsigned parse_uint(const char *s, const char *what, unsigned lo, unsigned hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi || !isdigit((unsigned char)*s))
        die("bad %s value \"%s\" (expected a number from %u to %u)", what, s, lo, hi);
    return (unsigned)v;
}

enum { OPT_VMM = 256, OPT_ACCEL, OPT_KERNEL, OPT_INITRD, OPT_TIMEOUT, OPT_GDB, OPT_BOOTCHART,
       OPT_VERBOSE, OPT_QEMU, OPT_DRY_RUN, OPT_ROOTFS, OPT_CWD, OPT_STRACE, OPT_DISK, OPT_NO_TTY };

static const struct option run_options[] = {
    { "vmm", required_argument, NULL, OPT_VMM },
    { "memory", required_argument, NULL, 'm' },
    { "cpus", required_argument, NULL, 'c' },
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "rootfs", required_argument, NULL, OPT_ROOTFS },
    { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "strace", no_argument, NULL, OPT_STRACE },
    { "tty", no_argument, NULL, 't' },
    { "no-tty", no_argument, NULL, OPT_NO_TTY },
    { "disk", required_argument, NULL, OPT_DISK },
    { "net", required_argument, NULL, 'n' },
    { "port", required_argument, NULL, 'p' },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "gdb", required_argument, NULL, OPT_GDB },
    { "bootchart", no_argument, NULL, OPT_BOOTCHART },
    { "verbose", no_argument, NULL, OPT_VERBOSE },
    { "qemu", required_argument, NULL, OPT_QEMU },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static bool vmm_known(const char *vmm)
{
    return qemu_machine_known(vmm) || !strcmp(vmm, "firecracker") || !strcmp(vmm, "cloud-hypervisor");
}

static void check_env_word(const char *kv, const char *opt)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        die("bad %s value \"%s\" (expected NAME=VALUE)", opt, kv);
}

static void check_port(const char *spec)
{
    unsigned host, guest;
    char proto[8] = "tcp";
    int n = sscanf(spec, "%u:%u/%7s", &host, &guest, proto);
    char again[64];
    if (n >= 2)
        snprintf(again, sizeof(again), n == 3 ? "%u:%u/%s" : "%u:%u", host, guest, proto);
    if (n < 2 || strcmp(again, spec) != 0 || !host || host > 65535 || !guest || guest > 65535 ||
        (strcmp(proto, "tcp") && strcmp(proto, "udp")))
        die("bad -p value \"%s\" (expected HOST:GUEST or HOST:GUEST/udp, e.g. -p 8080:80)", spec);
}

static void parse_net(struct run_config *cfg, const char *arg)
{
    if (strcmp(arg, "user") && strcmp(arg, "none") && strncmp(arg, "tap:", 4))
        die("unknown --net \"%s\" (use user, tap:NAME or none)", arg);
    const char *tap = arg + 4;
    if (!strncmp(arg, "tap:", 4) && (!*tap || strlen(tap) > 15 || strspn(tap, "abcdefghijklmnopqrstuvwxyz"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(tap)))
        die("bad tap device name in --net %s (letters, digits, '_', '.', '-'; at most 15)", arg);
    cfg->net = arg;
}

static void parse_one(struct run_config *cfg, int opt, const char *arg)
{
    switch (opt) {
    case OPT_VMM:
        if (!vmm_known(arg))
            die("unknown --vmm \"%s\" (use microvm, q35, pc, qemu, firecracker or cloud-hypervisor)", arg);
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
    case OPT_ROOTFS: cfg->rootfs = arg; break;
    case 'e': check_env_word(arg, "--env"); strvec_push(cfg->env, arg); break;
    case OPT_CWD:
        if (arg[0] != '/')
            die("bad --cwd value \"%s\" (an absolute guest path, e.g. /srv)", arg);
        cfg->cwd = arg;
        break;
    case OPT_STRACE: cfg->strace = true; break;
    case 't': cfg->tty = TTY_YES; break;
    case OPT_NO_TTY: cfg->tty = TTY_NO; break;
    case OPT_DISK: strvec_push(cfg->disks, arg); break;
    case 'n': parse_net(cfg, arg); break;
    case 'p': check_port(arg); strvec_push(cfg->ports, arg); break;
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

/* Options may come before and after the image name; `--` ends them. */
static void parse_run_args(struct run_config *cfg, int argc, char **argv)
{
    opterr = 0;
    optind = 1;
    for (;;) {
        int opt = getopt_long(argc, argv, "+:m:c:e:n:p:th", run_options, NULL);
        if (opt == '?')
            die("unknown option %s (see osprey run --help)", argv[optind - 1]);
        if (opt == ':')
            die("option %s needs a value (see osprey run --help)", argv[optind - 1]);
        if (opt != -1) {
            parse_one(cfg, opt, optarg);
            continue;
        }
        if (optind >= argc || strcmp(argv[optind - 1], "--") == 0)
            break;
        if (cfg->image)
            die("unexpected argument \"%s\" (kernel arguments and the program go after --)", argv[optind]);
        cfg->image = argv[optind++];
    }
    cfg->user_words = argv + optind;
    cfg->nuser_words = argc - optind;
}

static void check_sources(struct run_config *cfg)
{
    int n = !!cfg->image + !!cfg->rootfs + !!cfg->initrd;
    if (n > 1)
        die("give one of IMAGE, --rootfs DIR and --initrd FILE");
    if (cfg->kernel && !file_readable(cfg->kernel))
        die("kernel not found: %s", cfg->kernel);
    if (cfg->initrd && !file_readable(cfg->initrd))
        die("initrd not found: %s", cfg->initrd);
    for (size_t i = 0; i < cfg->disks->n; i++)
        if (access(cfg->disks->v[i], R_OK) != 0)
            die("disk not found: %s (--disk takes an existing raw disk image)", cfg->disks->v[i]);
    if (cfg->ports->n && !cfg->net)
        cfg->net = "user";
    if (cfg->ports->n && strcmp(cfg->net, "user") != 0)
        die("-p needs user networking (-n user); with -n %s forward ports on the host instead", cfg->net);
}

static int run_qemu(struct run_config *cfg, enum accel accel)
{
    struct strvec qemu_argv = { 0 };
    if (cfg->dry_run) {
        qemu_build_argv(cfg, accel, -1, &qemu_argv);
        char *line = shell_join(qemu_argv.v);
        printf("%s\n", line);
        free(line);
        return 0;
    }
    int log_pipe[2];
    if (pipe(log_pipe) != 0)
        die("pipe: %s", strerror(errno));
    fcntl(log_pipe[0], F_SETFD, FD_CLOEXEC); /* the write end stays open for QEMU */
    qemu_build_argv(cfg, accel, log_pipe[1], &qemu_argv);
    struct vmm_io io = { .log_read = log_pipe[0], .log_write = log_pipe[1] };
    return vmm_run(cfg, qemu_argv.v, &io);
}

int cmd_run(int argc, char **argv)
{
    struct strvec env = { 0 }, disks = { 0 }, ports = { 0 };
    struct run_config cfg = { .vmm = "microvm", .env = &env, .disks = &disks, .ports = &ports };
    parse_run_args(&cfg, argc, argv);
    check_sources(&cfg);
    struct image im;
    char err[512];
    if (cfg.image && image_open(&im, cfg.image, err, sizeof(err)) != 0)
        die("%s", err);
    if (!cfg.kernel && !cfg.image)
        cfg.kernel = kernel_default();
    guest_compose(&cfg, cfg.image ? &im : NULL);
    /* what cannot work is reported before anything is extracted or packed */
    bool fc = !strcmp(cfg.vmm, "firecracker"), chv = !strcmp(cfg.vmm, "cloud-hypervisor");
    if (fc)
        firecracker_check(&cfg);
    else if (chv)
        chv_check(&cfg);
    else
        qemu_find(&cfg);
    guest_prepare_files(&cfg, cfg.image ? &im : NULL);
    if (fc)
        return firecracker_run(&cfg);
    if (chv)
        return chv_run(&cfg);
    enum accel accel = cfg.accel;
    if (accel == ACCEL_AUTO)
        accel = host_has_kvm() ? ACCEL_KVM : ACCEL_TCG;
    return run_qemu(&cfg, accel);
}
