/* Cloud Hypervisor: the command line that boots our kernel through its PVH
 * note with the initrd, and running it. Its debug console cannot be read back
 * (the kernel's probe for one fails), so the kernel log and the kernel's
 * records share the serial console, as on Firecracker. */
#include "osprey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chv_build_argv(const struct run_config *cfg, const char *binary, struct strvec *out)
{
    strvec_push(out, binary);
    strvec_push(out, "--kernel");
    strvec_push(out, cfg->kernel);
    if (cfg->initrd) {
        strvec_push(out, "--initramfs");
        strvec_push(out, cfg->initrd);
    }
    char *cmdline = kernel_cmdline(cfg, ACCEL_KVM);
    strvec_push(out, "--cmdline");
    strvec_push(out, cmdline);
    free(cmdline);
    strvec_push(out, "--cpus");
    strvec_pushf(out, "boot=%u", cfg->cpus);
    strvec_push(out, "--memory");
    strvec_pushf(out, "size=%lluM", (unsigned long long)cfg->memory_mib);
    strvec_push(out, "--serial");
    strvec_push(out, "tty");
    strvec_push(out, "--console");
    strvec_push(out, "off");
    if (cfg->disks->n || cfg->root_disk.file) {
        strvec_push(out, "--disk");
        if (cfg->root_disk.file) /* an image's ext4 root (a private copy): /dev/vblk0 */
            strvec_pushf(out, "path=%s", cfg->root_disk.file);
        for (size_t i = 0; i < cfg->disks->n; i++)
            strvec_pushf(out, "path=%s", cfg->disks->v[i]);
    }
    if (cfg->net && !strncmp(cfg->net, "tap:", 4)) {
        strvec_push(out, "--net");
        strvec_pushf(out, "tap=%s", cfg->net + 4);
    }
}

void chv_check(const struct run_config *cfg)
{
    if (cfg->net && !strcmp(cfg->net, "user"))
        die("Cloud Hypervisor has no user networking%s: use -n tap:NAME with a tap device set up on the host",
            cfg->ports->n ? " (so no -p)" : "");
    if (cfg->gdb_port)
        die("--gdb works with the QEMU machines only (microvm, q35, pc)");
    if (cfg->accel == ACCEL_TCG)
        die("Cloud Hypervisor runs on KVM only; --accel tcg needs a QEMU machine (--vmm microvm)");
    for (size_t i = 0; i < cfg->disks->n; i++)
        if (strchr(cfg->disks->v[i], ','))
            die("Cloud Hypervisor cannot take a disk path with a comma: %s", cfg->disks->v[i]);
    char *bin = vmm_find("cloud-hypervisor", "OSPREY_CLOUD_HYPERVISOR");
    if (!bin && !cfg->dry_run)
        die("cloud-hypervisor is not installed (not in PATH, and OSPREY_CLOUD_HYPERVISOR is not set); "
            "see https://github.com/cloud-hypervisor/cloud-hypervisor/releases, or use --vmm microvm");
    if (!cfg->dry_run)
        vmm_require_kvm("Cloud Hypervisor");
    free(bin);
}

int chv_run(struct run_config *cfg)
{
    char *bin = vmm_find("cloud-hypervisor", "OSPREY_CLOUD_HYPERVISOR");
    struct strvec argv = { 0 };
    chv_build_argv(cfg, bin ? bin : "cloud-hypervisor", &argv);
    if (cfg->dry_run) {
        char *line = shell_join(argv.v);
        printf("%s\n", line);
        free(line);
        return 0;
    }
    struct vmm_io io = { .name = "Cloud Hypervisor", .log_read = -1, .log_write = -1, .serial_records = true };
    return vmm_run(cfg, argv.v, &io);
}
