/* Host tests of boot option parsing: options, quoting, the program's argv,
 * VMM-added virtio_mmio words, and every error. */
#include "unit.h"
#include <string.h>

#include "core/bootopts.h"
#include "lib/errno.h"

static struct boot_options o;
static char err[256];
static char buf[4096];

static int parse(const char *s)
{
    strcpy(buf, s);
    err[0] = 0;
    return bootopts_parse(buf, &o, err, sizeof(err));
}

UNIT_TEST(bootopts_defaults_and_empty)
{
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(o.argc, 0);
    CHECK(o.argv[0] == NULL);
    CHECK_STR(o.console, "serial");
    CHECK(!o.bootchart && !o.verbose && !o.nopci && !o.power_off_on_abort);
    CHECK_EQ(parse("   \t "), 0);
    CHECK_EQ(o.argc, 0);
}

UNIT_TEST(bootopts_options_then_program)
{
    CHECK_EQ(parse("--bootchart --verbose --console=none --tsc-khz=2600000 /hello a b"), 0);
    CHECK(o.bootchart && o.verbose);
    CHECK_STR(o.console, "none");
    CHECK_EQ(o.tsc_khz, 2600000);
    CHECK_EQ(o.argc, 3);
    CHECK_STR(o.argv[0], "/hello");
    CHECK_STR(o.argv[2], "b");
    CHECK(o.argv[3] == NULL);
    /* after the program starts, --words belong to it */
    CHECK_EQ(parse("--nopci /bin/ls --color=auto --bootchart"), 0);
    CHECK(o.nopci && !o.bootchart);
    CHECK_EQ(o.argc, 3);
    CHECK_STR(o.argv[1], "--color=auto");
    /* an explicit -- ends options */
    CHECK_EQ(parse("--verbose -- --weird-program-name x"), 0);
    CHECK_EQ(o.argc, 2);
    CHECK_STR(o.argv[0], "--weird-program-name");
}

UNIT_TEST(bootopts_quoting)
{
    CHECK_EQ(parse("/bin/echo 'single quoted' \"double \\\"quoted\\\" \\\\ x\" back\\ slash mi\"x\"ed ''"), 0);
    CHECK_EQ(o.argc, 6);
    CHECK_STR(o.argv[1], "single quoted");
    CHECK_STR(o.argv[2], "double \"quoted\" \\ x");
    CHECK_STR(o.argv[3], "back slash");
    CHECK_STR(o.argv[4], "mixed");
    CHECK_STR(o.argv[5], "");
    CHECK_EQ(parse("/x 'it''s'"), 0);
    CHECK_STR(o.argv[1], "its");
    CHECK_EQ(parse("/x \"unterminated"), -EINVAL);
    CHECK(strstr(err, "unterminated quote") != NULL);
    CHECK_EQ(parse("/x 'also"), -EINVAL);
}

UNIT_TEST(bootopts_virtio_mmio_words_anywhere)
{
    CHECK_EQ(parse("--verbose /app arg virtio_mmio.device=512@0xfeb00e00:12 "
                   "virtio_mmio.device=4K@0xd0000000:5:3"), 0);
    CHECK_EQ(o.argc, 2);
    CHECK_EQ(o.mmio_count, 2);
    CHECK_STR(o.virtio_mmio[0], "512@0xfeb00e00:12");
    CHECK_STR(o.virtio_mmio[1], "4K@0xd0000000:5:3");
    CHECK_EQ(parse("virtio_mmio.device=1K@0x1000:5 --bootchart"), 0);
    CHECK(o.bootchart);
}

UNIT_TEST(bootopts_errors)
{
    CHECK_EQ(parse("--frobnicate /x"), -EINVAL);
    CHECK(strstr(err, "unknown boot option \"--frobnicate\"") != NULL);
    CHECK_EQ(parse("--verbose=yes"), -EINVAL);
    CHECK(strstr(err, "takes no value") != NULL);
    CHECK_EQ(parse("--console"), -EINVAL);
    CHECK(strstr(err, "needs a value") != NULL);
    CHECK_EQ(parse("--console="), -EINVAL);
    CHECK_EQ(parse("--console=vga"), -EINVAL);
    CHECK(strstr(err, "serial|none") != NULL);
    CHECK_EQ(parse("--tsc-khz=fast"), -EINVAL);
    CHECK(strstr(err, "not a number") != NULL);
    CHECK_EQ(parse("--tsc-khz=99999999999999999999999"), -EINVAL);
    /* too many words */
    char *p = buf;
    strcpy(p, "/x");
    for (int i = 0; i < BOOTOPTS_MAX_ARGS + 5; i++)
        strcat(p, " a");
    err[0] = 0;
    CHECK_EQ(bootopts_parse(buf, &o, err, sizeof(err)), -E2BIG);
}

static int help_lines;
static void count_line(const char *line)
{
    CHECK(strncmp(line, "  --", 4) == 0);
    help_lines++;
}

UNIT_TEST(bootopts_help_lists_every_option)
{
    bootopts_print_help(count_line);
    CHECK_EQ(help_lines, 19);
}

UNIT_TEST(bootopts_env_cwd_strace)
{
    char buf[] = "--strace --env=A=1 --env=PATH=/bin:/x --cwd=/tmp --no-aslr /prog --env=B=2";
    char err[200];
    CHECK_EQ(bootopts_parse(buf, &o, err, sizeof(err)), 0);
    CHECK(o.strace);
    CHECK(o.no_aslr);
    CHECK_EQ(o.envc, 2);
    CHECK_STR(o.env[0], "A=1");
    CHECK_STR(o.env[1], "PATH=/bin:/x");
    CHECK_STR(o.cwd, "/tmp");
    CHECK_EQ(o.argc, 2);
    CHECK_STR(o.argv[1], "--env=B=2"); /* after the program: its own argument */
    char bad[] = "--env=NOEQUALS /p";
    CHECK_EQ(bootopts_parse(bad, &o, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "is not NAME=VALUE") != NULL);
}

UNIT_TEST(bootopts_network)
{
    CHECK_EQ(parse("--ip=eth0,192.168.122.10,255.255.255.0 --defaultgw=192.168.122.1 "
                   "--nameserver=1.1.1.1,8.8.8.8 --hostname=web1 /srv"), 0);
    CHECK_STR(o.ip, "eth0,192.168.122.10,255.255.255.0");
    CHECK_STR(o.defaultgw, "192.168.122.1");
    CHECK_STR(o.nameserver, "1.1.1.1,8.8.8.8");
    CHECK_STR(o.hostname, "web1");
    CHECK_EQ(o.argc, 1);
    CHECK_EQ(parse("/srv"), 0);
    CHECK(o.ip == NULL && o.defaultgw == NULL && o.nameserver == NULL && o.hostname == NULL);
    CHECK_EQ(parse("--ip /srv"), -EINVAL);
    CHECK(strstr(err, "needs a value") != NULL);
}

UNIT_TEST(bootopts_rootfs_and_mount_fs)
{
    CHECK_EQ(parse("/p"), 0);
    CHECK(o.rootfs == NULL && o.mount_count == 0);
    CHECK_EQ(parse("--rootfs=/dev/vblk0 --mount-fs=ext4,/dev/vblk1,/data --mount-fs=ext2,/dev/vblk2,/m/x,ro /p"), 0);
    CHECK_STR(o.rootfs, "/dev/vblk0");
    CHECK_EQ(o.mount_count, 2);
    CHECK_STR(o.mount_fs[0], "ext4,/dev/vblk1,/data");
    CHECK_STR(o.mount_fs[1], "ext2,/dev/vblk2,/m/x,ro");
    CHECK_EQ(o.argc, 1);
    CHECK_EQ(parse("--rootfs=initrd /p"), 0);
    CHECK_EQ(parse("--rootfs=ext4 /p"), 0);
    static const char *const bad_root[] = { "--rootfs=/dev/", "--rootfs=vblk0", "--rootfs=/dev/a/b", "--rootfs=zfs" };
    for (size_t i = 0; i < sizeof(bad_root) / sizeof(bad_root[0]); i++) {
        CHECK_EQ(parse(bad_root[i]), -EINVAL);
        CHECK(strstr(err, "boot option --rootfs:") != NULL);
    }
    CHECK_EQ(parse("--rootfs /p"), -EINVAL);
    CHECK(strstr(err, "needs a value") != NULL);
    static const char *const bad_mount[] = { "--mount-fs=ext4", "--mount-fs=ext4,/dev/vblk1",
                                             "--mount-fs=ext4,/dev/vblk1,data", "--mount-fs=,/dev/vblk1,/d",
                                             "--mount-fs=ext4,,/d" };
    for (size_t i = 0; i < sizeof(bad_mount) / sizeof(bad_mount[0]); i++) {
        CHECK_EQ(parse(bad_mount[i]), -EINVAL);
        CHECK(strstr(err, "TYPE,DEVICE,DIR") != NULL);
    }
    char many[2048] = "";
    for (int i = 0; i <= BOOTOPTS_MAX_MOUNTS; i++)
        strcat(many, "--mount-fs=ext4,/dev/vblk1,/d ");
    CHECK_EQ(parse(many), -E2BIG);
}
