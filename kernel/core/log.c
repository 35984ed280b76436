/* printk and the kernel log ring. Records are kept as text lines in a ring of
 * bytes; when full, the oldest lines are dropped. */
#include "core/log.h"
#include "arch/spinlock.h"
#include "lib/printf.h"
#include "lib/string.h"

#define LOG_RING_SIZE 65536
#define LOG_LINE_MAX 512

static char log_ring[LOG_RING_SIZE];
static size_t log_head;  /* total bytes ever written (ring index = head % size) */
static size_t log_tail;  /* total bytes ever dropped from the front */
static spinlock_t log_lock = SPINLOCK_INIT;
static struct console *log_consoles;
static int log_level_console = LOG_NOTICE;
static bool log_timestamps;
static uint64_t (*log_clock_ns)(void);
static void (*log_record_sink)(const char *s, size_t n);

static const char *const log_level_prefix[] = {
    [LOG_EMERG] = "", [LOG_ALERT] = "", [LOG_CRIT] = "",
    [LOG_ERR] = "error: ", [LOG_WARN] = "warning: ", [LOG_NOTICE] = "",
    [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
};

void log_register_console(struct console *c)
{
    irqflags_t f = spin_lock(&log_lock);
    c->next = log_consoles;
    log_consoles = c;
    spin_unlock(&log_lock, f);
}

void log_unregister_console(struct console *c)
{
    irqflags_t f = spin_lock(&log_lock);
    for (struct console **pp = &log_consoles; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    spin_unlock(&log_lock, f);
}

void log_set_console_level(int level) { log_level_console = level; }
int log_console_level(void) { return log_level_console; }
void log_set_timestamps(bool on) { log_timestamps = on; }
void log_set_clock(uint64_t (*ns)(void)) { log_clock_ns = ns; }

static void log_consoles_write(const char *s, size_t n)
{
    for (struct console *c = log_consoles; c; c = c->next)
        c->write(s, n);
}

void log_console_write(const char *s, size_t n)
{
    irqflags_t f = spin_lock(&log_lock);
    log_consoles_write(s, n);
    spin_unlock(&log_lock, f);
}

void log_force_unlock(void)
{
    spin_init(&log_lock);
}

/* Append bytes to the ring, dropping whole old lines to make room. */
static void log_ring_append(const char *s, size_t n)
{
    if (n > LOG_RING_SIZE)
        return;
    while (log_head + n - log_tail > LOG_RING_SIZE) {
        /* drop the oldest line */
        while (log_tail < log_head && log_ring[log_tail++ % LOG_RING_SIZE] != '\n')
            ;
    }
    for (size_t i = 0; i < n; i++)
        log_ring[(log_head + i) % LOG_RING_SIZE] = s[i];
    log_head += n;
}

void vprintk(int level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    uint64_t ns = log_clock_ns ? log_clock_ns() : 0;
    int stamp = snprintf(line, sizeof(line), "[%5lu.%06lu] ", ns / 1000000000ul,
                         (ns / 1000ul) % 1000000ul);
    if (level < LOG_EMERG || level > LOG_DEBUG)
        level = LOG_ERR;
    const char *prefix = log_level_prefix[level];
    size_t plen = strlen(prefix);
    memcpy(line + stamp, prefix, plen);
    size_t body = (size_t)stamp + plen;
    int n = vsnprintf(line + body, sizeof(line) - body - 1, fmt, ap);
    size_t len = body + ((size_t)n < sizeof(line) - body - 1 ? (size_t)n : sizeof(line) - body - 2);
    if (len == body || line[len - 1] != '\n')
        line[len++] = '\n';

    irqflags_t f = spin_lock(&log_lock);
    log_ring_append(line, len);
    if (level <= log_level_console) {
        size_t skip = log_timestamps ? 0 : (size_t)stamp;
        log_consoles_write(line + skip, len - skip);
    }
    spin_unlock(&log_lock, f);
}

void printk(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

size_t log_read_all(char *buf, size_t size)
{
    irqflags_t f = spin_lock(&log_lock);
    size_t n = 0;
    for (size_t i = log_tail; i < log_head && n < size; i++)
        buf[n++] = log_ring[i % LOG_RING_SIZE];
    spin_unlock(&log_lock, f);
    return n;
}

void log_set_record_sink(void (*write)(const char *s, size_t n))
{
    log_record_sink = write;
}

void log_record(const char *record)
{
    if (!log_record_sink)
        return;
    char line[64];
    int n = snprintf(line, sizeof(line), "\x1e%s\n", record);
    irqflags_t f = spin_lock(&log_lock);
    log_record_sink(line, (size_t)MIN(n, (int)sizeof(line) - 1));
    spin_unlock(&log_lock, f);
}
