/* AF_NETLINK inside kernel/net: the rtnetlink ABI (Linux's structures and
 * numbers) and the reply builder netlink.c and netlink_route.c share. */
#pragma once

#include "lib/list.h"
#include "lib/types.h"

#define NETLINK_ROUTE 0

struct sockaddr_nl {
    uint16_t nl_family, nl_pad;
    uint32_t nl_pid, nl_groups;
};

struct nlmsghdr {
    uint32_t nlmsg_len;
    uint16_t nlmsg_type, nlmsg_flags;
    uint32_t nlmsg_seq, nlmsg_pid;
};

struct nlmsgerr {
    int32_t error;
    struct nlmsghdr msg;
};

struct nlattr {
    uint16_t nla_len, nla_type;
};

struct ifinfomsg {
    uint8_t ifi_family, ifi_pad;
    uint16_t ifi_type;
    int32_t ifi_index;
    uint32_t ifi_flags, ifi_change;
};

struct ifaddrmsg {
    uint8_t ifa_family, ifa_prefixlen, ifa_flags, ifa_scope;
    uint32_t ifa_index;
};

struct rtmsg {
    uint8_t rtm_family, rtm_dst_len, rtm_src_len, rtm_tos;
    uint8_t rtm_table, rtm_protocol, rtm_scope, rtm_type;
    uint32_t rtm_flags;
};

#define NLMSG_ALIGN(len) (((len) + 3u) & ~3u)
#define NLA_ALIGN(len) (((len) + 3u) & ~3u)

#define NLMSG_NOOP 1
#define NLMSG_ERROR 2
#define NLMSG_DONE 3

#define NLM_F_REQUEST 0x01
#define NLM_F_MULTI 0x02
#define NLM_F_ACK 0x04
#define NLM_F_ROOT 0x100
#define NLM_F_MATCH 0x200
#define NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH)
#define NLM_F_CAPPED 0x100

#define RTM_NEWLINK 16
#define RTM_DELLINK 17
#define RTM_GETLINK 18
#define RTM_SETLINK 19
#define RTM_NEWADDR 20
#define RTM_DELADDR 21
#define RTM_GETADDR 22
#define RTM_NEWROUTE 24
#define RTM_DELROUTE 25
#define RTM_GETROUTE 26

#define IFLA_ADDRESS 1
#define IFLA_BROADCAST 2
#define IFLA_IFNAME 3
#define IFLA_MTU 4
#define IFLA_STATS 7
#define IFLA_TXQLEN 13
#define IFLA_OPERSTATE 16
#define IFLA_LINKMODE 17
#define IFLA_STATS64 23

#define IFA_ADDRESS 1
#define IFA_LOCAL 2
#define IFA_LABEL 3
#define IFA_BROADCAST 4
#define IFA_FLAGS 8
#define IFA_F_PERMANENT 0x80

#define RTA_DST 1
#define RTA_OIF 4
#define RTA_GATEWAY 5
#define RTA_PREFSRC 7
#define RTA_TABLE 15

#define RT_TABLE_MAIN 254
#define RT_TABLE_LOCAL 255
#define RTPROT_KERNEL 2
#define RTPROT_BOOT 3
#define RTPROT_DHCP 16
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_LINK 253
#define RT_SCOPE_HOST 254
#define RTN_UNICAST 1
#define RTN_LOCAL 2

#define IF_OPER_UNKNOWN 0
#define IF_OPER_DOWN 2
#define IF_OPER_UP 6

struct nl_sock;

/* Reply messages collected into page-sized datagrams. */
struct nl_builder {
    struct nl_sock *nl;
    uint32_t seq, portid;
    int err;
    size_t len, cur;            /* bytes in buf; where the current message starts */
    struct list_node out;       /* finished datagrams */
    uint8_t buf[4096] __aligned(8);
};

void nl_builder_init(struct nl_builder *b, struct nl_sock *nl, uint32_t seq);
/* A new message with a family header of hdrlen bytes (zeroed): that header,
 * or NULL when out of room (b->err set). */
void *nl_msg_begin(struct nl_builder *b, uint16_t type, uint16_t flags, size_t hdrlen);
/* Attributes of the current message. */
void nl_attr(struct nl_builder *b, uint16_t type, const void *data, size_t len);
void nl_attr_u32(struct nl_builder *b, uint16_t type, uint32_t v);
void nl_attr_u8(struct nl_builder *b, uint16_t type, uint8_t v);
void nl_attr_str(struct nl_builder *b, uint16_t type, const char *s);

/* netlink_route.c: the answers, network lock held. */
int nl_dump_links(struct nl_builder *b);
int nl_get_link(struct nl_builder *b, const void *req, size_t len);
int nl_dump_addrs(struct nl_builder *b, const void *req, size_t len);
int nl_dump_routes(struct nl_builder *b);
