/* `osprey inspect IMAGE`: check an image's checksums and show its default
 * command, settings and files (for an ext4 root, how to list them). */
#include "osprey.h"
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void inspect_usage(void)
{
    printf("usage: osprey inspect IMAGE\n"
           "\n"
           "Check an image's checksums and print its default command line, settings and\n"
           "files (mode, size, path, and where a symlink points).\n");
}

static void mode_string(uint32_t mode, char out[11])
{
    uint32_t type = mode & 0170000;
    out[0] = type == 0040000 ? 'd' : type == 0120000 ? 'l' : type == 0100000 ? '-' : '?';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = mode & (0400u >> i) ? rwx[i] : '-';
    if (mode & 04000)
        out[3] = out[3] == 'x' ? 's' : 'S';
    if (mode & 02000)
        out[6] = out[6] == 'x' ? 's' : 'S';
    if (mode & 01000)
        out[9] = out[9] == 'x' ? 't' : 'T';
    out[10] = '\0';
}

static void print_list(const char *label, const struct strvec *v)
{
    if (!v->n)
        return;
    char *s = shell_join(v->v);
    printf("%-9s %s\n", label, s);
    free(s);
}

static void print_files(const struct image *im)
{
    struct cpio_reader r = { .fd = im->fd, .off = im->initrd.offset, .end = im->initrd.offset + im->initrd.size };
    struct cpio_entry *e = xmalloc(sizeof(*e));
    int rc;
    printf("files:\n");
    while ((rc = cpio_read_next(&r, e)) > 0) {
        char mode[11];
        mode_string(e->mode, mode);
        const char *name = strcmp(e->name, ".") ? e->name : "";
        printf("  %s %10llu  /%s%s%s\n", mode, (unsigned long long)e->size, name, e->target[0] ? " -> " : "",
               e->target);
    }
    if (rc < 0)
        die("%s: its root filesystem is not a valid cpio archive: %s", im->path, r.err);
    free(e);
}

int cmd_inspect(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        inspect_usage();
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        die("usage: osprey inspect IMAGE");
    struct image im;
    char err[512];
    if (image_open(&im, argv[1], err, sizeof(err)) != 0 ||
        image_section_verify(&im, &im.kernel, err, sizeof(err)) != 0 ||
        image_section_verify(&im, im.ext4.type ? &im.ext4 : &im.initrd, err, sizeof(err)) != 0)
        die("%s", err);
    const struct image_config *c = &im.config;
    printf("image:    %s (format %u, %llu bytes, checksums ok)\n", im.path, im.version,
           (unsigned long long)im.size);
    printf("kernel:   %llu bytes\n", (unsigned long long)im.kernel.size);
    if (im.ext4.type)
        printf("rootfs:   ext4 disk, %llu bytes at offset %llu (booted as /dev/vblk0)\n",
               (unsigned long long)im.ext4.size, (unsigned long long)im.ext4.offset);
    else
        printf("rootfs:   cpio newc, %llu bytes\n", (unsigned long long)im.initrd.size);
    print_list("command: ", &c->argv);
    print_list("boot:    ", &c->boot);
    for (size_t i = 0; i < c->env.n; i++)
        printf("env:      %s\n", c->env.v[i]);
    if (c->cwd)
        printf("cwd:      %s\n", c->cwd);
    if (c->memory_mib)
        printf("memory:   %lluM\n", (unsigned long long)c->memory_mib);
    if (c->cpus)
        printf("cpus:     %u\n", c->cpus);
    if (im.ext4.type) /* e2fsprogs read a file system inside a file at ?offset= */
        printf("files:    in the ext4 disk; list them with: debugfs -R 'ls -l /' '%s?offset=%llu'\n", im.path,
               (unsigned long long)im.ext4.offset);
    else
        print_files(&im);
    image_close(&im);
    return 0;
}
