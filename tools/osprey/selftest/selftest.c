/* osprey-selftest: runs every host unit test of the osprey tool and exits
 * non-zero on a failure. Scratch files go under $TMPDIR. */
#include "selftest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int st_failures, st_checks;
static char *scratch;

const char *st_tmpdir(void)
{
    return scratch;
}

char *st_path(const char *name)
{
    return xasprintf("%s/%s", scratch, name);
}

void st_write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) != 0)
        die("selftest: cannot write %s: %s", path, strerror(errno));
}

char *st_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("selftest: cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)len + 1);
    *n = fread(buf, 1, (size_t)len, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

bool st_dies_with(void (*fn)(void *), void *arg, const char *expect)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        fn(arg);
        _exit(0);
    }
    close(p[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof(buf) - 1 && (r = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == OSPREY_FAIL && strstr(buf, expect) &&
              strchr(buf, '\n') == buf + len - 1;
    if (!ok)
        fprintf(stderr, "  expected to die with \"%s\", got status %d and: %s\n", expect, status, buf);
    return ok;
}

static void remove_scratch(void)
{
    char *cmd = xasprintf("rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "selftest: could not remove %s\n", scratch);
    free(cmd);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    scratch = xasprintf("%s/osprey-selftest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(scratch))
        die("selftest: cannot create %s", scratch);
    static const struct { const char *name; void (*fn)(void); } suites[] = {
        { "cpio", st_cpio }, { "fstree", st_fstree }, { "elf", st_elf }, { "ldcache", st_ldcache },
        { "deps", st_deps }, { "manifest", st_manifest }, { "image", st_image }, { "ext4img", st_image_ext4 }, { "misc", st_misc },
    };
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        int before = st_failures;
        suites[i].fn();
        printf("%-9s %s\n", suites[i].name, st_failures == before ? "ok" : "FAILED");
    }
    remove_scratch();
    printf("%d checks, %d failed\n", st_checks, st_failures);
    return st_failures ? 1 : 0;
}
