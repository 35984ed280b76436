/* The osprey host tool: shared types and helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSPREY_FAIL 125      /* osprey itself failed (the env/timeout convention) */
#define OSPREY_TIMEOUT 124   /* --timeout expired */
#define OSPREY_PANIC 70      /* the kernel panicked */

enum accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

struct run_config {
    const char *vmm;         /* microvm, q35, pc */
    uint64_t memory_mib;
    unsigned cpus;
    const char *kernel, *initrd, *qemu;
    enum accel accel;
    bool dry_run, bootchart, verbose;
    unsigned timeout_s;      /* 0: none */
    unsigned gdb_port;       /* 0: none */
    char **kernel_args;      /* after `--` */
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
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append s to buf as one shell word (quoted only when needed). */
void shell_quote_append(char **buf, size_t *len, const char *s);
/* argv as one line a shell would split back into the same words. */
char *shell_join(char **argv);
/* Directory holding the running osprey binary. */
char *self_dir(void);
bool file_readable(const char *path);

int cmd_run(int argc, char **argv);
void run_usage(void);

/* accel.c */
bool host_has_kvm(void);
uint64_t host_tsc_khz(void);

/* qemu.c: the full QEMU argv for a config; log_fd is where the kernel log
 * channel should be written (-1 in a dry run). */
void qemu_build_argv(const struct run_config *cfg, enum accel accel, int log_fd, struct strvec *out);
const char *qemu_find(const struct run_config *cfg);
char *kernel_cmdline(const struct run_config *cfg, enum accel accel);

/* vmm_exec.c: run QEMU, forward the log, return osprey's exit status. */
int vmm_run(const struct run_config *cfg, char **argv, int log_read_fd, int log_write_fd);
bool qemu_machine_known(const char *vmm);
