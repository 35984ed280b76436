/* Running the VMM as a child process: forward the kernel log channel to
 * stderr (taking out the records meant for us), watch the VMM's own stderr,
 * feed stdin, filter a shared serial console, obey --timeout and signals, and
 * turn what happened into osprey's exit status. */

#include "osprey.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define RECORD_MARK '\x1e'

struct line_stream {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t len;
    bool eof;
};

struct vm_outcome {
    int exit_record;  /* -1 when none */
    bool panic, kvm_error;
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void take_record(void *ctx, const char *rec)
{
    struct vm_outcome *o = ctx;
    int v;
    if (sscanf(rec, "exit=%d", &v) == 1)
        o->exit_record = v & 0xff;
    else if (strncmp(rec, "panic", 5) == 0)
        o->panic = true;
}

static void log_line(struct vm_outcome *o, const char *line, size_t n)
{
    if (n && line[0] == RECORD_MARK) {
        char rec[64];
        size_t k = n - 1 < sizeof(rec) - 1 ? n - 1 : sizeof(rec) - 1;
        memcpy(rec, line + 1, k);
        rec[k] = '\0';
        take_record(o, rec);
        return;
    }
    write_all(STDERR_FILENO, line, n);
}

static void qemu_line(struct vm_outcome *o, const char *line, size_t n)
{
    if (memmem(line, n, "KVM internal error", 18))
        o->kvm_error = true;
    write_all(STDERR_FILENO, line, n);
}

/* Read what is available and hand over complete lines (or full buffers). */
static void stream_pump(struct line_stream *s, struct vm_outcome *o,
                        void (*emit)(struct vm_outcome *, const char *, size_t))
{
    ssize_t r = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        s->eof = true;
        if (s->len)
            emit(o, s->buf, s->len);
        s->len = 0;
        return;
    }
    s->len += (size_t)r;
    size_t start = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] == '\n') {
            emit(o, s->buf + start, i + 1 - start);
            start = i + 1;
        }
    }
    if (start == 0 && s->len == sizeof(s->buf)) { /* a very long line */
        emit(o, s->buf, s->len);
        start = s->len;
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kill_and_reap(pid_t pid, int *status)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* up to 1 s to go quietly */
        if (waitpid(pid, status, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
}

static pid_t spawn(char **argv, const struct vmm_io *io, int err_write, const sigset_t *old_mask)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("cannot start %s: %s", argv[0], strerror(errno));
    if (pid == 0) {
        /* The VM is part of this process: if osprey is killed outright
         * (SIGKILL, which it cannot catch to stop the VMM), the VMM goes too. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* osprey died before the line above took effect */
        if (io->stdin_fd >= 0)
            dup2(io->stdin_fd, STDIN_FILENO);
        if (io->stdout_fd >= 0)
            dup2(io->stdout_fd, STDOUT_FILENO);
        dup2(err_write, STDERR_FILENO);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        execv(argv[0], argv);
        dprintf(STDERR_FILENO, "osprey: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static int outcome_status(const struct run_config *cfg, const struct vmm_io *io, const struct vm_outcome *o,
                          int wstatus, bool timed_out, int signo)
{
    if (signo)
        return 128 + signo;
    if (timed_out) {
        fprintf(stderr, "osprey: the VM was still running after --timeout %u s; stopped it\n", cfg->timeout_s);
        return OSPREY_TIMEOUT;
    }
    if (o->kvm_error) {
        fprintf(stderr, "osprey: KVM could not run the guest (see QEMU's message above); "
                        "--accel tcg uses software emulation instead\n");
        return OSPREY_FAIL;
    }
    if (o->exit_record >= 0)
        return o->exit_record;
    if (o->panic)
        return OSPREY_PANIC;
    if (io->name && WIFEXITED(wstatus)) { /* Firecracker, Cloud Hypervisor: no debug-exit device */
        int c = WEXITSTATUS(wstatus);
        if (c == 0) {
            fprintf(stderr, "osprey: the guest's exit status did not reach osprey (%s has no debug console and "
                            "the kernel sent no status on the serial console); reporting 0\n", io->name);
            return 0;
        }
        fprintf(stderr, "osprey: %s failed (exit status %d)\n", io->name, c);
        return OSPREY_FAIL;
    }
    if (WIFEXITED(wstatus)) {
        int c = WEXITSTATUS(wstatus);
        if (c == 0)
            return 0; /* powered off without reporting a status */
        if (c & 1 && c > 1)
            return c >> 1; /* isa-debug-exit: (status << 1) | 1 */
        fprintf(stderr, "osprey: QEMU failed (exit status %d)\n", c);
        return OSPREY_FAIL;
    }
    fprintf(stderr, "osprey: %s was killed by signal %d\n", io->name ? io->name : "QEMU", WTERMSIG(wstatus));
    return OSPREY_FAIL;
}

static void pump_serial(int fd, bool *eof, struct serial_filter *f, struct vm_outcome *o)
{
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        *eof = true;
        return;
    }
    serial_filter_feed(f, buf, (size_t)r, take_record, o);
}

/* Everything one run watches. */
struct vm_watch {
    pid_t pid, feeder;
    int sfd, out_fd;            /* signals; the serial console when filtered (-1: not) */
    sigset_t old_mask;
    struct line_stream log, err;
    struct serial_filter serial;
    bool out_eof, exited, timed_out;
    int wstatus, signo;
    uint64_t deadline;          /* ms, 0: none */
    struct vm_outcome o;
};

/* Signals become events on a signalfd, so the loop below sees them. */
static void block_signals(struct vm_watch *w)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &w->old_mask);
    w->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (w->sfd < 0)
        die("signalfd: %s", strerror(errno));
}

static void start_vmm(struct vm_watch *w, const struct run_config *cfg, char **argv, struct vmm_io *io)
{
    io->stdin_fd = console_feeder_start(&w->feeder);
    int out_pipe[2] = { -1, -1 }, err_pipe[2];
    io->stdout_fd = -1;
    if (io->serial_records && pipe2(out_pipe, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    io->stdout_fd = out_pipe[1];
    if (pipe2(err_pipe, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    block_signals(w);
    w->pid = spawn(argv, io, err_pipe[1], &w->old_mask);
    close(err_pipe[1]);
    if (io->log_write >= 0)
        close(io->log_write);
    if (io->stdin_fd >= 0)
        close(io->stdin_fd);
    if (out_pipe[1] >= 0)
        close(out_pipe[1]);
    w->out_fd = out_pipe[0];
    w->out_eof = out_pipe[0] < 0;
    w->log = (struct line_stream){ .fd = io->log_read, .eof = io->log_read < 0 };
    w->err = (struct line_stream){ .fd = err_pipe[0] };
    w->serial = (struct serial_filter){ .out_fd = STDOUT_FILENO };
    w->o = (struct vm_outcome){ .exit_record = -1 };
    w->deadline = cfg->timeout_s ? now_ms() + cfg->timeout_s * 1000ull : 0;
    if (cfg->gdb_port)
        fprintf(stderr, "osprey: waiting for gdb on port %u (gdb build/kernel.elf -ex 'target remote :%u')\n",
                cfg->gdb_port, cfg->gdb_port);
}

/* One round: wait for output, a signal, the VMM's end or the deadline. */
static void watch_step(struct vm_watch *w)
{
    struct pollfd p[4] = { { w->log.eof ? -1 : w->log.fd, POLLIN, 0 }, { w->err.eof ? -1 : w->err.fd, POLLIN, 0 },
                           { w->sfd, POLLIN, 0 }, { w->out_eof ? -1 : w->out_fd, POLLIN, 0 } };
    int wait = -1;
    if (w->deadline && !w->exited)
        wait = now_ms() >= w->deadline ? 0 : (int)(w->deadline - now_ms());
    if (poll(p, 4, wait) < 0 && errno != EINTR)
        die("poll: %s", strerror(errno));
    if (p[3].revents)
        pump_serial(w->out_fd, &w->out_eof, &w->serial, &w->o);
    if (p[0].revents)
        stream_pump(&w->log, &w->o, log_line);
    if (p[1].revents)
        stream_pump(&w->err, &w->o, qemu_line);
    struct signalfd_siginfo si;
    if ((p[2].revents & POLLIN) && read(w->sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
        !w->exited) {
        w->signo = (int)si.ssi_signo;
        kill_and_reap(w->pid, &w->wstatus);
        w->exited = true;
    }
    if (!w->exited && waitpid(w->pid, &w->wstatus, WNOHANG) == w->pid)
        w->exited = true;
    if (!w->exited && (w->o.kvm_error || (w->deadline && now_ms() >= w->deadline))) {
        w->timed_out = !w->o.kvm_error;
        kill_and_reap(w->pid, &w->wstatus); /* after a KVM error QEMU never exits */
        w->exited = true;
    }
}

int vmm_run(const struct run_config *cfg, char **argv, struct vmm_io *io)
{
    struct vm_watch w = { .feeder = -1 };
    start_vmm(&w, cfg, argv, io);
    while (!w.exited || !w.log.eof || !w.err.eof || !w.out_eof)
        watch_step(&w);
    close(w.sfd);
    console_feeder_stop(w.feeder);
    sigprocmask(SIG_SETMASK, &w.old_mask, NULL);
    return outcome_status(cfg, io, &w.o, w.wstatus, w.timed_out, w.signo);
}
