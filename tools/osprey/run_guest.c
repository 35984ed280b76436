/* What `osprey run` hands the guest: the kernel command line composed from
 * the image's settings, the options and the words after `--`; and the kernel
 * and initrd as files the VMM can open (extracted from the image or packed
 * from --rootfs into temporary files that vanish with osprey). */
#include "osprey.h"
#include "fstree.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MEMORY_MIB 128

const char *kernel_default(void)
{
    char *dir = self_dir();
    char *beside = xasprintf("%s/kernel.elf", dir), *installed = xasprintf("%s/../lib/osprey/kernel.elf", dir);
    if (file_readable(beside))
        return beside;
    if (file_readable(installed))
        return installed;
    die("kernel not found: %s (run make, or pass --kernel FILE)", beside);
}

/* NAME=VALUE into env, replacing an earlier value of NAME. */
static void env_set(struct strvec *env, const char *kv)
{
    size_t nlen = (size_t)(strchr(kv, '=') - kv);
    for (size_t i = 0; i < env->n; i++) {
        if (strncmp(env->v[i], kv, nlen + 1) == 0) {
            free(env->v[i]);
            env->v[i] = xstrdup(kv);
            return;
        }
    }
    strvec_push(env, kv);
}

/* Boot options come first; the program starts at the first other word or
 * after an explicit "--". Returns the index of the program. */
static int split_words(char **w, int n, int *sep)
{
    *sep = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(w[i], "--")) {
            *sep = i;
            return i + 1;
        }
        if (strncmp(w[i], "--", 2) != 0)
            return i;
    }
    return n;
}

void guest_compose(struct run_config *cfg, const struct image *im)
{
    const struct image_config *ic = im ? &im->config : NULL;
    struct strvec env = { 0 }, words = { 0 };
    const char *cwd = ic ? ic->cwd : NULL;
    for (size_t i = 0; ic && i < ic->env.n; i++)
        env_set(&env, ic->env.v[i]);
    /* the image's ext4 root is the first disk (guest_prepare_files); a
     * --rootfs among the user's words comes later and wins */
    if (im && im->ext4.type)
        strvec_push(&words, "--rootfs=/dev/vblk0");
    for (size_t i = 0; ic && i < ic->boot.n; i++)
        strvec_push(&words, ic->boot.v[i]);
    for (size_t i = 0; i < cfg->env->n; i++)
        env_set(&env, cfg->env->v[i]);
    if (cfg->cwd)
        cwd = cfg->cwd;
    int sep, prog = split_words(cfg->user_words, cfg->nuser_words, &sep);
    int nboot = sep >= 0 ? sep : prog;
    for (int i = 0; i < nboot; i++) {
        const char *w = cfg->user_words[i];
        if (!strncmp(w, "--env=", 6) && strchr(w + 6, '=') && w[6] != '=')
            env_set(&env, w + 6);
        else if (!strncmp(w, "--cwd=", 6) && w[6])
            cwd = w + 6;
        else
            strvec_push(&words, w);
    }
    if (cfg->strace)
        strvec_push(&words, "--strace");
    for (size_t i = 0; i < env.n; i++)
        strvec_pushf(&words, "--env=%s", env.v[i]);
    if (cwd)
        strvec_pushf(&words, "--cwd=%s", cwd);
    char **argv = cfg->user_words + prog;
    size_t argc = (size_t)(cfg->nuser_words - prog);
    if (argc == 0 && ic) {
        argv = ic->argv.v;
        argc = ic->argv.n;
    }
    if (argc && (sep >= 0 || strncmp(argv[0], "--", 2) == 0))
        strvec_push(&words, "--");
    for (size_t i = 0; i < argc; i++)
        strvec_push(&words, argv[i]);
    cfg->kernel_args = words.v;
    cfg->nkernel_args = (int)words.n;
}

static char *keep_dir;

int temp_file(const char *name, bool keep, char **path)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (keep) {
        if (!keep_dir) {
            keep_dir = xasprintf("%s/osprey-XXXXXX", tmp);
            if (!mkdtemp(keep_dir))
                die("cannot create a directory in %s: %s (set TMPDIR)", tmp, strerror(errno));
            fprintf(stderr, "osprey: the files this command uses are in %s (remove it when done)\n", keep_dir);
        }
        *path = xasprintf("%s/%s", keep_dir, name);
        int fd = open(*path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            die("cannot create %s: %s", *path, strerror(errno));
        return fd;
    }
    char *templ = xasprintf("%s/osprey-%s-XXXXXX", tmp, name);
    int fd = mkstemp(templ); /* no O_CLOEXEC: the VMM opens it as /dev/fd/N */
    if (fd < 0)
        die("cannot create a temporary file in %s: %s (set TMPDIR)", tmp, strerror(errno));
    unlink(templ);
    free(templ);
    *path = xasprintf("/dev/fd/%d", fd);
    return fd;
}

static uint64_t pack_rootfs(struct run_config *cfg)
{
    struct stat st;
    if (stat(cfg->rootfs, &st) != 0)
        die("--rootfs %s: %s", cfg->rootfs, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        die("--rootfs %s is not a directory (an initrd file goes with --initrd, an image first)", cfg->rootfs);
    struct fstree t = { 0 };
    fstree_add_tree(&t, cfg->rootfs, "/");
    char *path;
    int fd = temp_file("rootfs.cpio", cfg->dry_run, &path);
    struct wbuf w;
    wbuf_init(&w, fd, path);
    fstree_write_cpio(&t, &w);
    uint64_t size = w.count;
    wbuf_done(&w);
    if (cfg->dry_run)
        close(fd);
    cfg->initrd = path;
    return size;
}

static const char *extract(const struct image *im, const struct image_section *s, const char *name, bool keep)
{
    char *path;
    int fd = temp_file(name, keep, &path);
    image_extract(im, s, fd, path);
    if (keep)
        close(fd);
    return path;
}

/* Default memory: enough to hold the initrd twice (as loaded, and unpacked
 * into the ramfs) with room to run, and never less than 128M. */
static uint64_t auto_memory_mib(uint64_t initrd_bytes)
{
    uint64_t mib = (initrd_bytes * 5 / 2 >> 20) + 64;
    mib = (mib + 63) / 64 * 64;
    return mib < DEFAULT_MEMORY_MIB ? DEFAULT_MEMORY_MIB : mib;
}

/* The image's ext4 root. QEMU reads it in place (the section is 4 KiB
 * aligned) with snapshot=on, so the guest's writes land in a temporary
 * overlay and every run starts from the image as built; the other VMMs take
 * whole files only, so they get a private sparse copy that vanishes. */
static void prepare_root_disk(struct run_config *cfg, const struct image *im)
{
    bool qemu = strcmp(cfg->vmm, "firecracker") && strcmp(cfg->vmm, "cloud-hypervisor");
    if (qemu) {
        char err[512];
        if (image_section_verify(im, &im->ext4, err, sizeof(err)) != 0)
            die("%s", err);
        cfg->root_disk.file = im->path;
        cfg->root_disk.offset = im->ext4.offset;
        cfg->root_disk.size = im->ext4.size;
        cfg->root_disk.snapshot = true;
        return;
    }
    char *path;
    int fd = temp_file("root.ext4", cfg->dry_run, &path);
    image_extract_sparse(im, &im->ext4, fd, path);
    if (cfg->dry_run)
        close(fd);
    cfg->root_disk.file = path;
}

void guest_prepare_files(struct run_config *cfg, const struct image *im)
{
    uint64_t initrd_size = 0;
    if (im) {
        if (!cfg->kernel)
            cfg->kernel = extract(im, &im->kernel, "kernel.elf", cfg->dry_run);
        if (im->ext4.type)
            prepare_root_disk(cfg, im);
        else
            cfg->initrd = extract(im, &im->initrd, "initrd.cpio", cfg->dry_run);
        initrd_size = im->initrd.size;
        if (!cfg->memory_mib)
            cfg->memory_mib = im->config.memory_mib;
        if (!cfg->cpus)
            cfg->cpus = im->config.cpus;
    } else if (cfg->rootfs) {
        initrd_size = pack_rootfs(cfg);
    } else if (cfg->initrd) {
        struct stat st;
        if (stat(cfg->initrd, &st) == 0)
            initrd_size = (uint64_t)st.st_size;
    }
    if (!cfg->memory_mib)
        cfg->memory_mib = auto_memory_mib(initrd_size);
    if (!cfg->cpus)
        cfg->cpus = 1;
}
