/* Osprey image files (docs/image-format.md): one file holding the kernel,
 * the root filesystem and the default command line and settings. */
#pragma once

#include "osprey.h"

#define IMAGE_MAGIC "OSPREYIM"
#define IMAGE_VERSION 1      /* what images with a cpio root are written as */
#define IMAGE_VERSION_EXT4 2 /* an ext4 root: readers of version 1 cannot boot it */
#define IMAGE_FIXED_HEADER 64
#define IMAGE_SECTION_ENTRY 32
#define IMAGE_MAX_SECTIONS 16
#define IMAGE_ALIGN 4096
#define IMAGE_MAX_CONFIG (1u << 20)

enum image_section_type { IMAGE_KERNEL = 1, IMAGE_INITRD = 2, IMAGE_CONFIG = 3, IMAGE_EXT4 = 4 };

struct image_section {
    uint32_t type, flags;
    uint64_t offset, size;
    uint32_t crc;
};

/* The settings an image carries; what `osprey run` uses when not told. */
struct image_config {
    struct strvec argv;   /* the program and its arguments */
    struct strvec boot;   /* extra kernel boot options (--strace, ...) */
    struct strvec env;    /* NAME=VALUE */
    char *cwd;
    uint64_t memory_mib;  /* 0: osprey run's default */
    unsigned cpus;        /* 0: osprey run's default */
};

struct image {
    const char *path;
    int fd;
    uint64_t size;
    uint32_t version;
    /* the root is initrd (cpio) or ext4 (a disk image); the other has type 0 */
    struct image_section kernel, initrd, ext4, config_section;
    struct image_config config;
};

/* Open and check an image: 0, or -1 with the reason in err. */
int image_open(struct image *im, const char *path, char *err, size_t errlen);
/* Copy a section to out_fd, checking its CRC-32 (dies when it is wrong). */
void image_extract(const struct image *im, const struct image_section *s, int out_fd, const char *out_name);
/* Read a whole section into memory and check its CRC (-1 with err). */
int image_section_verify(const struct image *im, const struct image_section *s, char *err, size_t errlen);
/* A section into out_fd leaving holes where it is zero (a disk image is
 * mostly free space), its CRC checked (dies when it is wrong). */
void image_extract_sparse(const struct image *im, const struct image_section *s, int out_fd, const char *out_name);
void image_close(struct image *im);

/* Serialisation of the config section: NUL-terminated key=value records. */
void image_config_encode(const struct image_config *c, char **buf, size_t *len);
int image_config_decode(struct image_config *c, const char *buf, size_t len, char *err, size_t errlen);

/* Writing: sections in order, each streamed through writer.w. */
struct image_writer {
    const char *path;
    char *tmp_path;
    int fd;
    struct wbuf w;
    struct image_section sec[IMAGE_MAX_SECTIONS];
    unsigned nsec;
    uint32_t version;  /* IMAGE_VERSION unless set after begin */
};
void image_writer_begin(struct image_writer *iw, const char *path, unsigned nsections);
void image_writer_section_begin(struct image_writer *iw, uint32_t type);
void image_writer_section_end(struct image_writer *iw);
void image_writer_finish(struct image_writer *iw);
