/* DHCP options lwIP does not keep for us (it is built without its DNS
 * client): the name servers, domain and host name of the lease, captured
 * from the reply through lwIP's option hook for /etc/resolv.conf. */
#include "net_config.h"
#include "lib/string.h"

#include "lwip/pbuf.h"

#define DHCP_OPT_DNS 6
#define DHCP_OPT_HOSTNAME 12
#define DHCP_OPT_DOMAIN 15

struct net_dhcp_info net_dhcp_seen; /* the latest reply's (network lock) */

static void copy_string(struct pbuf *p, unsigned off, unsigned len, char *dst, size_t size)
{
    size_t n = MIN((size_t)len, size - 1);
    n = pbuf_copy_partial(p, dst, (u16_t)n, (u16_t)off);
    dst[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (dst[i] < 0x21 || dst[i] > 0x7e)
            dst[i] = 0; /* a hostile server gets no control characters into files */
}

void net_dhcp_option(struct netif *netif, unsigned option, unsigned len, struct pbuf *p, unsigned offset)
{
    (void)netif;
    switch (option) {
    case DHCP_OPT_DNS: {
        unsigned n = MIN(len / 4, (unsigned)NET_MAX_DNS);
        for (unsigned i = 0; i < n; i++)
            pbuf_copy_partial(p, &net_dhcp_seen.dns[i], 4, (u16_t)(offset + 4 * i));
        net_dhcp_seen.ndns = n;
        break;
    }
    case DHCP_OPT_DOMAIN:
        copy_string(p, offset, len, net_dhcp_seen.domain, sizeof(net_dhcp_seen.domain));
        break;
    case DHCP_OPT_HOSTNAME:
        copy_string(p, offset, len, net_dhcp_seen.hostname, sizeof(net_dhcp_seen.hostname));
        break;
    }
}
