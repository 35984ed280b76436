/* Kernel log: printk with levels into a ring buffer (served later as dmesg),
 * echoed to the registered consoles when the level passes the console level.
 * Every layer may log; it is the one upward dependency the layering allows. */
#pragma once

#include "lib/types.h"

enum log_level {
    LOG_EMERG = 0,
    LOG_ALERT = 1,
    LOG_CRIT = 2,
    LOG_ERR = 3,
    LOG_WARN = 4,
    LOG_NOTICE = 5,
    LOG_INFO = 6,
    LOG_DEBUG = 7,
};

void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);

#define pr_emerg(...) printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_notice(...) printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/* A console sink: writes raw bytes, must not sleep or allocate. */
struct console {
    const char *name;
    void (*write)(const char *s, size_t n);
    struct console *next;
};

void log_register_console(struct console *c);
void log_unregister_console(struct console *c);
/* Messages at or below this level reach the consoles (all reach the ring). */
void log_set_console_level(int level);
int log_console_level(void);
/* Prefix console lines with [seconds.micros] (--verbose). */
void log_set_timestamps(bool on);
/* Time source for record timestamps, once the clock runs. */
void log_set_clock(uint64_t (*ns)(void));
/* Write raw text to the consoles, bypassing the ring and the level filter. */
void log_console_write(const char *s, size_t n);
/* Panic path: drop the console lock if a CPU died holding it. */
void log_force_unlock(void);

/* Machine-readable records ("exit=3", "panic") for the host tool: written as
 * "\x1e<record>\n" to the record sink (the debugcon log channel) when one is set. */
void log_set_record_sink(void (*write)(const char *s, size_t n));
void log_record(const char *record);

/* Copy the ring's text ("[ts] msg\n" lines, oldest first) into buf; returns length. */
size_t log_read_all(char *buf, size_t size);
