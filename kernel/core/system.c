/* Ending the VM with an exit status: a record for the host tool on the log
 * channel, then the platform's power-off path (which carries the status too). */
#include "core/system.h"
#include "arch/power.h"
#include "core/log.h"
#include "lib/printf.h"

void system_exit(int status)
{
    char record[16];
    snprintf(record, sizeof(record), "exit=%d", status & 0xff);
    log_record(record);
    arch_machine_exit(status & 0xff);
}

void system_fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pr_err("%s\n", msg);
    system_exit(SYSTEM_FAIL_STATUS);
}
