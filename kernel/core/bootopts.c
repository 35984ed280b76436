/* Boot option parsing (pure logic; unit tested on the host). */
#include "core/bootopts.h"
#include "lib/errno.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "lib/string.h"

struct boot_options boot_options;

enum bootopt_kind { OPT_FLAG, OPT_STRING, OPT_U64, OPT_ENV, OPT_ROOTFS, OPT_MOUNT };

struct bootopt_def {
    const char *name;
    enum bootopt_kind kind;
    size_t offset;
    const char *choices; /* for strings: '|'-separated allowed values, or NULL */
    const char *help;
};

#define OPT(field) offsetof(struct boot_options, field)

static const struct bootopt_def bootopt_defs[] = {
    { "bootchart", OPT_FLAG, OPT(bootchart), NULL, "print the time of each boot phase" },
    { "verbose", OPT_FLAG, OPT(verbose), NULL, "log informational messages with timestamps" },
    { "nopci", OPT_FLAG, OPT(nopci), NULL, "do not enumerate PCI devices" },
    { "power-off-on-abort", OPT_FLAG, OPT(power_off_on_abort), NULL,
      "power the VM off after a kernel panic instead of halting for a debugger" },
    { "console", OPT_STRING, OPT(console), "serial|none", "console device: serial (default) or none" },
    { "tsc-khz", OPT_U64, OPT(tsc_khz), NULL, "TSC frequency in kHz (skips calibration)" },
    { "test", OPT_STRING, OPT(test), NULL, "run kernel self-tests NAME[,NAME...] (or all) and exit" },
    { "strace", OPT_FLAG, OPT(strace), NULL, "log every system call with its arguments and result" },
    { "env", OPT_ENV, OPT(env), NULL, "set NAME=VALUE in the program's environment (repeatable)" },
    { "cwd", OPT_STRING, OPT(cwd), NULL, "start the program in directory DIR" },
    { "notty", OPT_FLAG, OPT(notty), NULL, "the console is not a terminal (as when the host's stdin is a pipe)" },
    { "no-aslr", OPT_FLAG, OPT(no_aslr), NULL, "load the program, libraries and stack at fixed addresses" },
    { "ip", OPT_STRING, OPT(ip), NULL, "static network address IFACE,ADDR,MASK (default: DHCP)" },
    { "defaultgw", OPT_STRING, OPT(defaultgw), NULL, "default gateway, with --ip" },
    { "nameserver", OPT_STRING, OPT(nameserver), NULL, "DNS server(s) for /etc/resolv.conf, ADDR[,ADDR...]" },
    { "hostname", OPT_STRING, OPT(hostname), NULL, "host name (default: from DHCP, else osprey)" },
    { "rootfs", OPT_ROOTFS, OPT(rootfs), NULL,
      "root file system: initrd (default), or an ext2/3/4 disk, e.g. /dev/vblk0" },
    { "mount-fs", OPT_MOUNT, OPT(mount_fs), NULL,
      "mount TYPE,DEVICE,DIR[,OPTIONS] at boot, e.g. ext4,/dev/vblk1,/data (repeatable)" },
    { "help", OPT_FLAG, OPT(help), NULL, "list boot options and exit" },
};

#define MMIO_PREFIX "virtio_mmio.device="

/* Cut the next word out of *p, unquoting in place. Returns NULL at the end. */
static char *next_word(char **p, int *err)
{
    char *r = *p;
    while (*r == ' ' || *r == '\t' || *r == '\n')
        r++;
    if (!*r)
        return NULL;
    char *word = r, *w = r;
    while (*r && *r != ' ' && *r != '\t' && *r != '\n') {
        char c = *r++;
        if (c == '\'' || c == '"') {
            while (*r && *r != c) {
                if (c == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
                    r++;
                *w++ = *r++;
            }
            if (!*r) {
                *err = -EINVAL;
                return NULL;
            }
            r++; /* closing quote */
        } else if (c == '\\' && *r) {
            *w++ = *r++;
        } else {
            *w++ = c;
        }
    }
    if (*r)
        r++;
    *w = '\0';
    *p = r;
    return word;
}

static bool choice_ok(const char *choices, const char *value)
{
    size_t len = strlen(value);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        if (clen == len && strncmp(c, value, len) == 0)
            return true;
        c += clen + (bar ? 1 : 0);
    }
    return false;
}

/* --rootfs: the initrd, a file system type (its first disk), or /dev/NAME.
 * Only the form is checked here; whether the disk exists is known later. */
static bool rootfs_ok(const char *v)
{
    if (choice_ok("initrd|ramfs|ext4|ext3|ext2", v))
        return true;
    return str_starts_with(v, "/dev/") && v[5] && !strchr(v + 5, '/');
}

/* --mount-fs=TYPE,DEVICE,DIR[,OPTIONS]: three non-empty fields, DIR absolute. */
static bool mount_spec_ok(const char *v)
{
    const char *dev = strchr(v, ',');
    const char *dir = dev ? strchr(dev + 1, ',') : NULL;
    return dev && dir && dev > v && dir > dev + 1 && dir[1] == '/';
}

static int apply_option(struct boot_options *o, char *word, char *err, size_t errlen)
{
    char *name = word + 2, *value = strchr(name, '=');
    if (value)
        *value++ = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(bootopt_defs); i++) {
        const struct bootopt_def *d = &bootopt_defs[i];
        if (strcmp(d->name, name) != 0)
            continue;
        char *field = (char *)o + d->offset;
        if (d->kind == OPT_FLAG) {
            if (value) {
                snprintf(err, errlen, "boot option --%s takes no value", name);
                return -EINVAL;
            }
            *(bool *)field = true;
            return 0;
        }
        if (!value || !*value) {
            snprintf(err, errlen, "boot option --%s needs a value (--%s=...)", name, name);
            return -EINVAL;
        }
        if (d->kind == OPT_ENV) {
            if (!strchr(value, '=') || value[0] == '=') {
                snprintf(err, errlen, "boot option --env: \"%s\" is not NAME=VALUE", value);
                return -EINVAL;
            }
            if (o->envc == BOOTOPTS_MAX_ENV) {
                snprintf(err, errlen, "more than %d --env options", BOOTOPTS_MAX_ENV);
                return -E2BIG;
            }
            o->env[o->envc++] = value;
            return 0;
        }
        if (d->kind == OPT_ROOTFS && !rootfs_ok(value)) {
            snprintf(err, errlen, "boot option --rootfs: \"%s\" is not initrd, ext4 or a disk such as /dev/vblk0",
                     value);
            return -EINVAL;
        }
        if (d->kind == OPT_MOUNT) {
            if (!mount_spec_ok(value)) {
                snprintf(err, errlen, "boot option --mount-fs: \"%s\" is not TYPE,DEVICE,DIR[,OPTIONS] with an "
                         "absolute DIR (e.g. ext4,/dev/vblk1,/data)", value);
                return -EINVAL;
            }
            if (o->mount_count == BOOTOPTS_MAX_MOUNTS) {
                snprintf(err, errlen, "more than %d --mount-fs options", BOOTOPTS_MAX_MOUNTS);
                return -E2BIG;
            }
            o->mount_fs[o->mount_count++] = value;
            return 0;
        }
        if (d->kind == OPT_U64) {
            if (parse_u64(value, (uint64_t *)field) != 0) {
                snprintf(err, errlen, "boot option --%s: \"%s\" is not a number", name, value);
                return -EINVAL;
            }
            return 0;
        }
        if (d->choices && !choice_ok(d->choices, value)) {
            snprintf(err, errlen, "boot option --%s: \"%s\" is not one of %s", name, value, d->choices);
            return -EINVAL;
        }
        *(const char **)field = value;
        return 0;
    }
    snprintf(err, errlen,
             "unknown boot option \"--%s\" (boot options come before the program; --help lists them)",
             name);
    return -EINVAL;
}

int bootopts_parse(char *cmdline, struct boot_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->console = "serial";
    bool options_done = false;
    int werr = 0;
    char *p = cmdline, *word;
    while ((word = next_word(&p, &werr)) != NULL) {
        if (str_starts_with(word, MMIO_PREFIX)) { /* added by the VMM, anywhere */
            if (o->mmio_count == BOOTOPTS_MAX_MMIO) {
                snprintf(err, errlen, "more than %d virtio_mmio.device entries", BOOTOPTS_MAX_MMIO);
                return -E2BIG;
            }
            o->virtio_mmio[o->mmio_count++] = word + strlen(MMIO_PREFIX);
            continue;
        }
        if (!options_done && strcmp(word, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && word[0] == '-' && word[1] == '-') {
            int e = apply_option(o, word, err, errlen);
            if (e)
                return e;
            continue;
        }
        options_done = true;
        if (o->argc == BOOTOPTS_MAX_ARGS) {
            snprintf(err, errlen, "the command line has more than %d words", BOOTOPTS_MAX_ARGS);
            return -E2BIG;
        }
        o->argv[o->argc++] = word;
    }
    if (werr) {
        snprintf(err, errlen, "unterminated quote in the command line");
        return werr;
    }
    o->argv[o->argc] = NULL;
    return 0;
}

void bootopts_print_help(void (*print)(const char *line))
{
    char line[160];
    for (size_t i = 0; i < ARRAY_SIZE(bootopt_defs); i++) {
        const struct bootopt_def *d = &bootopt_defs[i];
        char name[40];
        snprintf(name, sizeof(name), "--%s%s", d->name,
                 d->kind == OPT_FLAG ? "" : d->kind == OPT_U64 ? "=N" : d->kind == OPT_ENV ? "=NAME=VALUE"
                 : d->kind == OPT_ROOTFS ? "=DEVICE" : d->kind == OPT_MOUNT ? "=TYPE,DEV,DIR" : "=VALUE");
        snprintf(line, sizeof(line), "  %-22s %s\n", name, d->help);
        print(line);
    }
}
