/* Host unit tests of the osprey tool: a tiny check framework shared by the
 * st_*.c files. */
#pragma once

#include "osprey.h"

#include <stdio.h>

extern int st_failures, st_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        st_checks++;                                                                  \
        if (!(cond)) {                                                                \
            st_failures++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                             \
    } while (0)

/* A fresh scratch directory for one test. */
const char *st_tmpdir(void);
char *st_path(const char *name);
void st_write_file(const char *path, const void *data, size_t n);
char *st_read_file(const char *path, size_t *n);
/* Run fn(arg) in a child; true when it dies with status 125 and a single
 * stderr line containing `expect`. */
bool st_dies_with(void (*fn)(void *), void *arg, const char *expect);

/* A generated ELF64 x86-64 file (st_elf.c). */
struct elf_spec {
    uint16_t type;       /* 0: ET_DYN */
    const char *interp;
    const char *needed[4];
    const char *runpath, *soname;
};
void st_write_elf(const char *path, const struct elf_spec *s);

void st_cpio(void);
void st_fstree(void);
void st_elf(void);
void st_ldcache(void);
void st_deps(void);
void st_manifest(void);
void st_image(void);
void st_image_ext4(void);
void st_misc(void);
