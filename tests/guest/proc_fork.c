/* Processes: fork with copy-on-write memory, wait4/waitpid statuses, vfork,
 * execve (and its failures), posix_spawn, close-on-exec, SIGCHLD, signals
 * between processes, exec from a multithreaded process, pipes between a
 * parent and its child, process groups.
 * osprey: cpus=2 memory=256M timeout=120 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *self_path;
static volatile sig_atomic_t got_chld, chld_pid;

/* Modes the program runs in when it starts itself. */
static int child_mode(int argc, char **argv)
{
    const char *m = argv[1];
    if (!strcmp(m, "exit-with"))
        return atoi(argv[2]);
    if (!strcmp(m, "print-args")) {
        for (int i = 2; i < argc; i++)
            printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
        const char *v = getenv("OSPREY_TEST_VAR");
        printf("env=%s\n", v ? v : "(none)");
        return 0;
    }
    if (!strcmp(m, "fd-open")) /* exit 0 when fd argv[2] is open */
        return fcntl(atoi(argv[2]), F_GETFD) == -1 ? 1 : 0;
    if (!strcmp(m, "sleep")) {
        sleep(30);
        return 0;
    }
    return 99;
}

static int run_self(const char *mode, const char *arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_path, self_path, mode, arg, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static void check_fork_and_wait(void)
{
    static int shared_before = 5;
    int *heap = malloc(sizeof(int));
    *heap = 10;
    int fds[2];
    pipe(fds);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        shared_before = 6; /* copies: the parent must not see these */
        *heap = 11;
        char msg[32];
        int n = snprintf(msg, sizeof(msg), "%d %d", (int)getppid(), (int)getpid());
        write(fds[1], msg, (size_t)n);
        _exit(getppid() == parent ? 7 : 8);
    }
    CHECK(pid > 0, "fork returns the child's pid (%d)", (int)pid);
    close(fds[1]);
    char buf[64] = { 0 };
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    int ppid = 0, cpid = 0;
    CHECK(n > 0 && sscanf(buf, "%d %d", &ppid, &cpid) == 2 && ppid == parent && cpid == pid,
          "the child reports its parent and its own pid through a pipe (%s)", buf);
    close(fds[0]);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7,
          "waitpid: the child exited with 7 (status %#x)", st);
    CHECK(shared_before == 5 && *heap == 10, "the child's writes did not reach the parent (copy on write)");
    CHECK_ERR(waitpid(pid, &st, 0), ECHILD, "a reaped child cannot be waited for again");
    CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD, "no children left: ECHILD");
    free(heap);
}

static void check_many_children(void)
{
    pid_t kids[20];
    for (int i = 0; i < 20; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(i);
    }
    int sum = 0, ok = 1;
    for (int i = 0; i < 20; i++) {
        int st;
        pid_t w = wait(&st);
        ok &= w > 0 && WIFEXITED(st);
        sum += WEXITSTATUS(st);
    }
    CHECK(ok && sum == 190, "20 children all reaped by wait(), statuses add up (%d)", sum);
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    got_chld = 1;
    chld_pid = si->si_pid;
}

static void check_signals_between_processes(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    got_chld = 0;
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    usleep(20000);
    CHECK(kill(pid, SIGTERM) == 0, "kill a child");
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
          "it died of SIGTERM (status %#x)", st);
    CHECK(got_chld && chld_pid == pid, "the parent got SIGCHLD with the child's pid");
    pid = fork();
    if (pid == 0) {
        sleep(10);
        _exit(0);
    }
    CHECK(waitpid(pid, &st, WNOHANG) == 0, "WNOHANG on a running child returns 0");
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "SIGKILL kills it");
    signal(SIGCHLD, SIG_DFL);
}

static void check_exec(void)
{
    CHECK(run_self("exit-with", "42") == 42, "fork + execve of itself: the new program's exit status");
    int fds[2];
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        char *args[] = { (char *)self_path, "print-args", "a", "b c", NULL };
        char *env[] = { "OSPREY_TEST_VAR=seen", NULL };
        execve(self_path, args, env);
        _exit(127);
    }
    close(fds[1]);
    char buf[128] = { 0 };
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    CHECK(strcmp(buf, "a b c\nenv=seen\n") == 0, "execve passes argv and envp (%s)", buf);
    CHECK_ERR(execl("/nonexistent/program", "x", (char *)NULL), ENOENT, "execve of a missing file: ENOENT");
    CHECK_ERR(execl("/tmp", "x", (char *)NULL), EACCES, "execve of a directory: EACCES");
    int fd = open("/tmp/not-elf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    write(fd, "\x7f" "ELFgarbage", 11);
    close(fd);
    CHECK_ERR(execl("/tmp/not-elf", "x", (char *)NULL), ENOEXEC, "execve of a malformed ELF file: ENOEXEC");
    unlink("/tmp/not-elf");
    CHECK(1, "the process carries on after failed execs");
    int keep = open("/", O_RDONLY), closing = open("/", O_RDONLY | O_CLOEXEC);
    char k[16], c[16];
    snprintf(k, sizeof(k), "%d", keep);
    snprintf(c, sizeof(c), "%d", closing);
    CHECK(run_self("fd-open", k) == 0 && run_self("fd-open", c) == 1,
          "an exec keeps ordinary descriptors and closes O_CLOEXEC ones");
    close(keep);
    close(closing);
}

static void check_vfork_and_spawn(void)
{
    pid_t pid = vfork();
    if (pid == 0) {
        execl(self_path, self_path, "exit-with", "5", (char *)NULL);
        _exit(127);
    }
    int st;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 5,
          "vfork + exec: status 5");
    char *args[] = { (char *)self_path, "exit-with", "9", NULL };
    CHECK(posix_spawn(&pid, self_path, NULL, NULL, args, environ) == 0, "posix_spawn");
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 9, "the spawned program's status");
}

static void *spinner(void *arg)
{
    (void)arg;
    for (;;)
        usleep(1000);
    return NULL;
}

static void check_threads_and_processes(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spinner, NULL);
        usleep(10000);
        execl(self_path, self_path, "exit-with", "3", (char *)NULL); /* the other thread must go */
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3,
          "execve from a process with two threads");
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    pid = fork();
    if (pid == 0) {
        /* only the forking thread exists in the child */
        _exit(0);
    }
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fork from a multithreaded process");
}

static void check_groups(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setpgid(0, 0) != 0)
            _exit(1);
        if (getpgrp() != getpid())
            _exit(2);
        if (setsid() != -1 || errno != EPERM) /* a group leader cannot start a session */
            _exit(3);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "setpgid and setsid in a child (%d)", WEXITSTATUS(st));
    pid = fork();
    if (pid == 0) {
        pid_t sid = setsid();
        _exit(sid == getpid() && getsid(0) == getpid() ? 0 : 1);
    }
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "setsid makes a new session");
}

static long futex_op(_Atomic int *w, int op, int val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static _Atomic int private_word;

static void *private_waiter(void *arg)
{
    (void)arg;
    while (atomic_load(&private_word) == 0)
        futex_op(&private_word, 128 /* FUTEX_WAIT_PRIVATE */, 0);
    return NULL;
}

/* Futexes are per process unless the memory is shared: a child's wake at
 * the parent's address reaches no parent thread; a shared mapping's futex
 * is found from another process even at another address. */
static void check_futexes_between_processes(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, private_waiter, NULL) == 0, "a thread waits on a private futex");
    usleep(50000);
    pid_t pid = fork();
    if (pid == 0)
        _exit((int)futex_op(&private_word, 129 /* FUTEX_WAKE_PRIVATE */, 1));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "the child's wake at the same address woke none of the parent's waiters (%d)", WEXITSTATUS(st));
    atomic_store(&private_word, 1);
    long woke = futex_op(&private_word, 129, 1);
    CHECK(pthread_join(t, NULL) == 0 && woke == 1, "the parent's own wake finds its waiter (%ld)", woke);

    int fd = open("/tmp/futex-shared", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 4096) == 0, "a file to share");
    _Atomic int *mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(mine != MAP_FAILED, "mapped shared");
    pid = fork();
    if (pid == 0) {
        void *pad = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _Atomic int *theirs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (pad == MAP_FAILED || theirs == MAP_FAILED || theirs == mine)
            _exit(2);
        while (atomic_load(theirs) == 0)
            futex_op(theirs, 0 /* FUTEX_WAIT, shared */, 0);
        _exit(0);
    }
    long found = 0;
    for (int i = 0; i < 5000 && found == 0; i++) { /* until the child waits */
        found = futex_op(mine, 1 /* FUTEX_WAKE, shared */, 1);
        if (!found)
            usleep(1000);
    }
    atomic_store(mine, 1);
    futex_op(mine, 1, 1);
    CHECK(found == 1 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "a shared futex is woken from another process mapping it elsewhere (%ld, %d)", found,
          WEXITSTATUS(st));
    munmap((void *)mine, 4096);
    close(fd);
    unlink("/tmp/futex-shared");
}

/* The first number after the label in /proc/PID/status, or -1. */
static long status_field(const char *path, const char *label)
{
    char buf[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *at = strstr(buf, label);
    return at ? strtol(at + strlen(label), NULL, 10) : -1;
}

static bool proc_lists(pid_t pid)
{
    DIR *d = opendir("/proc");
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d)) && !found;)
        found = atoi(e->d_name) == pid;
    if (d)
        closedir(d);
    return found;
}

/* /proc knows every process: a child's entries, its parent, its group. */
static void check_proc_entries(void)
{
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        bool ok = status_field("/proc/self/status", "\nPPid:\t") == parent;
        ok = ok && status_field("/proc/self/status", "\nPid:\t") == getpid();
        ok = read(go[0], &c, 1) == 0 && ok; /* the parent has looked */
        _exit(ok ? 0 : 1);
    }
    close(go[0]);
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    int spid = 0, sppid = 0, spgrp = 0;
    char *rp = strrchr(buf, ')');
    CHECK(sscanf(buf, "%d", &spid) == 1 && rp && sscanf(rp + 2, "%*c %d %d", &sppid, &spgrp) == 2 &&
              spid == pid && sppid == parent && spgrp == getpgrp(),
          "/proc/CHILD/stat: pid, parent and group (%s)", buf);
    CHECK(proc_lists(pid), "/proc lists the child");
    close(go[1]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "the child's /proc/self/status names its parent");
    CHECK(access(path, F_OK) != 0 && !proc_lists(pid), "a reaped child is gone from /proc");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return child_mode(argc, argv);
    self_path = argv[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_fork_and_wait();
    check_many_children();
    check_signals_between_processes();
    check_exec();
    check_vfork_and_spawn();
    check_threads_and_processes();
    check_groups();
    check_proc_entries();
    check_futexes_between_processes();
    return check_exit();
}
