/* Reading what the dynamic linker needs from an ELF64 file (elf.c), the
 * glibc ld.so.cache (ldcache.c), and the dependency walk of --from-host
 * (deps.c). */
#pragma once

#include "osprey.h"

enum elf_status {
    ELF_OK = 0,
    ELF_NOT_ELF = 1,     /* no ELF magic: maybe a #! script */
    ELF_WRONG_KIND = 2,  /* ELF, but 32-bit, another CPU, or an object file */
    ELF_MALFORMED = 3,   /* claims to be ELF64 x86-64 and is broken */
    ELF_UNREADABLE = 4,
};

struct elf_info {
    uint16_t type;       /* ET_EXEC or ET_DYN */
    char *interp;        /* PT_INTERP, or NULL */
    struct strvec needed;
    char *soname, *runpath, *rpath; /* NULL when absent */
};

/* On failure err holds one line naming the file and the reason. */
enum elf_status elf_read(const char *path, struct elf_info *info, char *err, size_t errlen);
void elf_info_free(struct elf_info *info);

struct ldcache {
    char *data;
    size_t size;
    size_t entries, nlibs, strings_base;
};
/* A missing cache is not an error (the cache is then empty). */
int ldcache_load(struct ldcache *c, const char *path, char *err, size_t errlen);
/* The baseline x86-64 path for soname, or NULL. */
const char *ldcache_lookup(const struct ldcache *c, const char *soname);
/* Parse a cache already in memory (for the self-tests); takes ownership. */
int ldcache_parse(struct ldcache *c, char *data, size_t size, char *err, size_t errlen);

struct fstree;
/* --from-host: the file (or tree) at `host`, at guest path `guest`, with its
 * interpreter and shared libraries at the paths the dynamic linker finds. */
struct deps;
struct deps *deps_new(struct fstree *t);
void deps_add_program(struct deps *d, const char *host, const char *guest);
void deps_add_tree(struct deps *d, const char *host, const char *guest);
/* Resolve everything queued; dies naming a library that cannot be found. */
void deps_finish(struct deps *d);
/* The guest directory to give as LD_ORIGIN_PATH for the program at guest
 * path `guest`, when it uses $ORIGIN (else NULL). */
char *deps_origin_dir(const struct deps *d, const char *guest);
/* Copy host path to guest path, recreating the symlinks on the way. */
void deps_add_chain(struct fstree *t, const char *host, const char *guest);
