/* `osprey build`: assemble a root filesystem from host programs (with their
 * libraries), directories, manifests and single files, add what Linux
 * programs expect, and write one image with the kernel and the default
 * command line. */
#include "osprey.h"
#include "elfdeps.h"
#include "fstree.h"
#include "image.h"
#include "manifest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUEST_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct build_input {
    int opt;
    const char *arg;
};

struct build_config {
    const char *output, *kernel, *format;
    struct build_input *inputs;
    size_t ninputs;
    struct image_config ic;
    uint64_t disk_size;   /* --disk-size (ext4), 0: automatic */
    bool quiet;
    char **argv;
    int argc;
};

void build_usage(void)
{
    printf("usage: osprey build -o IMAGE [inputs...] [options] [-- [BOOT_OPTIONS...] PROGRAM ARGS...]\n"
           "\n"
           "Package a Linux program into an image that osprey run boots with no other files.\n"
           "The words after -- are the default command (osprey run IMAGE -- ... replaces it).\n"
           "\n"
           "inputs (applied in order; a later one replaces an earlier file at the same path):\n"
           "  --from-host PATH[=GUEST]  a host executable, script or library with its ELF\n"
           "                            interpreter and every shared library it needs, at the\n"
           "                            host's paths; a directory is copied whole, with the\n"
           "                            libraries of every ELF file in it\n"
           "  --dir HOST_DIR[=GUEST_DIR]  a directory tree (default GUEST_DIR: /, the root)\n"
           "  --manifest FILE           OSv-style \"GUEST: HOST\" lines (GUEST/**: HOST/** for trees)\n"
           "  --file GUEST=HOST         one file (a symlink is followed)\n"
           "options:\n"
           "  -o, --output IMAGE        the image to write (required)\n"
           "  -e, --env NAME=VALUE      default environment variable (repeatable)\n"
           "  --cwd DIR                 default working directory\n"
           "  -m, --memory SIZE         default guest memory (e.g. 512M)\n"
           "  -c, --cpus N              default virtual CPUs\n"
           "  --kernel FILE             kernel to include (default: kernel.elf next to osprey)\n"
           "  --format initrd|ext4      root filesystem format: initrd (cpio newc in RAM, the\n"
           "                            default) or ext4 (a disk made with mkfs.ext4 -d, booted\n"
           "                            as /dev/vblk0; writes are discarded when the VM stops)\n"
           "  --disk-size SIZE          size of the ext4 disk (default: the files + 50%% + 96M)\n"
           "  -q, --quiet               no summary line\n"
           "  -h, --help                this help\n"
           "\n"
           "Without a command after --, a single --from-host program is the command.\n"
           "/etc/passwd, /etc/group, /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf, /tmp and\n"
           "/root are added when the inputs do not provide them. See docs/osprey.md.\n");
}

enum { OPT_FROM_HOST = 256, OPT_DIR, OPT_MANIFEST, OPT_FILE, OPT_CWD, OPT_KERNEL, OPT_FORMAT, OPT_DISK_SIZE };

static const struct option build_options[] = {
    { "output", required_argument, NULL, 'o' },
    { "from-host", required_argument, NULL, OPT_FROM_HOST },
    { "dir", required_argument, NULL, OPT_DIR },
    { "manifest", required_argument, NULL, OPT_MANIFEST },
    { "file", required_argument, NULL, OPT_FILE },
    { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "memory", required_argument, NULL, 'm' },
    { "cpus", required_argument, NULL, 'c' },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "disk-size", required_argument, NULL, OPT_DISK_SIZE },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static void parse_one(struct build_config *b, int opt, const char *arg)
{
    switch (opt) {
    case 'o': b->output = arg; break;
    case OPT_FROM_HOST: case OPT_DIR: case OPT_MANIFEST: case OPT_FILE:
        b->inputs = xrealloc(b->inputs, (b->ninputs + 1) * sizeof(*b->inputs));
        b->inputs[b->ninputs++] = (struct build_input){ opt, arg };
        break;
    case 'e':
        if (!strchr(arg, '=') || arg[0] == '=')
            die("bad --env value \"%s\" (expected NAME=VALUE)", arg);
        strvec_push(&b->ic.env, arg);
        break;
    case OPT_CWD:
        if (arg[0] != '/')
            die("bad --cwd value \"%s\" (an absolute guest path, e.g. /srv)", arg);
        b->ic.cwd = xstrdup(arg);
        break;
    case 'm': b->ic.memory_mib = parse_memory_option(arg); break;
    case 'c': b->ic.cpus = parse_uint(arg, "--cpus", 1, 64); break;
    case OPT_KERNEL: b->kernel = arg; break;
    case OPT_FORMAT:
        if (strcmp(arg, "initrd") != 0 && strcmp(arg, "ext4") != 0)
            die("unknown --format \"%s\" (use initrd or ext4)", arg);
        b->format = arg;
        break;
    case OPT_DISK_SIZE: b->disk_size = fstree_parse_disk_size(arg); break;
    case 'q': b->quiet = true; break;
    case 'h': build_usage(); exit(0);
    default: break;
    }
}

static bool is_ext4(const struct build_config *b);

static void parse_build_args(struct build_config *b, int argc, char **argv)
{
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:o:e:m:c:qh", build_options, NULL)) != -1) {
        if (opt == '?')
            die("unknown option %s (see osprey build --help)", argv[optind - 1]);
        if (opt == ':')
            die("option %s needs a value (see osprey build --help)", argv[optind - 1]);
        parse_one(b, opt, optarg);
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
        die("unexpected argument \"%s\" (the command goes after --)", argv[optind]);
    b->argv = argv + optind;
    b->argc = argc - optind;
    if (!b->output)
        die("osprey build needs -o IMAGE (the image file to write)");
    if (!b->ninputs)
        die("nothing to put in the image: give --from-host, --dir, --manifest or --file");
    if (b->disk_size && !is_ext4(b))
        die("--disk-size is for --format ext4 (an initrd is as large as its files)");
}

static bool is_ext4(const struct build_config *b)
{
    return b->format && !strcmp(b->format, "ext4");
}

/* "HOST[=GUEST]": GUEST defaults to dflt (or the host path, made absolute). */
static void split_mapping(const char *arg, const char *dflt, char **host, char **guest)
{
    const char *eq = strchr(arg, '=');
    *host = eq ? xstrdup_n(arg, (size_t)(eq - arg)) : xstrdup(arg);
    if (eq && eq[1] != '/')
        die("bad mapping \"%s\": the guest path after = must be absolute", arg);
    if (eq) {
        *guest = path_normalize(eq + 1);
    } else if (dflt) {
        *guest = xstrdup(dflt);
    } else {
        char cwd[4096];
        *guest = (*host)[0] == '/' || !getcwd(cwd, sizeof(cwd)) ? path_normalize(*host) : path_join(cwd, *host);
    }
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot read manifest %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[8192];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap)
            buf = xrealloc(buf, cap = (len + n + 1) * 2);
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    buf = xrealloc(buf, len + 1);
    buf[len] = '\0';
    return buf;
}

/* One host file's contents (a symlink is followed) at guest. */
static void add_followed(struct fstree *t, const char *host, const char *guest, const char *what)
{
    struct stat st;
    if (stat(host, &st) != 0)
        die("%s %s: %s", what, host, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        fstree_add_tree(t, host, guest);
        return;
    }
    if (!S_ISREG(st.st_mode))
        die("%s %s: not a regular file or directory", what, host);
    fstree_add_host(t, guest, host, &st);
}

static void add_manifest(struct fstree *t, const char *file)
{
    char *text = read_text_file(file);
    char *base = xstrdup(file), *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(base, ".");
    struct manifest_entry *e;
    size_t n;
    char err[512];
    if (manifest_parse(text, file, base, &e, &n, err, sizeof(err)) != 0)
        die("%s", err);
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == MANIFEST_LINK) {
            fstree_add_link(t, e[i].guest, e[i].host, fstree_default_mtime());
        } else if (e[i].kind == MANIFEST_TREE) {
            struct stat st;
            if (stat(e[i].host, &st) != 0 || !S_ISDIR(st.st_mode))
                die("%s:%u: %s is not a directory", file, e[i].line, e[i].host);
            fstree_add_tree(t, e[i].host, e[i].guest);
        } else {
            char *what = xasprintf("%s:%u:", file, e[i].line);
            add_followed(t, e[i].host, e[i].guest, what);
            free(what);
        }
    }
    free(text);
    free(base);
}

static void apply_inputs(const struct build_config *b, struct fstree *t, struct deps *d, char **program)
{
    unsigned programs = 0;
    for (size_t i = 0; i < b->ninputs; i++) {
        const char *arg = b->inputs[i].arg;
        char *host, *guest;
        switch (b->inputs[i].opt) {
        case OPT_FROM_HOST: {
            split_mapping(arg, NULL, &host, &guest);
            struct stat st;
            if (stat(host, &st) == 0 && !S_ISDIR(st.st_mode) && programs++ == 0)
                *program = xstrdup(guest);
            deps_add_program(d, host, guest);
            break;
        }
        case OPT_DIR: {
            split_mapping(arg, "/", &host, &guest);
            struct stat st;
            if (stat(host, &st) != 0)
                die("--dir %s: %s", host, strerror(errno));
            if (!S_ISDIR(st.st_mode))
                die("--dir %s is not a directory (one file goes with --file GUEST=HOST)", host);
            fstree_add_tree(t, host, guest);
            break;
        }
        case OPT_FILE: {
            const char *eq = strchr(arg, '=');
            if (!eq || arg[0] != '/' || !eq[1])
                die("bad --file value \"%s\" (expected GUEST=HOST, e.g. --file /etc/app.conf=./app.conf)", arg);
            guest = xstrdup_n(arg, (size_t)(eq - arg));
            host = xstrdup(eq + 1);
            add_followed(t, host, guest, "--file");
            break;
        }
        default:
            add_manifest(t, arg);
            continue;
        }
        free(host);
        free(guest);
    }
    if (programs > 1)
        *program = NULL; /* ambiguous: the command must be given */
}

/* Until the kernel has /proc/self/exe, glibc's dynamic linker needs
 * LD_ORIGIN_PATH to expand $ORIGIN in the main program's RUNPATH. */
static void add_origin_path(struct image_config *ic, const struct deps *d)
{
    for (size_t i = 0; i < ic->env.n; i++)
        if (!strncmp(ic->env.v[i], "LD_ORIGIN_PATH=", 15))
            return;
    char *dir = deps_origin_dir(d, ic->argv.v[0]);
    if (dir)
        strvec_pushf(&ic->env, "LD_ORIGIN_PATH=%s", dir);
    free(dir);
}

/* Warn (not fail: it may come from a disk later) when the command is not in
 * the image. */
static void check_command(struct fstree *t, const struct image_config *ic)
{
    const char *prog = ic->argv.v[0];
    if (prog[0] == '/') {
        struct fs_node *n = fstree_resolve(t, prog);
        if (!n || n->kind != FS_FILE)
            warn("the command %s is not a file in the image", prog);
        else if (!(n->perm & 0111))
            warn("the command %s is not executable in the image", prog);
        return;
    }
    const char *path = GUEST_DEFAULT_PATH;
    for (size_t i = 0; i < ic->env.n; i++)
        if (!strncmp(ic->env.v[i], "PATH=", 5))
            path = ic->env.v[i] + 5;
    char *dirs = xstrdup(path);
    bool found = false;
    for (char *save, *dir = strtok_r(dirs, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *cand = path_join(dir, prog);
        struct fs_node *n = fstree_resolve(t, cand);
        found = n && n->kind == FS_FILE;
        free(cand);
    }
    free(dirs);
    if (!found)
        warn("the command %s is not in the image's PATH (%s)", prog, path);
}

/* The words after --: boot options first, then the program. */
static void set_command(struct build_config *b, const char *program)
{
    int i = 0;
    for (; i < b->argc && !strncmp(b->argv[i], "--", 2); i++) {
        if (!strcmp(b->argv[i], "--")) {
            i++;
            break;
        }
        strvec_push(&b->ic.boot, b->argv[i]);
    }
    for (; i < b->argc; i++)
        strvec_push(&b->ic.argv, b->argv[i]);
    if (!b->ic.argv.n && program)
        strvec_push(&b->ic.argv, program);
    if (!b->ic.argv.n)
        die("no command: give it after --, e.g. osprey build -o app.img --from-host ./app -- /app --flag");
}

/* The kernel mounts its own filesystems over these: files there are hidden. */
static void check_mount_points(const struct fstree *t)
{
    static const char *const mounts[] = { "/tmp", "/dev", "/proc", "/sys" };
    size_t n;
    struct fs_node **v = fstree_sorted(t, &n);
    for (size_t m = 0; m < sizeof(mounts) / sizeof(mounts[0]); m++) {
        size_t len = strlen(mounts[m]);
        for (size_t i = 0; i < n; i++) {
            if (!strncmp(v[i]->path, mounts[m], len) && v[i]->path[len] == '/') {
                warn("%s is hidden at run time: the kernel mounts its own %s over %s (put it elsewhere, "
                     "e.g. --from-host HOST=/app/NAME)", v[i]->path, m ? mounts[m] + 1 : "tmpfs", mounts[m]);
                break;
            }
        }
    }
    free(v);
}

static bool is_elf_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char m[4] = { 0 };
    bool ok = f && fread(m, 1, 4, f) == 4 && !memcmp(m, "\177ELF", 4);
    if (f)
        fclose(f);
    return ok;
}

/* The root section: the cpio archive, or the ext4 disk mkfs.ext4 made
 * (copied with its holes; the image is then version 2, docs/image-format.md). */
static void write_root(const struct build_config *b, const struct fstree *t, struct image_writer *iw)
{
    if (!is_ext4(b)) {
        image_writer_section_begin(iw, IMAGE_INITRD);
        fstree_write_cpio(t, &iw->w);
        image_writer_section_end(iw);
        return;
    }
    uint64_t size;
    char *disk = fstree_write_ext4(t, b->disk_size, &size);
    iw->version = IMAGE_VERSION_EXT4;
    image_writer_section_begin(iw, IMAGE_EXT4);
    wbuf_copy_file_sparse(&iw->w, disk, size);
    image_writer_section_end(iw);
    fstree_ext4_cleanup();
    free(disk);
}

static void write_image(const struct build_config *b, const char *kernel, const struct fstree *t,
                        uint64_t *initrd_size)
{
    struct stat st;
    if (stat(kernel, &st) != 0 || !is_elf_file(kernel))
        die("kernel %s is not an ELF file (run make, or pass --kernel FILE)", kernel);
    struct image_writer iw;
    image_writer_begin(&iw, b->output, 3);
    image_writer_section_begin(&iw, IMAGE_KERNEL);
    wbuf_copy_file(&iw.w, kernel, (uint64_t)st.st_size);
    image_writer_section_end(&iw);
    write_root(b, t, &iw);
    *initrd_size = iw.sec[1].size;
    image_writer_section_begin(&iw, IMAGE_CONFIG);
    char *cfg;
    size_t len;
    image_config_encode(&b->ic, &cfg, &len);
    wbuf_write(&iw.w, cfg, len);
    free(cfg);
    image_writer_section_end(&iw);
    image_writer_finish(&iw);
}

static void print_summary(const struct build_config *b, const struct fstree *t, uint64_t initrd_size)
{
    size_t n, files = 0;
    struct fs_node **v = fstree_sorted(t, &n);
    for (size_t i = 0; i < n; i++)
        files += v[i]->kind == FS_FILE;
    free(v);
    char *cmd = shell_join(b->ic.argv.v);
    fprintf(stderr, "osprey: wrote %s: %zu files, %.1f MiB root filesystem (%s); command: %s\n", b->output,
            files, (double)initrd_size / (1 << 20), is_ext4(b) ? "ext4 disk" : "initrd", cmd);
    free(cmd);
}

int cmd_build(int argc, char **argv)
{
    struct build_config b = { 0 };
    parse_build_args(&b, argc, argv);
    const char *kernel = b.kernel ? b.kernel : kernel_default();
    if (b.kernel && !file_readable(b.kernel))
        die("kernel not found: %s", b.kernel);
    struct fstree t = { 0 };
    struct deps *d = deps_new(&t);
    char *program = NULL;
    apply_inputs(&b, &t, d, &program);
    deps_finish(d);
    rootfs_add_defaults(&t);
    set_command(&b, program);
    add_origin_path(&b.ic, d);
    check_command(&t, &b.ic);
    check_mount_points(&t);
    uint64_t initrd_size;
    write_image(&b, kernel, &t, &initrd_size);
    if (!b.quiet)
        print_summary(&b, &t, initrd_size);
    return 0;
}
