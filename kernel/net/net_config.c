/* Configuring the network at boot: a static address (--ip, --defaultgw) or
 * DHCP on the first Ethernet interface, name servers (--nameserver or the
 * lease's), the host name (--hostname or the lease's), and the files
 * programs read: /etc/resolv.conf and /etc/hosts. */
#include "net/net.h"
#include "core/bootopts.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/system.h"
#include "core/thread.h"
#include "core/uts.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "net/net_parse.h"
#include "net/netif.h"
#include "net_config.h"

#include "lwip/dhcp.h"
#include "lwip/netif.h"

#define DHCP_WAIT_NS (5 * 1000000000ull)
#define DHCP_POLL_NS (5 * 1000000ull)
#define FILE_MAX 1024

static struct mutex config_mutex = MUTEX_INIT(config_mutex);
static bool configured;

struct net_settings {
    uint32_t addr, mask, gw;
    uint32_t dns[NET_MAX_DNS];
    unsigned ndns;
    char domain[64];
    char ifname[IFNAMSIZ];
    bool dhcp, have_addr;
};

static struct netif *first_ethernet(void)
{
    struct netif *n, *best = NULL;
    NETIF_FOREACH(n) {
        if (!net_if_is_loopback(n) && (!best || n->num < best->num))
            best = n;
    }
    return best;
}

/* --ip, --defaultgw: a bad value ends the boot, as other boot options do. */
static struct netif *configure_static(struct net_settings *cfg)
{
    struct net_static_ip ip;
    char err[160];
    if (net_parse_ip_option(boot_options.ip, &ip, err, sizeof(err)))
        system_fail("%s", err);
    if (boot_options.defaultgw && net_parse_ipv4(boot_options.defaultgw, strlen(boot_options.defaultgw), &cfg->gw))
        system_fail("--defaultgw=%s: not an IPv4 address", boot_options.defaultgw);
    net_lock();
    struct netif *n = net_if_by_name(ip.ifname);
    if (n) {
        ip4_addr_t a, m, g;
        ip4_addr_set_u32(&a, ip.addr);
        ip4_addr_set_u32(&m, ip.mask);
        ip4_addr_set_u32(&g, cfg->gw);
        netif_set_addr(n, &a, &m, &g);
        netif_set_default(n);
    }
    net_unlock();
    if (!n) {
        pr_err("net: --ip names %s, but there is no such interface\n", ip.ifname);
        return NULL;
    }
    cfg->addr = ip.addr;
    cfg->mask = ip.mask;
    cfg->have_addr = true;
    return n;
}

/* DHCP on n; waits a while for the lease (lwIP keeps trying afterwards). */
static void configure_dhcp(struct netif *n, struct net_settings *cfg)
{
    cfg->dhcp = true;
    net_lock();
    netif_set_default(n);
    memset(&net_dhcp_seen, 0, sizeof(net_dhcp_seen));
    int err = dhcp_start(n);
    net_unlock();
    if (err) {
        pr_err("net: %s: cannot start DHCP (lwIP error %d)\n", cfg->ifname, err);
        return;
    }
    uint64_t deadline = clock_monotonic_ns() + DHCP_WAIT_NS;
    bool bound = false;
    while (!bound && clock_monotonic_ns() < deadline) {
        thread_sleep_ns(DHCP_POLL_NS);
        net_lock();
        bound = dhcp_supplied_address(n) != 0;
        if (bound) {
            cfg->addr = ip4_addr_get_u32(netif_ip4_addr(n));
            cfg->mask = ip4_addr_get_u32(netif_ip4_netmask(n));
            cfg->gw = ip4_addr_get_u32(netif_ip4_gw(n));
            if (!boot_options.nameserver) { /* --nameserver wins over the lease */
                cfg->ndns = net_dhcp_seen.ndns;
                memcpy(cfg->dns, net_dhcp_seen.dns, sizeof(cfg->dns));
            }
            strlcpy(cfg->domain, net_dhcp_seen.domain, sizeof(cfg->domain));
            if (net_dhcp_seen.hostname[0] && !boot_options.hostname)
                uts_set_hostname(net_dhcp_seen.hostname, strlen(net_dhcp_seen.hostname));
        }
        net_unlock();
    }
    cfg->have_addr = bound;
    if (!bound)
        pr_warn("net: %s: no DHCP lease after %llu s; continuing, DHCP keeps trying\n", cfg->ifname,
                (unsigned long long)(DHCP_WAIT_NS / 1000000000ull));
}

/* ---- the files ---- */

static void write_file(const char *path, const char *text, size_t len, bool replace)
{
    struct file *f;
    int flags = O_WRONLY | O_CREAT | O_TRUNC | (replace ? 0 : O_EXCL);
    vfs_mkdir_kernel("/etc", 0755);
    int err = vfs_openat(NULL, NULL, path, (unsigned)flags, 0644, &f);
    if (err) {
        if (err != -EEXIST)
            pr_warn("net: cannot write %s: %s\n", path, errno_name(err));
        return;
    }
    ssize_t n = vfs_pwrite_kernel(f, text, len, 0);
    if (n != (ssize_t)len)
        pr_warn("net: short write to %s\n", path);
    vfs_file_put(f);
}

static void write_resolv_conf(const struct net_settings *cfg)
{
    if (!cfg->ndns)
        return; /* nothing to say: leave the image's file alone */
    char buf[FILE_MAX];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "# written by Osprey at boot (%s)\n",
                                  boot_options.nameserver ? "--nameserver" : "DHCP");
    for (unsigned i = 0; i < cfg->ndns && len < sizeof(buf); i++) {
        char a[16];
        net_format_ipv4(cfg->dns[i], a, sizeof(a));
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "nameserver %s\n", a);
    }
    if (cfg->domain[0] && len < sizeof(buf))
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "search %s\n", cfg->domain);
    write_file("/etc/resolv.conf", buf, MIN(len, sizeof(buf) - 1), true);
}

static void write_hosts(const struct net_settings *cfg)
{
    char buf[FILE_MAX], a[16];
    size_t len = (size_t)snprintf(buf, sizeof(buf),
                                  "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (cfg->have_addr) {
        net_format_ipv4(cfg->addr, a, sizeof(a));
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\t%s\n", a, uts_hostname());
    } else {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "127.0.1.1\t%s\n", uts_hostname());
    }
    write_file("/etc/hosts", buf, MIN(len, sizeof(buf) - 1), false); /* the image's own wins */
}

static unsigned prefix_len(uint32_t mask)
{
    unsigned n = 0;
    for (; mask; mask &= mask - 1)
        n++;
    return n;
}

static void log_settings(const struct net_settings *cfg)
{
    char a[16], g[16], d[16] = "none";
    net_format_ipv4(cfg->addr, a, sizeof(a));
    net_format_ipv4(cfg->gw, g, sizeof(g));
    if (cfg->ndns)
        net_format_ipv4(cfg->dns[0], d, sizeof(d));
    pr_info("net: %s %s/%u gateway %s dns %s (%s)\n", cfg->ifname, a, prefix_len(cfg->mask), g, d,
            cfg->dhcp ? "dhcp" : "static");
}

void net_init(void)
{
    mutex_lock(&config_mutex);
    if (configured) {
        mutex_unlock(&config_mutex);
        return;
    }
    configured = true;
    net_start();
    struct net_settings cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (boot_options.hostname && uts_set_hostname(boot_options.hostname, strlen(boot_options.hostname)))
        system_fail("--hostname=%s: longer than 64 bytes", boot_options.hostname);
    if (boot_options.nameserver &&
        net_parse_addr_list(boot_options.nameserver, cfg.dns, NET_MAX_DNS, &cfg.ndns))
        system_fail("--nameserver=%s: expected ADDR[,ADDR...], at most %d", boot_options.nameserver, NET_MAX_DNS);
    net_lock();
    struct netif *eth = first_ethernet();
    if (eth)
        net_if_name(eth, cfg.ifname);
    net_unlock();
    if (boot_options.ip) {
        eth = configure_static(&cfg);
    } else if (eth) {
        configure_dhcp(eth, &cfg);
    }
    if (eth && cfg.have_addr)
        log_settings(&cfg);
    if (vfs_ready()) {
        write_resolv_conf(&cfg);
        write_hosts(&cfg);
    }
    mutex_unlock(&config_mutex);
}

bool net_configured(void)
{
    return __atomic_load_n(&configured, __ATOMIC_ACQUIRE);
}
