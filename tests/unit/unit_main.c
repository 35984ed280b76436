/* Runner for host unit tests, plus host versions of the few kernel services
 * pure kernel code calls (printk, panic). */
#include "unit.h"
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#define UNIT_MAX_TESTS 512

static struct { const char *name; void (*fn)(void); } unit_tests[UNIT_MAX_TESTS];
static int unit_count, unit_failures, unit_current_failed;
int unit_checks;
static const char *unit_current;

void unit_register(const char *name, void (*fn)(void))
{
    if (unit_count == UNIT_MAX_TESTS) {
        fprintf(stderr, "too many unit tests\n");
        exit(2);
    }
    unit_tests[unit_count].name = name;
    unit_tests[unit_count].fn = fn;
    unit_count++;
}

void unit_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "FAIL %s (%s:%d): %s\n", unit_current, file, line, expr);
    unit_current_failed = 1;
}

/* Kernel services used by pure code. Tests that expect a panic can set
 * unit_expect_panic and recover through unit_panic_jmp. */
int unit_expect_panic;
jmp_buf unit_panic_jmp;
int unit_log_quiet = 1;
__thread unsigned unit_cpu_id;

void vprintk(int level, const char *fmt, va_list ap)
{
    if (unit_log_quiet)
        return;
    fprintf(stderr, "<%d> ", level);
    vfprintf(stderr, fmt, ap);
}

void printk(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    if (unit_expect_panic)
        longjmp(unit_panic_jmp, 1);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "PANIC in %s: ", unit_current);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int run = 0;
    for (int i = 0; i < unit_count; i++) {
        if (only && !strstr(unit_tests[i].name, only))
            continue;
        unit_current = unit_tests[i].name;
        unit_current_failed = 0;
        unit_tests[i].fn();
        unit_failures += unit_current_failed;
        run++;
    }
    printf("%s: %d tests, %d checks, %d failed\n", argv[0], run, unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}
