/* --strace: one line per finished system call on the kernel log, in the
 * style of strace(1): "[tid] name(args) = result". */
#include "syscall.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

#define AT_FDCWD_VALUE (-100)
#define LINE_MAX 512

struct line {
    char buf[LINE_MAX];
    size_t len;
};

static void put(struct line *l, const char *fmt, ...) __printf(2, 3);
static void put(struct line *l, const char *fmt, ...)
{
    if (l->len >= sizeof(l->buf) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len = MIN(l->len + (size_t)n, sizeof(l->buf) - 1);
}

static void put_quoted(struct line *l, const char *s, size_t max)
{
    put(l, "\"");
    size_t i = 0;
    for (; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            put(l, "\\n");
        else if (c == '\t')
            put(l, "\\t");
        else if (c == '"' || c == '\\')
            put(l, "\\%c", c);
        else if (c < 32 || c >= 127)
            put(l, "\\%o", c);
        else
            put(l, "%c", c);
    }
    put(l, "\"%s", s[i] ? "..." : "");
}

static void put_oflags(struct line *l, uint64_t v)
{
    static const struct { uint32_t bit; const char *name; } flags[] = {
        { 0100, "O_CREAT" }, { 0200, "O_EXCL" }, { 0400, "O_NOCTTY" }, { 01000, "O_TRUNC" },
        { 02000, "O_APPEND" }, { 04000, "O_NONBLOCK" }, { 010000, "O_DSYNC" }, { 0200000, "O_DIRECTORY" },
        { 0400000, "O_NOFOLLOW" }, { 01000000, "O_NOATIME" }, { 02000000, "O_CLOEXEC" }, { 010000000, "O_PATH" },
        { 020000000, "O_TMPFILE" }, { 040000, "O_DIRECT" }, { 0100000, "O_LARGEFILE" },
    };
    static const char *const access[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
    put(l, "%s", access[v & 3]);
    uint64_t rest = v & ~3ull;
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        if (rest & flags[i].bit) {
            put(l, "|%s", flags[i].name);
            rest &= ~(uint64_t)flags[i].bit;
        }
    }
    if (rest)
        put(l, "|%#lx", rest);
}

static void put_arg(struct line *l, uint8_t kind, uint64_t v, const char *str)
{
    switch (kind) {
    case SARG_INT: put(l, "%d", (int)v); break;
    case SARG_UINT: put(l, "%lu", v); break;
    case SARG_SIZE: put(l, "%lu", v); break;
    case SARG_FD:
        if ((int)v == AT_FDCWD_VALUE)
            put(l, "AT_FDCWD");
        else
            put(l, "%d", (int)v);
        break;
    case SARG_MODE: put(l, "0%lo", v); break;
    case SARG_OFLAGS: put_oflags(l, v); break;
    case SARG_STR:
    case SARG_BUF:
        if (str)
            put_quoted(l, str, 64);
        else if (v == 0)
            put(l, "NULL");
        else
            put(l, "%#lx", v);
        break;
    case SARG_PTR: put(l, v ? "%#lx" : "NULL", v); break;
    default: put(l, "%#lx", v); break;
    }
}

static void put_result(struct line *l, const char *name, long ret)
{
    if (ret == STRACE_NO_RETURN) {
        put(l, " = ?");
    } else if (ret < 0 && ret >= -4095) {
        const char *e = errno_name((int)-ret);
        if (e)
            put(l, " = -1 %s", e);
        else
            put(l, " = -1 (errno %ld)", -ret);
    } else if (!strcmp(name, "mmap") || !strcmp(name, "brk") || !strcmp(name, "mremap")) {
        put(l, " = %#lx", ret);
    } else {
        put(l, " = %ld", ret);
    }
}

void strace_print(const struct syscall_desc *d, uint64_t nr, const uint64_t args[SYSCALL_MAX_ARGS],
                  long ret, int utid, const char *strs[SYSCALL_MAX_ARGS])
{
    struct line l = { .len = 0 };
    put(&l, "[%d] ", utid);
    if (!d) {
        put(&l, "syscall_%lu(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)", nr, args[0], args[1], args[2],
            args[3], args[4], args[5]);
        put_result(&l, "", ret);
    } else {
        put(&l, "%s(", d->name);
        for (unsigned i = 0; i < d->nargs; i++) {
            if (i)
                put(&l, ", ");
            put_arg(&l, d->kinds[i], args[i], strs[i]);
        }
        put(&l, ")");
        put_result(&l, d->name, ret);
    }
    printk(LOG_NOTICE, "%s\n", l.buf);
}
