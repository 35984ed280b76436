/* /proc/net/{dev,route,tcp,udp} in Linux's formats, as generators for the
 * procfs framework (fs/procfs.h). The procfs tables list them; they read
 * lwIP's interfaces and pcbs under the network lock. */
#include "net/procnet.h"
#include "fs/vfs.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "net/net.h"
#include "net/netif.h"
#include "inet_internal.h"

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

int net_proc_dev_show(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    procfs_puts(b, "Inter-|   Receive                                                |  Transmit\n"
                   " face |bytes    packets errs drop fifo frame compressed multicast|"
                   "bytes    packets errs drop fifo colls carrier compressed\n");
    net_start();
    net_lock();
    for (struct netif *nif = net_if_next(NULL); nif; nif = net_if_next(nif)) {
        const struct stats_mib2_netif_ctrs *c = &nif->mib2_counters;
        char name[IFNAMSIZ];
        net_if_name(nif, name);
        unsigned long rxp = (unsigned long)c->ifinucastpkts + c->ifinnucastpkts;
        unsigned long txp = (unsigned long)c->ifoutucastpkts + c->ifoutnucastpkts;
        procfs_printf(b, "%6s:%8lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu %8lu %7lu %4lu %4lu %4lu %5lu %7lu %10lu\n",
                      name, (unsigned long)c->ifinoctets, rxp, (unsigned long)c->ifinerrors,
                      (unsigned long)c->ifindiscards, 0ul, 0ul, 0ul, (unsigned long)c->ifinnucastpkts,
                      (unsigned long)c->ifoutoctets, txp, (unsigned long)c->ifouterrors,
                      (unsigned long)c->ifoutdiscards, 0ul, 0ul, 0ul, 0ul);
    }
    net_unlock();
    return 0;
}

/* Lines of /proc/net/route and /proc/net/tcp are padded to a fixed width. */
static void padded(struct procfs_buf *b, size_t width, const char *fmt, ...) __printf(3, 4);
static void padded(struct procfs_buf *b, size_t width, const char *fmt, ...)
{
    char line[192];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t n = MIN((size_t)(len < 0 ? 0 : len), sizeof(line) - 1);
    while (n < width && n < sizeof(line) - 1)
        line[n++] = ' ';
    line[n] = 0;
    procfs_printf(b, "%s\n", line);
}

int net_proc_route_show(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    padded(b, 127, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
    net_start();
    net_lock();
    struct netif *nif;
    NETIF_FOREACH(nif) {
        if (net_if_is_loopback(nif) || ip4_addr_isany_val(*netif_ip4_addr(nif)))
            continue;
        char name[IFNAMSIZ];
        net_if_name(nif, name);
        uint32_t a = ip4_addr_get_u32(netif_ip4_addr(nif)), m = ip4_addr_get_u32(netif_ip4_netmask(nif));
        uint32_t gw = ip4_addr_get_u32(netif_ip4_gw(nif));
        if (nif == netif_default && gw)
            padded(b, 127, "%s\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0", name, 0u, gw, 0x3u, 0u);
        padded(b, 127, "%s\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0", name, a & m, 0u, 0x1u, m);
    }
    net_unlock();
    return 0;
}

static const uint8_t linux_tcp_state[] = { 0x07, 0x0A, 0x02, 0x03, 0x01, 0x04, 0x05, 0x08, 0x0B, 0x09, 0x06 };

/* The socket inode a pcb belongs to, for tools that match /proc/self/fd. */
static uint64_t pcb_inode(void *arg)
{
    struct inet_sock *is = arg;
    return is && is->sock.file && is->sock.file->vnode ? is->sock.file->vnode->ino : 0;
}

static void tcp_line(struct procfs_buf *b, int *sl, struct tcp_pcb *p, bool listen)
{
    unsigned st = p->state < sizeof(linux_tcp_state) ? linux_tcp_state[p->state] : 0x07;
    uint32_t tx = listen ? 0 : (uint32_t)(TCP_SND_BUF - p->snd_buf);
    struct inet_sock *is = p->callback_arg;
    uint32_t rx = listen ? 0 : is ? (uint32_t)is->rx_len : 0;
    padded(b, 149, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 00000000     0        0 %lu",
           (*sl)++, ip4_addr_get_u32(ip_2_ip4(&p->local_ip)), p->local_port,
           listen ? 0u : ip4_addr_get_u32(ip_2_ip4(&p->remote_ip)), listen ? 0u : p->remote_port, st, tx, rx,
           (unsigned long)pcb_inode(p->callback_arg));
}

int net_proc_tcp_show(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    padded(b, 149, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
    net_start();
    net_lock();
    int sl = 0;
    for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
        tcp_line(b, &sl, (struct tcp_pcb *)l, true);
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        tcp_line(b, &sl, p, false);
    for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
        tcp_line(b, &sl, p, false);
    net_unlock();
    return 0;
}

int net_proc_udp_show(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    padded(b, 127, "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops");
    net_start();
    net_lock();
    int sl = 0;
    for (struct udp_pcb *p = udp_pcbs; p; p = p->next) {
        bool conn = (udp_flags(p) & UDP_FLAGS_CONNECTED) != 0;
        padded(b, 127, "%5d: %08X:%04X %08X:%04X %02X 00000000:00000000 00:00000000 00000000     0        0 %lu 2 0000000000000000 0",
               sl++, ip4_addr_get_u32(ip_2_ip4(&p->local_ip)), p->local_port,
               conn ? ip4_addr_get_u32(ip_2_ip4(&p->remote_ip)) : 0u, conn ? p->remote_port : 0,
               conn ? 0x01u : 0x07u, (unsigned long)pcb_inode(p->recv_arg));
    }
    net_unlock();
    return 0;
}
