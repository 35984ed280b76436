/* lwIP configuration for Osprey: the raw API (NO_SYS=1) driven by one
 * network thread and called under one lock (kernel/net/net_core.c), memory
 * from kmalloc, IPv4 with TCP, UDP, ICMP, DHCP, ARP and loopback, and
 * buffers sized for servers rather than microcontrollers. */
#pragma once

#include "mm/kmalloc.h"

/* ---- system ---- */
#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 1        /* pbufs are freed outside the stack lock */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
void net_assert_locked(void);
#define LWIP_ASSERT_CORE_LOCKED() net_assert_locked()

/* ---- memory: kmalloc for everything, no fixed pools ---- */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define mem_clib_malloc kmalloc
#define mem_clib_free kfree
#define mem_clib_calloc kcalloc
#define MEMP_NUM_SYS_TIMEOUT 16

/* ---- link layer ---- */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE 64
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 16
#define ETH_PAD_SIZE 0
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 0
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_NUM_NETIF_CLIENT_DATA 1

/* ---- IP ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 64
#define IP_SOF_BROADCAST 1
#define IP_SOF_BROADCAST_RECV 1
#define IP_DEFAULT_TTL 64
#define LWIP_ICMP 1
#define LWIP_BROADCAST_PING 0
#define LWIP_RAW 0
#define LWIP_IGMP 0                   /* its timer would run every 100 ms; no multicast delivery yet */
#define LWIP_MULTICAST_TX_OPTIONS 1

/* ---- configuration protocols ---- */
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0         /* saves half a second at boot */
#define LWIP_AUTOIP 0
#define LWIP_DNS 0                    /* resolving is the application's; DHCP's DNS option: hook */
struct netif;
struct dhcp;
struct dhcp_msg;
struct pbuf;
void net_dhcp_option(struct netif *netif, unsigned option, unsigned len, struct pbuf *p,
                     unsigned offset);
#define LWIP_HOOK_DHCP_PARSE_OPTION(netif, dhcp, state, msg, msg_type, option, len, pbuf, offset) \
    net_dhcp_option((netif), (option), (len), (pbuf), (offset))

/* ---- UDP ---- */
#define LWIP_UDP 1
#define LWIP_UDPLITE 0
#define SO_REUSE 1
#define SO_REUSE_RXTOALL 1

/* ---- TCP ---- */
#define LWIP_TCP 1
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3
#define TCP_WND (256 * 1024)
#define TCP_SND_BUF (256 * 1024)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_SNDLOWAT (32 * 1024)       /* writable when this much is free (lwIP: below 64 KiB) */
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE TCP_MSS
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_BYTES (512 * 1024)
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_CALLBACK_API 1
#define TCP_MAXRTX 12                 /* lwIP's most (its backoff table) */
#define TCP_SYNMAXRTX 6
uint32_t net_tcp_isn(void);
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) net_tcp_isn()

/* ---- statistics: only the per-interface counters /proc/net/dev shows (LWIP_DEBUG stays undefined) ---- */
#define LWIP_STATS 1
#define MIB2_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 0
#define ETHARP_STATS 0
#define IP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define IGMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 0
#define MEM_STATS 0
#define MEMP_STATS 0
#define SYS_STATS 0

