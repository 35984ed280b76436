/* rtnetlink answers: RTM_NEWLINK for each interface, RTM_NEWADDR for each
 * IPv4 address, RTM_NEWROUTE for the connected subnets and the default
 * route, as Linux words them. The network lock is held. */
#include "lib/errno.h"
#include "lib/string.h"
#include "net/netif.h"
#include "net/socket.h"
#include "netlink_internal.h"

#include "lwip/netif.h"
#include "lwip/stats.h"

/* struct rtnl_link_stats (24 counters). */
struct link_stats32 {
    uint32_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped;
    uint32_t multicast, collisions, rx_length_errors, rx_over_errors, rx_crc_errors, rx_frame_errors;
    uint32_t rx_fifo_errors, rx_missed_errors, tx_aborted_errors, tx_carrier_errors, tx_fifo_errors;
    uint32_t tx_heartbeat_errors, tx_window_errors, rx_compressed, tx_compressed, rx_nohandler;
};

static void link_stats(const struct netif *n, struct link_stats32 *st)
{
    memset(st, 0, sizeof(*st));
    const struct stats_mib2_netif_ctrs *c = &n->mib2_counters;
    st->rx_packets = c->ifinucastpkts + c->ifinnucastpkts;
    st->tx_packets = c->ifoutucastpkts + c->ifoutnucastpkts;
    st->rx_bytes = c->ifinoctets;
    st->tx_bytes = c->ifoutoctets;
    st->rx_errors = c->ifinerrors;
    st->tx_errors = c->ifouterrors;
    st->rx_dropped = c->ifindiscards;
    st->tx_dropped = c->ifoutdiscards;
    st->multicast = c->ifinnucastpkts;
}

static void put_link(struct nl_builder *b, struct netif *n, uint16_t flags)
{
    struct ifinfomsg *ifi = nl_msg_begin(b, RTM_NEWLINK, flags, sizeof(*ifi));
    if (!ifi)
        return;
    bool lo = net_if_is_loopback(n);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_type = (uint16_t)net_if_type(n);
    ifi->ifi_index = netif_get_index(n);
    ifi->ifi_flags = net_if_flags(n);
    ifi->ifi_change = 0;
    char name[IFNAMSIZ];
    net_if_name(n, name);
    uint8_t mac[6] = { 0 }, bcast[6];
    memset(bcast, lo ? 0 : 0xff, sizeof(bcast));
    if (!lo)
        memcpy(mac, n->hwaddr, sizeof(mac));
    nl_attr_str(b, IFLA_IFNAME, name);
    nl_attr(b, IFLA_ADDRESS, mac, sizeof(mac));
    nl_attr(b, IFLA_BROADCAST, bcast, sizeof(bcast));
    nl_attr_u32(b, IFLA_MTU, net_if_mtu(n));
    nl_attr_u32(b, IFLA_TXQLEN, 1000);
    nl_attr_u8(b, IFLA_OPERSTATE, lo ? IF_OPER_UNKNOWN : netif_is_link_up(n) ? IF_OPER_UP : IF_OPER_DOWN);
    nl_attr_u8(b, IFLA_LINKMODE, 0);
    struct link_stats32 st;
    link_stats(n, &st);
    nl_attr(b, IFLA_STATS, &st, sizeof(st));
}

int nl_dump_links(struct nl_builder *b)
{
    for (struct netif *n = net_if_next(NULL); n; n = net_if_next(n))
        put_link(b, n, NLM_F_MULTI);
    return b->err;
}

int nl_get_link(struct nl_builder *b, const void *req, size_t len)
{
    struct ifinfomsg ifi;
    if (len < sizeof(ifi))
        return -EINVAL;
    memcpy(&ifi, req, sizeof(ifi));
    struct netif *n = ifi.ifi_index > 0 && ifi.ifi_index <= 255 ? netif_get_by_index((u8_t)ifi.ifi_index) : NULL;
    /* or by IFLA_IFNAME among the attributes */
    for (size_t off = NLA_ALIGN(sizeof(ifi)); !n && off + sizeof(struct nlattr) <= len;) {
        struct nlattr a;
        memcpy(&a, (const uint8_t *)req + off, sizeof(a));
        if (a.nla_len < sizeof(a) || a.nla_len > len - off)
            break;
        if (a.nla_type == IFLA_IFNAME) {
            char name[IFNAMSIZ] = { 0 };
            memcpy(name, (const uint8_t *)req + off + sizeof(a), MIN((size_t)a.nla_len - sizeof(a), sizeof(name) - 1));
            n = net_if_by_name(name);
        }
        off += NLA_ALIGN(a.nla_len);
    }
    if (!n)
        return -ENODEV;
    put_link(b, n, 0);
    return b->err;
}

static unsigned prefix_len(uint32_t mask_net)
{
    uint32_t m = lwip_ntohl(mask_net);
    unsigned n = 0;
    for (; m & 0x80000000u; m <<= 1)
        n++;
    return n;
}

int nl_dump_addrs(struct nl_builder *b, const void *req, size_t len)
{
    uint8_t family = AF_UNSPEC;
    if (len >= 1)
        memcpy(&family, req, 1);
    if (family != AF_UNSPEC && family != AF_INET)
        return b->err; /* an empty dump: no IPv6 addresses */
    for (struct netif *n = net_if_next(NULL); n; n = net_if_next(n)) {
        if (ip4_addr_isany_val(*netif_ip4_addr(n)))
            continue;
        uint32_t a = ip4_addr_get_u32(netif_ip4_addr(n)), m = ip4_addr_get_u32(netif_ip4_netmask(n));
        struct ifaddrmsg *ifa = nl_msg_begin(b, RTM_NEWADDR, NLM_F_MULTI, sizeof(*ifa));
        if (!ifa)
            break;
        bool lo = net_if_is_loopback(n);
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t)prefix_len(m);
        ifa->ifa_flags = IFA_F_PERMANENT;
        ifa->ifa_scope = lo ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
        ifa->ifa_index = netif_get_index(n);
        char name[IFNAMSIZ];
        net_if_name(n, name);
        nl_attr(b, IFA_ADDRESS, &a, 4);
        nl_attr(b, IFA_LOCAL, &a, 4);
        if (!lo) {
            uint32_t bc = a | ~m;
            nl_attr(b, IFA_BROADCAST, &bc, 4);
        }
        nl_attr_str(b, IFA_LABEL, name);
        nl_attr_u32(b, IFA_FLAGS, IFA_F_PERMANENT);
    }
    return b->err;
}

static void put_route(struct nl_builder *b, uint32_t dst, unsigned dst_len, uint32_t gw, uint32_t src,
                      struct netif *n, uint8_t scope)
{
    struct rtmsg *r = nl_msg_begin(b, RTM_NEWROUTE, NLM_F_MULTI, sizeof(*r));
    if (!r)
        return;
    r->rtm_family = AF_INET;
    r->rtm_dst_len = (uint8_t)dst_len;
    r->rtm_table = RT_TABLE_MAIN;
    r->rtm_protocol = gw ? RTPROT_BOOT : RTPROT_KERNEL;
    r->rtm_scope = scope;
    r->rtm_type = RTN_UNICAST;
    nl_attr_u32(b, RTA_TABLE, RT_TABLE_MAIN);
    if (dst_len)
        nl_attr(b, RTA_DST, &dst, 4);
    if (gw)
        nl_attr(b, RTA_GATEWAY, &gw, 4);
    if (src)
        nl_attr(b, RTA_PREFSRC, &src, 4);
    nl_attr_u32(b, RTA_OIF, netif_get_index(n));
}

int nl_dump_routes(struct nl_builder *b)
{
    if (netif_default && !ip4_addr_isany_val(*netif_ip4_gw(netif_default)))
        put_route(b, 0, 0, ip4_addr_get_u32(netif_ip4_gw(netif_default)), 0, netif_default, RT_SCOPE_UNIVERSE);
    for (struct netif *n = net_if_next(NULL); n; n = net_if_next(n)) {
        if (net_if_is_loopback(n) || ip4_addr_isany_val(*netif_ip4_addr(n)))
            continue;
        uint32_t a = ip4_addr_get_u32(netif_ip4_addr(n)), m = ip4_addr_get_u32(netif_ip4_netmask(n));
        put_route(b, a & m, prefix_len(m), 0, a, n, RT_SCOPE_LINK);
    }
    return b->err;
}
