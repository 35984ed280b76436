/* Tests of image files: write one, read it back, and refuse every kind of
 * damage (magic, version, header, each section, truncation, extra bytes);
 * version 2 with an ext4 disk section, written and extracted with holes. */
#include "selftest.h"
#include "fstree.h"
#include "image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *make_image(void)
{
    char *kernel = st_path("kernel.elf"), *path = st_path("test.img");
    st_write_file(kernel, "\177ELF fake kernel", 16);
    struct fstree t = { 0 };
    fstree_add_bytes(&t, "/hello", "#!/bin/sh\n", 10, 0755);
    struct image_config ic = { 0 };
    strvec_push(&ic.argv, "/hello");
    strvec_push(&ic.argv, "two words");
    strvec_push(&ic.boot, "--strace");
    strvec_push(&ic.env, "A=1");
    ic.cwd = "/srv";
    ic.memory_mib = 512;
    ic.cpus = 2;
    struct image_writer iw;
    image_writer_begin(&iw, path, 3);
    image_writer_section_begin(&iw, IMAGE_KERNEL);
    wbuf_copy_file(&iw.w, kernel, 16);
    image_writer_section_end(&iw);
    image_writer_section_begin(&iw, IMAGE_INITRD);
    fstree_write_cpio(&t, &iw.w);
    image_writer_section_end(&iw);
    image_writer_section_begin(&iw, IMAGE_CONFIG);
    char *cfg;
    size_t len;
    image_config_encode(&ic, &cfg, &len);
    wbuf_write(&iw.w, cfg, len);
    image_writer_section_end(&iw);
    image_writer_finish(&iw);
    free(kernel), free(cfg);
    return path;
}

static bool refused(const char *data, size_t n, const char *expect)
{
    char *p = st_path("bad.img");
    st_write_file(p, data, n);
    struct image im;
    char err[512];
    int rc = image_open(&im, p, err, sizeof(err));
    if (rc == 0) { /* the header is fine: the damage must show in a section */
        rc = image_section_verify(&im, &im.kernel, err, sizeof(err));
        if (rc == 0)
            rc = image_section_verify(&im, &im.initrd, err, sizeof(err));
        image_close(&im);
    }
    bool ok = rc != 0 && strstr(err, expect);
    if (!ok)
        fprintf(stderr, "  want \"%s\", got: %s\n", expect, rc ? err : "accepted");
    free(p);
    return ok;
}

void st_image(void)
{
    char *path = make_image();
    struct image im;
    char err[512];
    CHECK(image_open(&im, path, err, sizeof(err)) == 0);
    const struct image_config *c = &im.config;
    CHECK(c->argv.n == 2 && !strcmp(c->argv.v[1], "two words") && c->boot.n == 1 && c->env.n == 1);
    CHECK(c->cwd && !strcmp(c->cwd, "/srv") && c->memory_mib == 512 && c->cpus == 2);
    CHECK(im.kernel.offset % IMAGE_ALIGN == 0 && im.initrd.offset % IMAGE_ALIGN == 0 && im.kernel.size == 16);
    CHECK(image_section_verify(&im, &im.initrd, err, sizeof(err)) == 0);
    char *out = st_path("kernel.out");
    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    image_extract(&im, &im.kernel, fd, out);
    close(fd);
    size_t n;
    char *k = st_read_file(out, &n);
    CHECK(n == 16 && !memcmp(k, "\177ELF fake kernel", 16));
    image_close(&im);

    char *data = st_read_file(path, &n);
    char *copy = xmalloc(n);
#define DAMAGED(mutation, expect)                 \
    do {                                          \
        memcpy(copy, data, n);                    \
        mutation;                                 \
        CHECK(refused(copy, n, expect));          \
    } while (0)
    DAMAGED(copy[0] = 'X', "is not an Osprey image");
    DAMAGED(copy[8] = 9, "format version 9");
    DAMAGED(copy[70] ^= 1, "header checksum mismatch");
    DAMAGED(copy[im.kernel.offset + 3] ^= 1, "checksum mismatch in a section");
    DAMAGED(copy[im.initrd.offset + 200] ^= 1, "checksum mismatch in a section");
    DAMAGED(copy[n - 2] ^= 1, "settings section");
#undef DAMAGED
    CHECK(refused(data, n - 100, "is truncated"));
    CHECK(refused(data, 30, "too short"));
    memcpy(copy, data, n);
    char *longer = xmalloc(n + 10);
    memcpy(longer, data, n);
    memset(longer + n, 0, 10);
    CHECK(refused(longer, n + 10, "bytes after the end"));
    CHECK(image_open(&im, "/nonexistent.img", err, sizeof(err)) != 0 && strstr(err, "image not found"));
    CHECK(image_open(&im, st_tmpdir(), err, sizeof(err)) != 0 && strstr(err, "is a directory"));
    free(copy), free(longer), free(data), free(k), free(out), free(path);
}

/* An image with a kernel, the given root sections (their data from disk)
 * and settings, as format `version`. */
static char *image_with_roots(const char *name, uint32_t version, const uint32_t *roots, unsigned nroots,
                              const char *disk, uint64_t disk_size)
{
    char *kernel = st_path("kernel.elf"), *path = st_path(name);
    st_write_file(kernel, "\177ELF fake kernel", 16);
    struct image_writer iw;
    image_writer_begin(&iw, path, 2 + nroots);
    iw.version = version;
    image_writer_section_begin(&iw, IMAGE_KERNEL);
    wbuf_copy_file(&iw.w, kernel, 16);
    image_writer_section_end(&iw);
    for (unsigned i = 0; i < nroots; i++) {
        image_writer_section_begin(&iw, roots[i]);
        wbuf_copy_file_sparse(&iw.w, disk, disk_size);
        image_writer_section_end(&iw);
    }
    image_writer_section_begin(&iw, IMAGE_CONFIG);
    wbuf_write(&iw.w, "argv=/x", 8);
    image_writer_section_end(&iw);
    image_writer_finish(&iw);
    free(kernel);
    return path;
}

void st_image_ext4(void)
{
    /* 1 MiB of "disk": data at the start and at 600 KiB, holes between */
    enum { DISK = 1 << 20 };
    char *disk = xmalloc(DISK);
    memset(disk, 0, DISK);
    memcpy(disk + 1024 + 56, "\x53\xef", 2);
    memset(disk + 600 * 1024, 0xab, 5000);
    char *disk_path = st_path("disk.ext4");
    st_write_file(disk_path, disk, DISK);
    const uint32_t ext4[] = { IMAGE_EXT4 }, both[] = { IMAGE_INITRD, IMAGE_EXT4 };
    char *path = image_with_roots("v2.img", IMAGE_VERSION_EXT4, ext4, 1, disk_path, DISK);
    struct image im;
    char err[512];
    CHECK(image_open(&im, path, err, sizeof(err)) == 0);
    CHECK(im.version == 2 && im.ext4.type == IMAGE_EXT4 && !im.initrd.type && im.ext4.size == DISK);
    CHECK(im.ext4.offset % IMAGE_ALIGN == 0);
    CHECK(image_section_verify(&im, &im.ext4, err, sizeof(err)) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == im.size && st.st_blocks * 512 < DISK / 2);
    char *out = st_path("disk.out");
    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    image_extract_sparse(&im, &im.ext4, fd, out);
    CHECK(fstat(fd, &st) == 0 && st.st_size == DISK && st.st_blocks * 512 < DISK / 2);
    close(fd);
    size_t n;
    char *back = st_read_file(out, &n);
    CHECK(n == DISK && !memcmp(back, disk, DISK));
    image_close(&im);
    /* a version 1 reader's view: type 4 is unknown there, so no root */
    char *v1 = image_with_roots("v1.img", IMAGE_VERSION, ext4, 1, disk_path, DISK);
    CHECK(image_open(&im, v1, err, sizeof(err)) != 0 && strstr(err, "root filesystem or settings section is missing"));
    char *two = image_with_roots("two.img", IMAGE_VERSION_EXT4, both, 2, disk_path, DISK);
    CHECK(image_open(&im, two, err, sizeof(err)) != 0 && strstr(err, "two root filesystems"));
    free(disk), free(disk_path), free(path), free(out), free(back), free(v1), free(two);
}
