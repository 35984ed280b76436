/* Bootchart: phase ends are stamped with the raw TSC (the clock may not run
 * yet) and converted to time when printed. */
#include "core/bootchart.h"
#include "arch/boot_info.h"
#include "arch/cpu.h"
#include "core/clock.h"
#include "core/log.h"
#include "lib/printf.h"

#define BOOTCHART_MAX 32

static struct {
    const char *phase;
    uint64_t tsc;
} marks[BOOTCHART_MAX];
static unsigned nmarks;

void bootchart_mark(const char *phase)
{
    if (nmarks < BOOTCHART_MAX) {
        marks[nmarks].phase = phase;
        marks[nmarks].tsc = rdtsc();
        nmarks++;
    }
}

/* "12.34ms" without floating point. */
static void format_ms(char *buf, size_t size, uint64_t ns)
{
    uint64_t centi = (ns + 5000) / 10000;
    snprintf(buf, size, "%lu.%02lums", centi / 100, centi % 100);
}

void bootchart_print(void)
{
    uint64_t prev = 0;
    char at[24], delta[24];
    for (unsigned i = 0; i < nmarks; i++) {
        uint64_t ns = clock_tsc_to_ns(marks[i].tsc);
        format_ms(at, sizeof(at), ns);
        format_ms(delta, sizeof(delta), ns - prev);
        printk(LOG_NOTICE, "%24s: %s, (+%s)\n", marks[i].phase, at, delta);
        prev = ns;
    }
    format_ms(at, sizeof(at), prev);
    printk(LOG_NOTICE, "%24s: %s (TSC %lu kHz, clock %s)\n", "total", at, clock_tsc_khz(),
           clock_calibration_name());
}

uint64_t bootchart_elapsed_ns(void)
{
    return nmarks ? clock_tsc_to_ns(marks[nmarks - 1].tsc) : 0;
}
