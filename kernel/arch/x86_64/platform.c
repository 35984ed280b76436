/* The platform description and its single-CPU PC fallback. */
#include "arch/platform.h"
#include "lib/string.h"

struct platform_info platform;

void platform_set_defaults(struct platform_info *p)
{
    memset(p, 0, sizeof(*p));
    p->source = "default";
    p->cpu_count = 1;
    p->lapic_phys = DEFAULT_LAPIC_PHYS;
    p->ioapic_count = 1;
    p->ioapics[0].phys = DEFAULT_IOAPIC_PHYS;
    p->has_8259 = true;
}
