/* The network stack's entry points for the rest of the kernel: bring-up,
 * the one lock every lwIP call runs under, and how drivers get the network
 * thread to poll them. */
#pragma once

#include "lib/types.h"

/* Boot: start lwIP and the network thread, configure interfaces (DHCP by
 * default, or --ip/--defaultgw/--nameserver) and write /etc/resolv.conf.
 * Safe to call more than once; sockets start the stack on first use too. */
void net_init(void);
/* Whether net_init has run (sockets run it on first use otherwise). */
bool net_configured(void);
/* Start lwIP and the network thread if not yet done (no configuration). */
void net_start(void);
bool net_started(void);

/* Every lwIP call happens between these. net_unlock also delivers what was
 * sent over loopback and reschedules lwIP's timers. */
void net_lock(void);
void net_unlock(void);

/* A driver that has work for the network thread (a receive interrupt).
 * Safe from interrupt handlers. */
void net_kick(void);
/* Drivers' poll functions, called by the network thread under the lock
 * after each kick. */
struct net_poller {
    void (*poll)(void *arg);
    void *arg;
    struct net_poller *next;
};
void net_register_poller(struct net_poller *p);
