/* Parsers for the network boot options (--ip, --defaultgw, --nameserver).
 * Pure functions: kernel/net/net_parse.c, unit tested on the host. Every
 * address is a uint32_t in network byte order. */
#pragma once

#include "lib/types.h"

struct net_static_ip {
    char ifname[16];
    uint32_t addr, mask;
};

/* Exactly four dotted decimal parts, each 0..255, no leading zeros: 0 or -EINVAL. */
int net_parse_ipv4(const char *s, size_t len, uint32_t *out);
/* "IFACE,ADDR,MASK"; MASK dotted (contiguous) or a prefix length. 0, or
 * -EINVAL with a one-line message in err. */
int net_parse_ip_option(const char *value, struct net_static_ip *ip, char *err, size_t errlen);
/* "ADDR[,ADDR...]" into out (at most max): 0, -EINVAL, -E2BIG. */
int net_parse_addr_list(const char *value, uint32_t *out, unsigned max, unsigned *count);
/* "a.b.c.d" into buf; its length. */
size_t net_format_ipv4(uint32_t addr, char *buf, size_t size);
