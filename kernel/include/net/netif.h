/* Network interfaces as Linux presents them (names lo/ethN, indexes,
 * IFF_* flags, ARPHRD_* types) over lwIP's netifs, for the interface
 * ioctls, netlink and /proc/net. Callers hold the network lock. */
#pragma once

#include "net/uapi.h"

struct netif;

bool net_if_is_loopback(const struct netif *n);
void net_if_name(const struct netif *n, char name[IFNAMSIZ]);
struct netif *net_if_by_name(const char *name);
/* Interfaces in index order, as Linux lists them: NULL starts, NULL ends. */
struct netif *net_if_next(const struct netif *prev);
unsigned net_if_flags(const struct netif *n);
unsigned net_if_type(const struct netif *n);
unsigned net_if_mtu(const struct netif *n);

/* SIOCGIF* and friends from any socket (takes the lock itself); -ENOTTY
 * for commands that are not about interfaces. */
int net_dev_ioctl(unsigned long cmd, unsigned long arg);

/* What the link drivers (virtio-net) call, the network lock held: add an
 * Ethernet interface (netif_add with ethernet_input) and count it. */
struct netif *net_if_add_ethernet(struct netif *n, void *state, int8_t (*init)(struct netif *));
