/* Boot options, OSv style: `--option[=value]` words first, then the program's
 * command line. Words may be quoted ('...' or "...") or backslash-escaped. */
#pragma once

#include "lib/types.h"

#define BOOTOPTS_MAX_ARGS 256
#define BOOTOPTS_MAX_MMIO 32
#define BOOTOPTS_MAX_ENV 128
#define BOOTOPTS_MAX_MOUNTS 16

struct boot_options {
    bool bootchart, verbose, nopci, power_off_on_abort, help, strace, no_aslr, notty;
    const char *console; /* "serial" (default) or "none" */
    uint64_t tsc_khz;    /* TSC frequency hint from the host tool, 0 if none */
    const char *test;    /* --test=NAME[,NAME...]: run kernel self-tests */
    const char *cwd;     /* --cwd=DIR: the program's working directory */
    unsigned envc;       /* --env=NAME=VALUE, repeatable */
    char *env[BOOTOPTS_MAX_ENV];
    unsigned argc;       /* the program's command line */
    char *argv[BOOTOPTS_MAX_ARGS + 1];
    /* networking (kernel/net/net_config.c parses the values) */
    const char *ip;         /* --ip=IFACE,ADDR,MASK: static address instead of DHCP */
    const char *defaultgw;  /* --defaultgw=ADDR */
    const char *nameserver; /* --nameserver=ADDR[,ADDR...] */
    const char *hostname;   /* --hostname=NAME */
    /* file systems (kernel/fs/vfs_init.c mounts them) */
    const char *rootfs;     /* --rootfs=DEVICE: NULL, "initrd" or "ramfs" mean the initrd */
    unsigned mount_count;   /* --mount-fs=TYPE,DEVICE,DIR[,OPTIONS], repeatable */
    const char *mount_fs[BOOTOPTS_MAX_MOUNTS];
    unsigned mmio_count; /* virtio_mmio.device=SIZE@BASE:IRQ[:ID] words the VMM added */
    char *virtio_mmio[BOOTOPTS_MAX_MMIO];
};

extern struct boot_options boot_options;

/* Parse `cmdline` in place (words are unquoted and NUL-terminated inside it).
 * Returns 0, or a negative errno with a one-line explanation in err. */
int bootopts_parse(char *cmdline, struct boot_options *out, char *err, size_t errlen);
/* Write the list of boot options, one per line, for --help. */
void bootopts_print_help(void (*print)(const char *line));
