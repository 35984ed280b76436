/* The QEMU command line for each machine type, and the kernel command line
 * osprey passes. */
#include "osprey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KERNEL_CMDLINE_MAX 8191 /* the kernel's BOOT_CMDLINE_MAX - 1 */

struct machine {
    const char *vmm;
    const char *qemu_machine;
};

/* microvm without firmware option ROMs boots the kernel's PVH entry
 * directly; acpi=off makes QEMU list virtio-mmio devices on the command line. */
static const struct machine machines[] = {
    { "microvm", "microvm,x-option-roms=off,rtc=on,pit=off,pic=off,isa-serial=on,acpi=off" },
    { "q35", "q35" },
    { "qemu", "q35" },  /* DESIGN.md's name for a full PC: q35 */
    { "pc", "pc" },
};

static const struct machine *machine_find(const char *vmm)
{
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
        if (strcmp(machines[i].vmm, vmm) == 0)
            return &machines[i];
    return NULL;
}

bool qemu_machine_known(const char *vmm)
{
    return machine_find(vmm) != NULL;
}

/* Quote a word for the kernel's command-line parser. */
static void kernel_word_append(char **buf, size_t *len, const char *w)
{
    bool quote = *w == '\0' || strpbrk(w, " \t\n\"'\\") != NULL;
    size_t need = strlen(w) * 2 + 4;
    *buf = realloc(*buf, *len + need);
    if (!*buf)
        die("out of memory");
    char *p = *buf + *len;
    if (*len)
        *p++ = ' ';
    if (quote)
        *p++ = '"';
    for (const char *s = w; *s; s++) {
        if (quote && (*s == '"' || *s == '\\'))
            *p++ = '\\';
        *p++ = *s;
    }
    if (quote)
        *p++ = '"';
    *p = '\0';
    *len = (size_t)(p - *buf);
}

char *kernel_cmdline(const struct run_config *cfg, enum accel accel)
{
    char *buf = calloc(1, 1);
    size_t len = 0;
    if (!buf)
        die("out of memory");
    /* a panic should end the VM, unless someone wants to look at it in gdb */
    if (!cfg->gdb_port)
        kernel_word_append(&buf, &len, "--power-off-on-abort");
    if (accel == ACCEL_TCG) {
        uint64_t khz = host_tsc_khz();
        if (khz) {
            char opt[48];
            snprintf(opt, sizeof(opt), "--tsc-khz=%llu", (unsigned long long)khz);
            kernel_word_append(&buf, &len, opt);
        }
    }
    /* like a container: the console is a terminal when the user's input is
     * one, a plain stream (isatty false) when it is a pipe or a file */
    if (cfg->tty == TTY_NO || (cfg->tty == TTY_AUTO && !isatty(STDIN_FILENO)))
        kernel_word_append(&buf, &len, "--notty");
    if (cfg->bootchart)
        kernel_word_append(&buf, &len, "--bootchart");
    if (cfg->verbose)
        kernel_word_append(&buf, &len, "--verbose");
    for (int i = 0; i < cfg->nkernel_args; i++)
        kernel_word_append(&buf, &len, cfg->kernel_args[i]);
    if (len > KERNEL_CMDLINE_MAX)
        die("the kernel command line would be %zu bytes; the kernel takes at most %d "
            "(fewer or shorter arguments and --env values)", len, KERNEL_CMDLINE_MAX);
    return buf;
}

const char *qemu_find(const struct run_config *cfg)
{
    const char *q = cfg->qemu ? cfg->qemu : getenv("OSPREY_QEMU");
    if (q && *q) {
        if (access(q, X_OK) != 0)
            die("QEMU not found at %s (check --qemu or OSPREY_QEMU)", q);
        return q;
    }
    char *found = path_search("qemu-system-x86_64");
    if (!found)
        die("qemu-system-x86_64 not found in PATH (scripts/setup installs Debian's qemu-system-x86, "
            "or point --qemu / OSPREY_QEMU at one)");
    return found;
}

/* A value inside a QEMU option list, where a comma is written twice. */
static char *opt_escape(const char *s)
{
    char *out = xmalloc(strlen(s) * 2 + 1), *p = out;
    for (; *s; s++) {
        *p++ = *s;
        if (*s == ',')
            *p++ = ',';
    }
    *p = '\0';
    return out;
}

/* virtio devices: -device virtio-*-device on microvm (virtio-mmio, listed
 * on the kernel command line by QEMU), virtio-*-pci on q35 and pc. */
static void add_devices(const struct run_config *cfg, struct strvec *out)
{
    const char *bus = strcmp(cfg->vmm, "microvm") == 0 ? "device" : "pci";
    if (cfg->root_disk.file) { /* first, so that the guest sees it as /dev/vblk0 */
        char *file = opt_escape(cfg->root_disk.file);
        strvec_push(out, "-drive");
        if (cfg->root_disk.size)
            strvec_pushf(out, "file=%s,if=none,id=root,format=raw,offset=%llu,size=%llu%s", file,
                         (unsigned long long)cfg->root_disk.offset, (unsigned long long)cfg->root_disk.size,
                         cfg->root_disk.snapshot ? ",snapshot=on" : "");
        else
            strvec_pushf(out, "file=%s,if=none,id=root,format=raw%s", file,
                         cfg->root_disk.snapshot ? ",snapshot=on" : "");
        strvec_push(out, "-device");
        strvec_pushf(out, "virtio-blk-%s,drive=root", bus);
        free(file);
    }
    for (size_t i = 0; i < cfg->disks->n; i++) {
        char *file = opt_escape(cfg->disks->v[i]);
        strvec_push(out, "-drive");
        strvec_pushf(out, "file=%s,if=none,id=disk%zu,format=raw", file, i);
        strvec_push(out, "-device");
        strvec_pushf(out, "virtio-blk-%s,drive=disk%zu", bus, i);
        free(file);
    }
    if (!cfg->net || !strcmp(cfg->net, "none"))
        return;
    strvec_push(out, "-netdev");
    if (!strncmp(cfg->net, "tap:", 4)) {
        strvec_pushf(out, "tap,id=net0,ifname=%s,script=no,downscript=no", cfg->net + 4);
    } else {
        char *spec = xstrdup("user,id=net0");
        for (size_t i = 0; i < cfg->ports->n; i++) {
            unsigned h, g;
            char proto[8] = "tcp";
            sscanf(cfg->ports->v[i], "%u:%u/%7s", &h, &g, proto);
            char *more = xasprintf("%s,hostfwd=%s::%u-:%u", spec, proto, h, g);
            free(spec);
            spec = more;
        }
        strvec_push(out, spec);
        free(spec);
    }
    strvec_push(out, "-device");
    strvec_pushf(out, "virtio-net-%s,netdev=net0", bus);
}

void qemu_build_argv(const struct run_config *cfg, enum accel accel, int log_fd, struct strvec *out)
{
    const struct machine *m = machine_find(cfg->vmm);
    strvec_push(out, qemu_find(cfg));
    strvec_push(out, "-M");
    strvec_push(out, m->qemu_machine);
    strvec_push(out, "-accel");
    strvec_push(out, accel == ACCEL_KVM ? "kvm" : "tcg");
    strvec_push(out, "-cpu");
    strvec_push(out, accel == ACCEL_KVM ? "host" : "max");
    strvec_push(out, "-m");
    strvec_pushf(out, "%lluM", (unsigned long long)cfg->memory_mib);
    strvec_push(out, "-smp");
    strvec_pushf(out, "%u", cfg->cpus);
    /* -display none, not -nographic: with -nographic SeaBIOS mirrors its
     * screen onto the serial port, i.e. into the application's output */
    static const char *const fixed[] = { "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot" };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        strvec_push(out, fixed[i]);
    strvec_push(out, "-serial");
    strvec_push(out, "stdio");
    strvec_push(out, "-device");
    strvec_push(out, "isa-debug-exit,iobase=0xf4,iosize=4");
    /* the kernel log channel; shown as /dev/stderr in a dry run so the
     * printed command works when pasted */
    strvec_push(out, "-chardev");
    if (log_fd >= 0)
        strvec_pushf(out, "file,id=oslog,path=/dev/fd/%d", log_fd);
    else
        strvec_push(out, "file,id=oslog,path=/dev/stderr");
    strvec_push(out, "-device");
    strvec_push(out, "isa-debugcon,iobase=0xe9,chardev=oslog");
    strvec_push(out, "-kernel");
    strvec_push(out, cfg->kernel);
    char *cmdline = kernel_cmdline(cfg, accel);
    if (*cmdline) {
        strvec_push(out, "-append");
        strvec_push(out, cmdline);
    }
    free(cmdline);
    if (cfg->initrd) {
        strvec_push(out, "-initrd");
        strvec_push(out, cfg->initrd);
    }
    add_devices(cfg, out);
    if (cfg->gdb_port) {
        strvec_push(out, "-gdb");
        strvec_pushf(out, "tcp::%u", cfg->gdb_port);
        strvec_push(out, "-S");
    }
}
