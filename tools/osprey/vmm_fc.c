/* Firecracker: the JSON configuration `firecracker --no-api --config-file`
 * boots from (our vmlinux ELF through its Linux 64-bit boot entry or PVH
 * note, the initrd, the kernel command line as boot_args), and running it.
 * Firecracker has no debug console: the kernel log shares the serial
 * console, so osprey takes the kernel's records out of stdout. */
#include "osprey.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FC_MAX_CPUS 32

struct jbuf {
    char *s;
    size_t len;
};

static void jb_put(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_put(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *add;
    if (vasprintf(&add, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    size_t n = strlen(add);
    b->s = xrealloc(b->s, b->len + n + 1);
    memcpy(b->s + b->len, add, n + 1);
    b->len += n;
    free(add);
}

/* A JSON string literal (RFC 8259 escapes). */
static void jb_string(struct jbuf *b, const char *s)
{
    jb_put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            jb_put(b, "\\%c", *p);
        else if (*p == '\n')
            jb_put(b, "\\n");
        else if (*p == '\t')
            jb_put(b, "\\t");
        else if (*p < 0x20)
            jb_put(b, "\\u%04x", *p);
        else
            jb_put(b, "%c", *p);
    }
    jb_put(b, "\"");
}

static void jb_field(struct jbuf *b, const char *indent, const char *key, const char *value, bool last)
{
    jb_put(b, "%s\"%s\": ", indent, key);
    jb_string(b, value);
    jb_put(b, last ? "\n" : ",\n");
}

/* Paths in the config are absolute: Firecracker may run elsewhere. */
static char *abs_path(const char *p)
{
    char real[PATH_MAX];
    if (p[0] == '/' || !realpath(p, real))
        return xstrdup(p);
    return xstrdup(real);
}

char *firecracker_config_json(const struct run_config *cfg, const char *cmdline)
{
    struct jbuf b = { 0 };
    char *kernel = abs_path(cfg->kernel), *initrd = cfg->initrd ? abs_path(cfg->initrd) : NULL;
    jb_put(&b, "{\n  \"boot-source\": {\n");
    jb_field(&b, "    ", "kernel_image_path", kernel, false);
    if (initrd)
        jb_field(&b, "    ", "initrd_path", initrd, false);
    jb_field(&b, "    ", "boot_args", cmdline, true);
    jb_put(&b, "  },\n  \"drives\": [");
    /* an image's ext4 root comes first (/dev/vblk0): a private copy, so
     * it is writable; is_root_device is Linux's root=, which we do not use */
    struct strvec drives = { 0 };
    if (cfg->root_disk.file)
        strvec_push(&drives, cfg->root_disk.file);
    for (size_t i = 0; i < cfg->disks->n; i++)
        strvec_push(&drives, cfg->disks->v[i]);
    for (size_t i = 0; i < drives.n; i++) {
        char id[32], *path = abs_path(drives.v[i]);
        size_t disk = cfg->root_disk.file ? i - 1 : i;
        if (cfg->root_disk.file && i == 0)
            snprintf(id, sizeof(id), "root");
        else
            snprintf(id, sizeof(id), "disk%zu", disk);
        jb_put(&b, "%s\n    {\n", i ? "," : "");
        jb_field(&b, "      ", "drive_id", id, false);
        jb_field(&b, "      ", "path_on_host", path, false);
        jb_put(&b, "      \"is_root_device\": false,\n      \"is_read_only\": false\n    }");
        free(path);
    }
    jb_put(&b, "%s],\n", drives.n ? "\n  " : "");
    jb_put(&b, "  \"machine-config\": {\n    \"vcpu_count\": %u,\n    \"mem_size_mib\": %llu\n  }",
           cfg->cpus, (unsigned long long)cfg->memory_mib);
    if (cfg->net && !strncmp(cfg->net, "tap:", 4)) {
        jb_put(&b, ",\n  \"network-interfaces\": [\n    {\n");
        jb_field(&b, "      ", "iface_id", "eth0", false);
        jb_field(&b, "      ", "host_dev_name", cfg->net + 4, true);
        jb_put(&b, "    }\n  ]");
    }
    jb_put(&b, "\n}\n");
    free(kernel);
    free(initrd);
    return b.s;
}

/* What Firecracker cannot do, said before anything is extracted or packed. */
void firecracker_check(const struct run_config *cfg)
{
    if (cfg->net && !strcmp(cfg->net, "user"))
        die("Firecracker has no user networking%s: use -n tap:NAME with a tap device set up on the host",
            cfg->ports->n ? " (so no -p)" : "");
    if (cfg->gdb_port)
        die("--gdb works with the QEMU machines only (microvm, q35, pc)");
    if (cfg->accel == ACCEL_TCG)
        die("Firecracker runs on KVM only; --accel tcg needs a QEMU machine (--vmm microvm)");
    if (cfg->cpus > FC_MAX_CPUS)
        die("Firecracker takes at most %d vCPUs (-c %u)", FC_MAX_CPUS, cfg->cpus);
    if (cfg->dry_run)
        return;
    char *bin = vmm_find("firecracker", "OSPREY_FIRECRACKER");
    if (!bin)
        die("firecracker is not installed (not in PATH, and OSPREY_FIRECRACKER is not set); "
            "see https://github.com/firecracker-microvm/firecracker/releases, or use --vmm microvm");
    free(bin);
    vmm_require_kvm("Firecracker");
}

void vmm_require_kvm(const char *who)
{
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        die("%s needs KVM, and /dev/kvm is not usable here (%s); use --vmm microvm, which falls back to "
            "software emulation", who, strerror(errno));
}

int firecracker_run(struct run_config *cfg)
{
    char *cmdline = kernel_cmdline(cfg, ACCEL_KVM);
    char *json = firecracker_config_json(cfg, cmdline);
    char *bin = cfg->dry_run ? NULL : vmm_find("firecracker", "OSPREY_FIRECRACKER");
    char *path;
    int fd = temp_file("firecracker.json", cfg->dry_run, &path);
    if (write(fd, json, strlen(json)) != (ssize_t)strlen(json))
        die("cannot write %s: %s", path, strerror(errno));
    if (cfg->dry_run) {
        fputs(json, stdout);
        fprintf(stderr, "osprey: start it with: firecracker --no-api --config-file %s\n", path);
        return 0;
    }
    char *argv[] = { bin, "--no-api", "--config-file", path, "--level", "Warning",
                     "--log-path", "/dev/stderr", NULL };
    struct vmm_io io = { .name = "Firecracker", .log_read = -1, .log_write = -1, .serial_records = true };
    return vmm_run(cfg, argv, &io);
}
