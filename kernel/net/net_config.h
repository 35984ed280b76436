/* Interface configuration inside kernel/net: what DHCP told us beyond the
 * address, and the static settings from the boot options. */
#pragma once

#include "lib/types.h"

#define NET_MAX_DNS 3

struct net_dhcp_info {
    uint32_t dns[NET_MAX_DNS]; /* network order */
    unsigned ndns;
    char domain[64];
    char hostname[64];
};

/* The latest DHCP reply's options (under the network lock). */
extern struct net_dhcp_info net_dhcp_seen;
