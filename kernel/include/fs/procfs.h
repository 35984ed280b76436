/* procfs (/proc) and the small table-driven framework it shares with sysfs:
 * every file is one line in a table (name, mode, a generator, a writer or a
 * link target), directories are tables, and numbered children (pids, tids,
 * fds) come from an id provider. docs/filesystems.md lists what exists. */
#pragma once

#include "fs/vfs.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

extern struct vfs_fstype procfs_fstype;

/* Register the "proc" file system type (once, from vfs_init). */
void procfs_init(void);

/* ------------------------------------------------------ the framework */

/* Text being generated, as seq_file collects it: appends never fail; when
 * the text outgrows the buffer, len keeps counting so the generator can be
 * run again with a buffer that fits. */
struct procfs_buf {
    char *data;
    size_t size;                /* bytes allocated */
    size_t len;                 /* bytes the text needs so far */
};

void procfs_printf(struct procfs_buf *b, const char *fmt, ...) __printf(2, 3);
void procfs_puts(struct procfs_buf *b, const char *s);
void procfs_putbytes(struct procfs_buf *b, const void *p, size_t n);
/* For formatters with snprintf's convention (vm_format_maps): where to write
 * and how much fits (always at least 1 byte: room for the NUL)... */
char *procfs_room(struct procfs_buf *b, size_t *avail);
/* ...then account for the n bytes the formatter said the text needs. */
void procfs_advance(struct procfs_buf *b, size_t n);

struct procfs_node;
struct procfs_dir;
struct proc;
struct thread;

enum procfs_type { PROCFS_FILE, PROCFS_LINK, PROCFS_DIR };

/* procfs_entry.flags */
#define PROCFS_TGID_ONLY 0x01   /* in /proc/<pid>/ but not in task/<tid>/ */
#define PROCFS_WRITE_EACCES 0x02 /* read-only sysctl: opening it for writing fails */
#define PROCFS_FD_MODE 0x04     /* fd/N: the link's mode follows the file's access mode */

struct procfs_entry {
    const char *name;
    uint16_t mode;              /* permission bits; the file type comes from `type` */
    uint8_t type;               /* PROCFS_FILE, PROCFS_LINK, PROCFS_DIR */
    uint8_t flags;
    /* PROCFS_FILE: the contents, regenerated at open and at each read from 0. */
    int (*show)(const struct procfs_node *n, struct procfs_buf *b);
    /* PROCFS_FILE, writable: one write's bytes (NUL-terminated copy). */
    int (*store)(const struct procfs_node *n, const char *data, size_t len);
    /* PROCFS_LINK: the target (not terminated), its length or -errno. */
    ssize_t (*link)(const struct procfs_node *n, char *buf, size_t size);
    /* The same three for entries of process directories: the framework
     * finds the node's process (ESRCH once it is gone) and holds it across
     * the call. */
    int (*show_proc)(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
    int (*store_proc)(const struct procfs_node *n, struct proc *p, const char *data, size_t len);
    ssize_t (*link_proc)(const struct procfs_node *n, struct proc *p, char *buf, size_t size);
    /* PROCFS_DIR */
    const struct procfs_dir *dir;
};

/* A directory: fixed entries, then optionally children named by number. */
struct procfs_dir {
    const struct procfs_entry *entries;
    size_t count;
    const struct procfs_entry *numbered; /* what each numbered child is, or NULL */
    const char *prefix;         /* numbered names are prefix + number ("cpu3"); NULL: "" */
    /* The smallest listed id >= from, or -1. Lookups may accept more ids
     * than listing shows (/proc/<tid> of a thread that is not a leader). */
    int (*next_id)(const struct procfs_node *dir, int from);
    bool (*has_id)(const struct procfs_node *dir, int id);
    /* Record id in a new child (its pid, tid or fd). */
    void (*enter_id)(struct procfs_node *child, int id);
};

/* One vnode of a procfs or sysfs instance: made at each lookup and freed
 * with its last reference, so what it names is checked at every use. */
struct procfs_node {
    struct vnode v;
    const struct procfs_entry *ent;
    int pid, tid;               /* 0 outside the process directories */
    int fd;                     /* fd/ and fdinfo/ entries; -1 otherwise */
    int index;                  /* sysfs cpuN: the CPU; -1 otherwise */
    bool whole;                 /* /proc/<pid> (the process) rather than task/<tid> */
    uint64_t parent_ino;
};

static inline struct procfs_node *procfs_node_of(struct vnode *v)
{
    return container_of(v, struct procfs_node, v);
}

#define PROCFS_FILE_RO(nm, fn) { .name = nm, .mode = 0444, .type = PROCFS_FILE, .show = fn }
#define PROCFS_FILE_MODE(nm, md, fn) { .name = nm, .mode = md, .type = PROCFS_FILE, .show = fn }
#define PROCFS_FILE_RW(nm, fn, st) \
    { .name = nm, .mode = 0644, .type = PROCFS_FILE, .show = fn, .store = st }
#define PROCFS_LINK(nm, fn) { .name = nm, .mode = 0777, .type = PROCFS_LINK, .link = fn }
#define PROCFS_DIR(nm, d) { .name = nm, .mode = 0555, .type = PROCFS_DIR, .dir = &d }
#define PROCFS_PROC_FILE(nm, md, fn) { .name = nm, .mode = md, .type = PROCFS_FILE, .show_proc = fn }
#define PROCFS_PROC_RW(nm, fn, st) \
    { .name = nm, .mode = 0644, .type = PROCFS_FILE, .show_proc = fn, .store_proc = st }
#define PROCFS_PROC_LINK(nm, fn) { .name = nm, .mode = 0777, .type = PROCFS_LINK, .link_proc = fn }
#define PROCFS_TABLE(t) .entries = t, .count = ARRAY_SIZE(t)

/* What opening a PROCFS_FILE entry gives (procfs_file.c). */
extern const struct file_ops procfs_file_ops;

/* A new instance of a table-driven file system rooted at `root`. */
int procfs_mount_table(const struct vfs_fstype *type, uint64_t magic,
                       const struct procfs_entry *root, struct vfs_sb **out);
/* A link whose target is a fixed string (entry table helper). */
ssize_t procfs_link_string(const char *target, char *buf, size_t size);
/* Parse a decimal integer written to a file ("12\n"): 0 or -EINVAL. */
int procfs_parse_int(const char *s, long *out);
/* A CPU list in Linux's "0-3,5" format for the CPUs in mask. */
void procfs_cpu_list(struct procfs_buf *b, uint64_t mask);
/* A bitmap of nbits bits as Linux's %*pb: hex in comma-separated 32-bit
 * groups, the first only as wide as needed ("f", "3", "ff,ffffffff"). */
void procfs_bitmap(struct procfs_buf *b, uint64_t mask, unsigned nbits);

/* -------------------------------------- pieces of /proc (procfs_*.c) */

extern const struct procfs_dir procfs_sys_dir, procfs_fd_dir, procfs_fdinfo_dir;
extern const struct procfs_entry procfs_pid_entry; /* /proc/<pid> and task/<tid> */

/* The /proc root's numbered children: processes (and, unlisted, threads). */
int procfs_root_next_id(const struct procfs_node *dir, int from);
bool procfs_root_has_id(const struct procfs_node *dir, int id);
void procfs_root_enter_id(struct procfs_node *child, int id);

/* fd/N: how the descriptor's file was opened (FMODE_*), 0 when it is closed. */
unsigned procfs_fd_fmode(const struct procfs_node *n);

/* The process with that pid, with a reference (procfs_proc_put), or NULL. */
struct proc *procfs_proc_get(int pid);
void procfs_proc_put(struct proc *p);
/* Whether what the node names (process, thread, fd) still exists. */
bool procfs_node_alive(const struct procfs_node *n);

/* What /proc shows of a thread, copied under the process lock (the thread
 * may exit at any moment after). */
struct procfs_task {
    char name[16];
    int tid, state, cpu;
    int sched_policy, sched_priority;
    uint64_t runtime_ns, switches, allowed_cpus, sig_blocked, sig_pending;
};
/* The thread tid of p (whole: any live thread when tid is gone, as the
 * process directory outlives its first thread). false when none. */
bool procfs_task_get(struct proc *p, int tid, bool whole, struct procfs_task *out);
/* The Linux state letter and word ("R (running)"). */
const char *procfs_state_name(int state);
/* The CPUs a thread may run on (its affinity mask, or all online CPUs). */
uint64_t procfs_cpu_mask(uint64_t allowed);
/* How many threads p has. */
unsigned procfs_proc_threads(struct proc *p);
/* Monotonic nanoseconds as clock ticks (USER_HZ = 100). */
static inline uint64_t procfs_ticks(uint64_t ns)
{
    return ns / 10000000ull;
}

int procfs_show_status(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_stat(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_statm(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_maps(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_smaps(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_smaps_rollup(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_mounts(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
int procfs_show_mountinfo(const struct procfs_node *n, struct proc *p, struct procfs_buf *b);
ssize_t procfs_link_exe(const struct procfs_node *n, struct proc *p, char *buf, size_t size);
ssize_t procfs_link_cwd(const struct procfs_node *n, struct proc *p, char *buf, size_t size);
ssize_t procfs_link_root(const struct procfs_node *n, struct proc *p, char *buf, size_t size);

int procfs_show_cpuinfo(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_meminfo(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_stat_system(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_uptime(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_loadavg(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_version(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_filesystems(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_cmdline_kernel(const struct procfs_node *n, struct procfs_buf *b);
int procfs_show_swaps(const struct procfs_node *n, struct procfs_buf *b);
