/* --from-host: an executable (or a tree of them) with its ELF interpreter
 * and the shared libraries it needs, found by the dynamic linker's rules
 * (ld.so(8)): a DT_NEEDED name with a slash is a path; otherwise the
 * DT_RPATH of the object and of its loaders when it has no DT_RUNPATH, then
 * its DT_RUNPATH, then /etc/ld.so.cache, then the standard directories.
 * $ORIGIN expands to the object's directory. Libraries are walked breadth
 * first, and a name already loaded (as a DT_NEEDED name or a DT_SONAME) is
 * not looked up again, as in the dynamic linker. Guest paths are the host's,
 * symlink chains (libz.so.1 -> libz.so.1.2.13) included. */
#include "elfdeps.h"
#include "fstree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LD_CACHE_PATH "/etc/ld.so.cache"
#define ET_DYN_TYPE 3 /* ET_DYN */

static const char *const std_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

/* loaded by glibc at run time (name service, DNS), not through DT_NEEDED */
static const char *const glibc_extras[] = { "libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2" };

struct dirpair {
    char *host, *guest;
};

struct obj {
    char *host, *guest;
    struct elf_info info;
    struct dirpair *rpath, *runpath;
    size_t nrpath, nrunpath;
    long parent;             /* the loader's index, -1 for a program */
};

struct deps {
    struct fstree *t;
    struct obj *objs;
    size_t n, cap;
    struct strvec loaded;    /* names already satisfied */
    struct strvec files;     /* host files (real paths) already queued */
    struct strvec interps;   /* interpreters already added */
    struct ldcache cache;
    bool cache_loaded, copy_cache, libc;
};

struct deps *deps_new(struct fstree *t)
{
    struct deps *d = calloc(1, sizeof(*d));
    if (!d)
        die("out of memory");
    d->t = t;
    return d;
}

static bool in_list(const struct strvec *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

static char *dir_of(const char *path)
{
    char *d = xstrdup(path), *slash = strrchr(d, '/');
    if (slash == d)
        d[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(d, ".");
    return d;
}

/* Copy host path to guest path, recreating each symlink on the way. */
void deps_add_chain(struct fstree *t, const char *host, const char *guest)
{
    char *h = xstrdup(host), *g = path_normalize(guest);
    for (int depth = 0;; depth++) {
        struct stat st;
        if (lstat(h, &st) != 0)
            die("cannot read %s: %s", h, strerror(errno));
        if (!S_ISLNK(st.st_mode)) {
            fstree_add_host(t, g, h, &st);
            break;
        }
        if (depth == 40)
            die("too many levels of symbolic links at %s", host);
        char *target = read_link(h);
        fstree_add_link(t, g, target, st.st_mtime);
        char *hd = dir_of(h), *gd = dir_of(g);
        char *nh = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", hd, target);
        char *ng = target[0] == '/' ? path_normalize(target) : path_join(gd, target);
        free(h), free(g), free(hd), free(gd), free(target);
        h = nh;
        g = ng;
    }
    free(h);
    free(g);
}

/* $ORIGIN, $LIB and $PLATFORM in one search path element. */
static char *expand_dst(const char *elem, const char *origin)
{
    static const struct { const char *name, *value; } dst[] = {
        { "ORIGIN", NULL }, { "LIB", "lib/x86_64-linux-gnu" }, { "PLATFORM", "x86_64" },
    };
    char *out = xstrdup("");
    for (const char *p = elem; *p;) {
        bool done = false;
        for (size_t i = 0; *p == '$' && i < sizeof(dst) / sizeof(dst[0]) && !done; i++) {
            size_t n = strlen(dst[i].name);
            bool braced = p[1] == '{' && !strncmp(p + 2, dst[i].name, n) && p[2 + n] == '}';
            bool bare = !strncmp(p + 1, dst[i].name, n) && !(p[1 + n] == '_' || isalnum((unsigned char)p[1 + n]));
            if (braced || bare) {
                char *o = xasprintf("%s%s", out, dst[i].value ? dst[i].value : origin);
                free(out);
                out = o;
                p += braced ? n + 3 : n + 1;
                done = true;
            }
        }
        if (!done) {
            char *o = xasprintf("%s%c", out, *p++);
            free(out);
            out = o;
        }
    }
    return out;
}

static void expand_path_list(const char *list, const struct obj *o, struct dirpair **out, size_t *n)
{
    if (!list)
        return;
    char *host_origin = dir_of(o->host), *guest_origin = dir_of(o->guest);
    char *copy = xstrdup(list);
    for (char *save, *e = strtok_r(copy, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
        char *h = expand_dst(e, host_origin), *g = expand_dst(e, guest_origin);
        if (h[0] != '/') { /* relative to the process's directory: unknowable here */
            free(h), free(g);
            continue;
        }
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = (struct dirpair){ h, path_normalize(g) };
        free(g);
    }
    free(copy), free(host_origin), free(guest_origin);
}

static void queue_object(struct deps *d, const char *host, const char *guest, struct elf_info *info, long parent);

static void add_interp(struct deps *d, const char *interp, const char *user)
{
    if (in_list(&d->interps, interp))
        return;
    strvec_push(&d->interps, interp);
    struct stat st;
    if (stat(interp, &st) != 0)
        die("%s needs the dynamic linker %s, which is not on this host", user, interp);
    deps_add_chain(d->t, interp, interp);
    struct elf_info info;
    char err[512];
    if (elf_read(interp, &info, err, sizeof(err)) != ELF_OK)
        die("%s", err);
    queue_object(d, interp, interp, &info, -1);
}

static void queue_object(struct deps *d, const char *host, const char *guest, struct elf_info *info, long parent)
{
    char *real = realpath(host, NULL);
    if (!real)
        die("cannot read %s: %s", host, strerror(errno));
    if (in_list(&d->files, real)) {
        free(real);
        elf_info_free(info);
        return;
    }
    strvec_push(&d->files, real);
    free(real);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->objs = xrealloc(d->objs, d->cap * sizeof(*d->objs));
    }
    struct obj *o = &d->objs[d->n++];
    memset(o, 0, sizeof(*o));
    o->host = xstrdup(host);
    o->guest = xstrdup(guest);
    o->info = *info;
    o->parent = parent;
    expand_path_list(o->info.rpath, o, &o->rpath, &o->nrpath);
    expand_path_list(o->info.runpath, o, &o->runpath, &o->nrunpath);
    if (o->info.soname && !in_list(&d->loaded, o->info.soname))
        strvec_push(&d->loaded, o->info.soname);
    if (o->info.interp) {
        char *interp = xstrdup(o->info.interp), *who = xstrdup(host);
        add_interp(d, interp, who); /* may move d->objs */
        free(interp), free(who);
    }
}

/* A candidate library: a regular file that is an x86-64 ELF64 shared object
 * (the dynamic linker skips others, e.g. 32-bit ones, and searches on). */
static bool usable_library(const char *path, struct elf_info *info)
{
    struct stat st;
    char err[512];
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (elf_read(path, info, err, sizeof(err)) != ELF_OK)
        return false;
    if (info->type != ET_DYN_TYPE) {
        elf_info_free(info);
        return false;
    }
    return true;
}

static bool search_dirs(const struct dirpair *dirs, size_t n, const char *name, char **host, char **guest,
                        struct elf_info *info)
{
    for (size_t i = 0; i < n; i++) {
        char *h = xasprintf("%s/%s", dirs[i].host, name);
        if (usable_library(h, info)) {
            *host = h;
            *guest = path_join(dirs[i].guest, name);
            return true;
        }
        free(h);
    }
    return false;
}

static bool in_std_dir(const char *path)
{
    char *dir = dir_of(path);
    bool found = false;
    for (size_t i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++)
        found |= strcmp(dir, std_dirs[i]) == 0;
    free(dir);
    return found;
}

static bool search_system(struct deps *d, const char *name, char **host, char **guest, struct elf_info *info)
{
    if (!d->cache_loaded) {
        char err[512];
        if (ldcache_load(&d->cache, LD_CACHE_PATH, err, sizeof(err)) != 0)
            warn("%s; searching the standard directories only", err);
        d->cache_loaded = true;
    }
    const char *cached = ldcache_lookup(&d->cache, name);
    if (cached && usable_library(cached, info)) {
        *host = xstrdup(cached);
        *guest = path_normalize(cached);
        d->copy_cache |= !in_std_dir(cached); /* the guest's ld.so needs the cache to find it */
        return true;
    }
    for (size_t i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++) {
        struct dirpair p = { (char *)std_dirs[i], (char *)std_dirs[i] };
        if (search_dirs(&p, 1, name, host, guest, info))
            return true;
    }
    return false;
}

static bool find_library(struct deps *d, size_t who, const char *name, char **host, char **guest,
                         struct elf_info *info)
{
    if (strchr(name, '/')) {
        if (!usable_library(name, info))
            return false;
        *host = xstrdup(name);
        *guest = path_normalize(name);
        return true;
    }
    const struct obj *o = &d->objs[who];
    if (!o->nrunpath)
        for (long i = (long)who; i >= 0; i = d->objs[i].parent)
            if (search_dirs(d->objs[i].rpath, d->objs[i].nrpath, name, host, guest, info))
                return true;
    if (search_dirs(o->runpath, o->nrunpath, name, host, guest, info))
        return true;
    return search_system(d, name, host, guest, info);
}

static void load_needed(struct deps *d, size_t who, const char *name, bool required)
{
    char *host, *guest;
    struct elf_info info;
    if (in_list(&d->loaded, name))
        return;
    if (!find_library(d, who, name, &host, &guest, &info)) {
        if (required)
            die("cannot find %s, needed by %s: it is not in the object's RPATH/RUNPATH, %s or the standard "
                "library directories (add it with --file GUEST=HOST)", name, d->objs[who].host, LD_CACHE_PATH);
        return;
    }
    strvec_push(&d->loaded, name);
    d->libc |= strcmp(name, "libc.so.6") == 0;
    deps_add_chain(d->t, host, guest);
    queue_object(d, host, guest, &info, (long)who);
    free(host);
    free(guest);
}

/* glibc finds the main program's $ORIGIN through /proc/self/exe, falling
 * back to $LD_ORIGIN_PATH: the directory to put there when the program at
 * `guest` uses $ORIGIN, or NULL. */
char *deps_origin_dir(const struct deps *d, const char *guest)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct obj *o = &d->objs[i];
        if (o->parent != -1 || strcmp(o->guest, guest) != 0)
            continue;
        bool origin = (o->info.rpath && strstr(o->info.rpath, "ORIGIN")) ||
                      (o->info.runpath && strstr(o->info.runpath, "ORIGIN"));
        return origin ? dir_of(o->guest) : NULL;
    }
    return NULL;
}

void deps_finish(struct deps *d)
{
    bool extras = false;
    for (size_t i = 0;; i++) {
        if (i == d->n) {
            if (!d->libc || extras || !d->n)
                break;
            extras = true; /* glibc's run-time modules, when present */
            for (size_t k = 0; k < sizeof(glibc_extras) / sizeof(glibc_extras[0]); k++)
                load_needed(d, 0, glibc_extras[k], false);
            if (i == d->n)
                break;
        }
        for (size_t k = 0; k < d->objs[i].info.needed.n; k++) {
            char *name = xstrdup(d->objs[i].info.needed.v[k]); /* load_needed may move objs */
            load_needed(d, i, name, true);
            free(name);
        }
    }
    if (d->copy_cache && !fstree_lookup(d->t, LD_CACHE_PATH))
        deps_add_chain(d->t, LD_CACHE_PATH, LD_CACHE_PATH);
}

/* "#!interpreter [arg]": the interpreter comes along too; with
 * "#!/usr/bin/env NAME", so does NAME as found in the host's PATH. */
static bool add_script(struct deps *d, const char *host)
{
    char line[512] = { 0 };
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 3 || line[0] != '#' || line[1] != '!')
        return false;
    line[strcspn(line, "\n")] = '\0';
    char *save, *interp = strtok_r(line + 2, " \t", &save), *arg = strtok_r(NULL, " \t", &save);
    if (!interp || interp[0] != '/')
        die("%s: the #! line does not name an absolute interpreter path", host);
    deps_add_program(d, interp, interp);
    if (arg && arg[0] != '-' && !strcmp(strrchr(interp, '/') + 1, "env")) {
        char *found = path_search(arg);
        if (!found)
            die("%s runs \"%s\" through env, and it is not in this host's PATH", host, arg);
        deps_add_program(d, found, found);
        free(found);
    }
    return true;
}

void deps_add_program(struct deps *d, const char *host, const char *guest)
{
    struct stat st;
    if (stat(host, &st) != 0)
        die("--from-host %s: %s", host, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        deps_add_tree(d, host, guest);
        return;
    }
    deps_add_chain(d->t, host, guest);
    struct elf_info info;
    char err[512];
    enum elf_status s = elf_read(host, &info, err, sizeof(err));
    if (s == ELF_NOT_ELF) {
        if (!add_script(d, host))
            die("%s is not an ELF executable or a #! script", host);
        return;
    }
    if (s != ELF_OK)
        die("%s", err);
    queue_object(d, host, guest, &info, -1);
}

static bool has_elf_magic(const char *path)
{
    char m[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool yes = fd >= 0 && read(fd, m, 4) == 4 && memcmp(m, "\177ELF", 4) == 0;
    if (fd >= 0)
        close(fd);
    return yes;
}

/* Queue every ELF file in a tree already added to the image. */
static void scan_tree(struct deps *d, const char *host, const char *guest)
{
    struct stat st;
    if (lstat(host, &st) != 0)
        return;
    if (S_ISREG(st.st_mode) && has_elf_magic(host)) {
        struct elf_info info;
        char err[512];
        enum elf_status s = elf_read(host, &info, err, sizeof(err));
        if (s == ELF_OK)
            queue_object(d, host, guest, &info, -1);
        else if (s == ELF_MALFORMED) /* object files and 32-bit programs are just files here */
            warn("%s; its libraries are not added", err);
    }
    if (!S_ISDIR(st.st_mode))
        return;
    DIR *dir = opendir(host);
    if (!dir)
        return;
    for (struct dirent *de; (de = readdir(dir));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *h = xasprintf("%s/%s", host, de->d_name), *g = path_join(guest, de->d_name);
        scan_tree(d, h, g);
        free(h), free(g);
    }
    closedir(dir);
}

void deps_add_tree(struct deps *d, const char *host, const char *guest)
{
    fstree_add_tree(d->t, host, guest);
    scan_tree(d, host, guest);
}
