/* Self-test runner: tests register themselves in the .selftests section. */
#include "core/selftest.h"
#include "core/system.h"
#include "lib/printf.h"
#include "lib/string.h"

extern const struct selftest __selftests_start[], __selftests_end[];

int selftest_check(bool ok, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk(ok ? LOG_NOTICE : LOG_ERR, "  %s %s\n", ok ? "ok  " : "FAIL", msg);
    return ok ? 0 : 1;
}

static const struct selftest *selftest_find(const char *name, size_t len)
{
    for (const struct selftest *t = __selftests_start; t < __selftests_end; t++)
        if (strlen(t->name) == len && strncmp(t->name, name, len) == 0)
            return t;
    return NULL;
}

static int selftest_run_one(const struct selftest *t)
{
    printk(LOG_NOTICE, "selftest %s: %s\n", t->name, t->what);
    int failures = t->run();
    printk(failures ? LOG_ERR : LOG_NOTICE, "selftest %s: %s\n", t->name, failures ? "FAILED" : "passed");
    return failures;
}

static void selftest_list(void)
{
    for (const struct selftest *t = __selftests_start; t < __selftests_end; t++)
        printk(LOG_NOTICE, "  %-14s %s%s\n", t->name, t->what, t->in_all ? "" : " (not in all)");
}

int selftest_run(const char *spec)
{
    /* validate every name first, so a typo runs nothing */
    for (const char *p = spec; *p;) {
        size_t len = strchr(p, ',') ? (size_t)(strchr(p, ',') - p) : strlen(p);
        if (!(len == 3 && strncmp(p, "all", 3) == 0) && !selftest_find(p, len)) {
            printk(LOG_ERR, "unknown self-test \"%.*s\"; the tests are:\n", (int)len, p);
            selftest_list();
            return SYSTEM_FAIL_STATUS;
        }
        p += len + (p[len] == ',');
    }
    int failed = 0, run = 0;
    for (const char *p = spec; *p;) {
        size_t len = strchr(p, ',') ? (size_t)(strchr(p, ',') - p) : strlen(p);
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            for (const struct selftest *t = __selftests_start; t < __selftests_end; t++)
                if (t->in_all) {
                    failed += selftest_run_one(t) != 0;
                    run++;
                }
        } else {
            failed += selftest_run_one(selftest_find(p, len)) != 0;
            run++;
        }
        p += len + (p[len] == ',');
    }
    printk(failed ? LOG_ERR : LOG_NOTICE, "selftests: %d run, %d failed\n", run, failed);
    return failed ? 1 : 0;
}
