/* Tests of image files: write one, read it back, and refuse every kind of
 * damage (magic, version, header, each section, truncation, extra bytes). */
#include "selftest.h"
#include "fstree.h"
#include "image.h"

#include <fcntl.h>
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
