/* The osprey host tool: shared types and helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OSPREY_FAIL 125      /* osprey itself failed (the env/timeout convention) */
#define OSPREY_TIMEOUT 124   /* --timeout expired */
#define OSPREY_PANIC 70      /* the kernel panicked */

enum accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

/* Whether the guest's console is a terminal (isatty true). */
enum tty_mode { TTY_AUTO, TTY_YES, TTY_NO };

struct run_config {
    const char *vmm;         /* microvm, q35, pc, firecracker, cloud-hypervisor */
    uint64_t memory_mib;     /* 0 until decided */
    unsigned cpus;           /* 0 until decided */
    const char *kernel, *initrd, *qemu;
    const char *image;       /* osprey run IMAGE */
    const char *rootfs;      /* --rootfs DIR */
    enum accel accel;
    bool dry_run, bootchart, verbose, strace;
    enum tty_mode tty;       /* auto: a terminal when osprey's stdin is one */
    unsigned timeout_s;      /* 0: none */
    unsigned gdb_port;       /* 0: none */
    struct strvec *env;      /* -e NAME=VALUE */
    const char *cwd;         /* --cwd */
    struct strvec *disks;    /* --disk FILE */
    /* An image's ext4 root, attached before the --disk disks as /dev/vblk0:
     * bytes [offset, offset+size) of file (size 0: all of it); snapshot:
     * writes go to a throw-away overlay (QEMU), else file is a private copy. */
    struct { const char *file; uint64_t offset, size; bool snapshot; } root_disk;
    const char *net;         /* none, user, tap:NAME */
    struct strvec *ports;    /* -p HOST:GUEST[/udp] */
    char **user_words;       /* after `--` */
    int nuser_words;
    char **kernel_args;      /* the guest's words (boot options, program), composed */
    int nkernel_args;
};

/* A growable argv. */
struct strvec {
    char **v;
    size_t n, cap;
};

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The first n bytes of s, NUL-terminated. */
char *xstrdup_n(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append s to buf as one shell word (quoted only when needed). */
void shell_quote_append(char **buf, size_t *len, const char *s);
/* argv as one line a shell would split back into the same words. */
char *shell_join(char **argv);
/* Directory holding the running osprey binary. */
char *self_dir(void);
bool file_readable(const char *path);
/* `name` in $PATH (executable), or NULL. */
char *path_search(const char *name);
uint64_t parse_memory_option(const char *s);
unsigned parse_uint(const char *s, const char *what, unsigned lo, unsigned hi);

int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
void run_usage(void);

/* accel.c */
bool host_has_kvm(void);
uint64_t host_tsc_khz(void);

/* qemu.c: the full QEMU argv for a config; log_fd is where the kernel log
 * channel should be written (-1 in a dry run). */
void qemu_build_argv(const struct run_config *cfg, enum accel accel, int log_fd, struct strvec *out);
const char *qemu_find(const struct run_config *cfg);
char *kernel_cmdline(const struct run_config *cfg, enum accel accel);

/* vmm_exec.c: run the VMM, forward the log, return osprey's exit status. */
struct vmm_io {
    const char *name;        /* NULL for QEMU, else "Firecracker"... (no debug-exit device) */
    int log_read, log_write; /* the kernel log channel, -1 when none */
    bool serial_records;     /* stdout carries the log's records: filter them */
    int stdin_fd, stdout_fd; /* set by vmm_run */
};
int vmm_run(const struct run_config *cfg, char **argv, struct vmm_io *io);
bool qemu_machine_known(const char *vmm);
/* A VMM binary: $env_var, else `name` in PATH; NULL when absent. */
char *vmm_find(const char *name, const char *env_var);
void vmm_require_kvm(const char *who);

/* console_io.c */
struct serial_filter {
    int out_fd;              /* where the console's bytes go */
    bool mid_line, in_record;
    char rec[64];
    size_t rlen;
};
int console_feeder_start(pid_t *feeder);
void console_feeder_stop(pid_t feeder);
void serial_filter_feed(struct serial_filter *f, const char *p, size_t n,
                        void (*record)(void *ctx, const char *rec), void *ctx);

/* run_guest.c: what the guest gets (kernel, initrd, command line). */
struct image;
void guest_compose(struct run_config *cfg, const struct image *im);
void guest_prepare_files(struct run_config *cfg, const struct image *im);
/* Default kernel: kernel.elf next to osprey (or ../lib/osprey/). */
const char *kernel_default(void);
/* A file for the VMM: unlinked at once (its path is /dev/fd/N) unless
 * `keep` (dry runs), when it lives in a directory that is reported. */
int temp_file(const char *name, bool keep, char **path);

/* Firecracker and Cloud Hypervisor (vmm_fc.c, vmm_chv.c). */
char *firecracker_config_json(const struct run_config *cfg, const char *cmdline);
void firecracker_check(const struct run_config *cfg);
int firecracker_run(struct run_config *cfg);
void chv_check(const struct run_config *cfg);
int chv_run(struct run_config *cfg);
void chv_build_argv(const struct run_config *cfg, const char *binary, struct strvec *out);

/* crc32.c */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

/* wbuf.c: buffered output that counts bytes and keeps their CRC-32. */
struct wbuf {
    int fd;
    const char *path;   /* for error messages */
    uint64_t count;     /* bytes written so far */
    uint32_t crc;
    char *buf;
    size_t len;
};
void wbuf_init(struct wbuf *w, int fd, const char *path);
void wbuf_write(struct wbuf *w, const void *p, size_t n);
void wbuf_zeros(struct wbuf *w, size_t n);
void wbuf_copy_file(struct wbuf *w, const char *host, uint64_t size);
void wbuf_copy_file_sparse(struct wbuf *w, const char *host, uint64_t size);
void wbuf_flush(struct wbuf *w);
void wbuf_done(struct wbuf *w);

/* cpio.c: the newc format. */
struct cpio_hdr {
    const char *name;   /* relative, "." for the root */
    uint32_t ino, mode, nlink;
    int64_t mtime;
    uint64_t size;
};
void cpio_write_header(struct wbuf *w, const struct cpio_hdr *h);
void cpio_write_data_pad(struct wbuf *w, uint64_t size);
void cpio_write_trailer(struct wbuf *w);

struct cpio_reader {
    int fd;
    uint64_t off, end;  /* the archive is bytes [off, end) of fd */
    char err[128];
};
struct cpio_entry {
    char name[4096];
    char target[4096];  /* symlinks */
    uint32_t ino, mode, uid, gid, nlink, mtime;
    uint64_t size, data_offset;
};
int cpio_read_next(struct cpio_reader *r, struct cpio_entry *e);
