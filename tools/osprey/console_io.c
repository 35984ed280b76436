/* The host side of the guest console. A serial port cannot say "end of
 * input", so when stdin is a pipe or file a feeder process copies it to the
 * VMM and then sends ^D, which the kernel's console (in its default canonical
 * mode) reads as end of file. And on VMMs without a debug console, where the
 * kernel log shares the serial port, lines starting with 0x1e are records for
 * osprey: they are taken out of stdout and used. */
#include "osprey.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONSOLE_EOF '\x04'
#define RECORD_MARK '\x1e'

static bool write_all_fd(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Returns the read end of a pipe for the VMM's stdin, or -1 when stdin is a
 * terminal (the VMM then reads it itself). */
int console_feeder_start(pid_t *feeder)
{
    *feeder = -1;
    if (isatty(STDIN_FILENO))
        return -1;
    int p[2];
    if (pipe(p) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* hold nothing else open: an inherited log pipe would keep osprey
         * waiting for its end after the VM is gone */
        int keep = p[1];
        if (keep > 3)
            close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0u, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        signal(SIGPIPE, SIG_IGN);
        char buf[65536];
        for (;;) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            if (!write_all_fd(p[1], buf, (size_t)r))
                _exit(0);
        }
        char eof = CONSOLE_EOF;
        write_all_fd(p[1], &eof, 1);
        _exit(0);
    }
    close(p[1]);
    *feeder = pid;
    return p[0];
}

void console_feeder_stop(pid_t feeder)
{
    if (feeder > 0) {
        kill(feeder, SIGTERM);
        waitpid(feeder, NULL, 0);
    }
}

/* Pass serial output through byte by byte (so prompts without a newline show
 * at once), holding back only lines that start with the record mark. */
void serial_filter_feed(struct serial_filter *f, const char *p, size_t n,
                        void (*record)(void *ctx, const char *rec), void *ctx)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (f->in_record) {
            if (c == '\n') {
                while (f->rlen && f->rec[f->rlen - 1] == '\r')
                    f->rlen--;
                f->rec[f->rlen] = '\0';
                record(ctx, f->rec);
                f->in_record = false;
                f->mid_line = false;
                start = i + 1;
            } else if (f->rlen < sizeof(f->rec) - 1) {
                f->rec[f->rlen++] = c;
            }
            continue;
        }
        if (!f->mid_line && c == RECORD_MARK) {
            write_all_fd(f->out_fd, p + start, i - start);
            f->in_record = true;
            f->rlen = 0;
            continue;
        }
        f->mid_line = c != '\n';
    }
    if (!f->in_record && start < n)
        write_all_fd(f->out_fd, p + start, n - start);
}
