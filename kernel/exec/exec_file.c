/* Finding and opening the program to start: PATH lookup, "#!" scripts, and
 * the checks that let exec refuse a file before anything is changed. */
#include "exec_internal.h"
#include "exec/load.h"
#include "fs/namei.h"
#include "fs/uapi.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

int exec_fail(struct exec_ctx *c, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return e;
}

const char *exec_env_get(const struct exec_ctx *c, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < c->envc; i++)
        if (!strncmp(c->envp[i], name, n) && c->envp[i][n] == '=')
            return c->envp[i] + n + 1;
    return NULL;
}

/* Open path for execution: it must be a regular file with an execute bit.
 * On failure *why says what is wrong (NULL: the errno says it). */
static int try_open(struct exec_ctx *c, const char *path, struct file **out, uint64_t *size, const char **why)
{
    struct file *f;
    *why = NULL;
    int e = vfs_openat(c->fs, NULL, path, O_RDONLY, 0, &f);
    if (e)
        return e;
    struct kstat st;
    e = vfs_getattr(f->vnode, f->path.mnt, &st);
    if (!e && S_ISDIR(st.mode))
        *why = "it is a directory";
    else if (!e && !S_ISREG(st.mode))
        *why = "not a regular file";
    else if (!e && !(st.mode & 0111))
        *why = "not executable";
    if (e || *why) {
        vfs_file_put(f);
        return e ? e : -EACCES;
    }
    *out = f;
    *size = st.size;
    return 0;
}

int exec_open(struct exec_ctx *c, const char *path, struct file **out, uint64_t *size)
{
    const char *why;
    int e = try_open(c, path, out, size, &why);
    if (e && why)
        return exec_fail(c, e, "cannot run %s: %s", path, why);
    if (e)
        return exec_fail(c, e, "cannot run %s: %s", path, e == -ENOENT ? "no such file" : errno_name(e));
    return 0;
}

static bool is_runnable(struct exec_ctx *c, const char *path)
{
    struct file *f;
    uint64_t size;
    const char *why;
    if (try_open(c, path, &f, &size, &why))
        return false;
    vfs_file_put(f);
    return true;
}

/* A name without a slash is looked up in $PATH, as execvp does. */
static int resolve_program(struct exec_ctx *c, const char *name, bool search_path)
{
    if (!*name)
        return exec_fail(c, -ENOENT, "cannot run an empty program name");
    if (strchr(name, '/') || !search_path) {
        if (strlcpy(c->path, name, sizeof(c->path)) >= sizeof(c->path))
            return exec_fail(c, -ENAMETOOLONG, "program path too long");
        return 0;
    }
    const char *path = exec_env_get(c, "PATH");
    for (const char *p = path ? path : EXEC_DEFAULT_PATH; *p;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(c->path, sizeof(c->path), "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", name);
        if (is_runnable(c, c->path))
            return 0;
        p += dlen + (colon ? 1 : 0);
    }
    return exec_fail(c, -ENOENT, "cannot run %s: not found in PATH (%s)", name, path ? path : EXEC_DEFAULT_PATH);
}

/* Cut a "#!" line into the interpreter and its one optional argument (Linux
 * passes the rest of the line as one word). */
static int parse_script_line(struct exec_ctx *c, char *line, char **interp, char **arg)
{
    char *p = line + 2;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return exec_fail(c, -ENOEXEC, "cannot run %s: empty #! line", c->path);
    *interp = p;
    *arg = NULL;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (!*p)
        return 0;
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        *arg = p;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
    }
    return 0;
}

/* "#!interp [arg]": the program becomes interp [arg] path args...
 * Returns 1 when f is not a script. */
static int apply_script(struct exec_ctx *c, struct file *f)
{
    char *line = kmalloc(256);
    if (!line)
        return -ENOMEM;
    ssize_t n = vfs_pread_kernel(f, line, 255, 0);
    if (n < 2 || line[0] != '#' || line[1] != '!') {
        kfree(line);
        return 1;
    }
    c->script_lines[c->nscripts++] = line; /* freed with the context */
    line[n] = '\0';
    char *nl = strchr(line, '\n');
    if (!nl && n == 255)
        return exec_fail(c, -ENOEXEC, "cannot run %s: its #! line is too long", c->path);
    if (nl)
        *nl = '\0';
    char *interp = NULL, *arg = NULL;
    int e = parse_script_line(c, line, &interp, &arg);
    if (e)
        return e;
    unsigned extra = arg ? 2 : 1;
    if (c->argc + extra > EXEC_MAX_WORDS)
        return exec_fail(c, -E2BIG, "too many arguments");
    size_t plen = strlen(c->path) + 1;
    char *script = kmalloc(plen);
    if (!script)
        return -ENOMEM;
    memcpy(script, c->path, plen);
    c->script_lines[c->nscripts++] = script;
    unsigned keep = c->argc ? c->argc - 1 : 0; /* the script's own argv[0] is replaced by its path */
    memmove(&c->argv[extra + 1], &c->argv[1], keep * sizeof(char *));
    c->argv[0] = interp;
    if (arg)
        c->argv[1] = arg;
    c->argv[extra] = script;
    c->argc = extra + 1 + keep;
    c->argv[c->argc] = NULL;
    if (strlcpy(c->path, interp, sizeof(c->path)) >= sizeof(c->path))
        return exec_fail(c, -ENAMETOOLONG, "interpreter path too long");
    return 0;
}

int exec_prepare(struct exec_ctx *c, const char *name, bool search_path)
{
    int e = resolve_program(c, name, search_path);
    if (e)
        return e;
    for (int depth = 0;; depth++) {
        e = exec_open(c, c->path, &c->file, &c->file_size);
        if (e)
            return e;
        int r = apply_script(c, c->file);
        if (r > 0)
            break;
        if (r == 0 && depth == EXEC_MAX_SCRIPT_DEPTH)
            r = exec_fail(c, -ELOOP, "cannot run %s: too many levels of #! interpreters", c->argv[0]);
        vfs_file_put(c->file);
        c->file = NULL;
        if (r < 0)
            return r;
    }
    const char *why = "";
    e = exec_read_image(c->file, c->file_size, &c->img, &why);
    if (e)
        return exec_fail(c, e, "cannot run %s: %s", c->path, e == -ENOEXEC ? why : errno_name(e));
    return 0;
}

void exec_ctx_release(struct exec_ctx *c)
{
    if (c->file)
        vfs_file_put(c->file);
    c->file = NULL;
    for (unsigned i = 0; i < c->nscripts; i++)
        kfree(c->script_lines[i]);
    c->nscripts = 0;
}
