/* What lwIP asks of its platform with NO_SYS=1: a millisecond clock, the
 * lightweight protection around pbuf reference counts, random numbers,
 * diagnostics and assertions. */
#include "lwip/opt.h"
#include "lwip/arch.h"
#include "lwip/sys.h"

#include "arch/spinlock.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/panic.h"
#include "fs/random.h"
#include "lib/printf.h"

static spinlock_t lwip_prot_lock = SPINLOCK_INIT;

u32_t sys_now(void)
{
    return (u32_t)(clock_monotonic_ns() / 1000000);
}

/* pbufs are freed by the network thread, by readers after copying out and
 * by drivers: one short interrupt-safe lock covers their counts. */
sys_prot_t sys_arch_protect(void)
{
    return spin_lock(&lwip_prot_lock);
}

void sys_arch_unprotect(sys_prot_t flags)
{
    spin_unlock(&lwip_prot_lock, flags);
}

uint32_t lwip_port_rand(void)
{
    uint32_t v;
    random_get_bytes(&v, sizeof(v));
    return v;
}

uint32_t net_tcp_isn(void)
{
    return lwip_port_rand(); /* unpredictable initial sequence numbers */
}

void lwip_port_diag(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printk(LOG_DEBUG, "lwip: %s", buf);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
    panic("lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
}
