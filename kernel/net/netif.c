/* Network interfaces as Linux shows them: names (lo, eth0, eth1...),
 * indexes, flags and hardware addresses of lwIP's netifs, and the
 * SIOCGIF* ioctls any socket answers. */
#include "net/netif.h"
#include "arch/uaccess.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "net/net.h"
#include "net/socket.h"

#include "lwip/netif.h"
#include "netif/ethernet.h"

bool net_if_is_loopback(const struct netif *n)
{
    return n->name[0] == 'l' && n->name[1] == 'o';
}

void net_if_name(const struct netif *n, char name[IFNAMSIZ])
{
    if (net_if_is_loopback(n)) {
        strlcpy(name, "lo", IFNAMSIZ);
        return;
    }
    /* ethN: N counts the Ethernet interfaces added before this one */
    unsigned ord = 0;
    struct netif *o;
    NETIF_FOREACH(o) {
        if (o != n && !net_if_is_loopback(o) && o->num < n->num)
            ord++;
    }
    snprintf(name, IFNAMSIZ, "eth%u", ord);
}

struct netif *net_if_by_name(const char *name)
{
    struct netif *n;
    NETIF_FOREACH(n) {
        char nm[IFNAMSIZ];
        net_if_name(n, nm);
        if (!strncmp(nm, name, IFNAMSIZ))
            return n;
    }
    return NULL;
}

struct netif *net_if_next(const struct netif *prev)
{
    unsigned after = prev ? netif_get_index(prev) : 0;
    struct netif *n, *best = NULL;
    NETIF_FOREACH(n) {
        unsigned i = netif_get_index(n);
        if (i > after && (!best || i < netif_get_index(best)))
            best = n;
    }
    return best;
}

unsigned net_if_flags(const struct netif *n)
{
    unsigned f = 0;
    if (netif_is_up(n))
        f |= IFF_UP;
    if (netif_is_up(n) && netif_is_link_up(n))
        f |= IFF_RUNNING | IFF_LOWER_UP;
    if (net_if_is_loopback(n))
        f |= IFF_LOOPBACK;
    if (n->flags & NETIF_FLAG_BROADCAST)
        f |= IFF_BROADCAST;
    if (!net_if_is_loopback(n))
        f |= IFF_MULTICAST; /* as Linux reports Ethernet interfaces */
    return f;
}

unsigned net_if_type(const struct netif *n)
{
    return net_if_is_loopback(n) ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
}

unsigned net_if_mtu(const struct netif *n)
{
    return net_if_is_loopback(n) ? 65536 : (n->mtu ? n->mtu : 1500);
}

struct netif *net_if_add_ethernet(struct netif *n, void *state, int8_t (*init)(struct netif *))
{
    return netif_add(n, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, state, init, ethernet_input);
}

/* ---- SIOCGIF* ---- */

static void put_in(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof(*in));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = addr;
}

/* SIOCGIFCONF: one ifreq (name and address) per interface with an address. */
static int ifconf(void __user *arg)
{
    struct ifconf ic;
    if (copy_from_user(&ic, arg, sizeof(ic)))
        return -EFAULT;
    int used = 0, err = 0;
    net_lock();
    struct netif *n;
    NETIF_FOREACH(n) {
        if (ip4_addr_isany_val(*netif_ip4_addr(n)))
            continue;
        if (ic.ifc_buf) {
            if (used + (int)sizeof(struct ifreq) > ic.ifc_len)
                break;
            struct ifreq r;
            memset(&r, 0, sizeof(r));
            net_if_name(n, r.ifr_name);
            put_in(&r.u.addr, ip4_addr_get_u32(netif_ip4_addr(n)));
            if (copy_to_user((char __user *)ic.ifc_buf + used, &r, sizeof(r))) {
                err = -EFAULT;
                break;
            }
        }
        used += (int)sizeof(struct ifreq);
    }
    net_unlock();
    if (err)
        return err;
    ic.ifc_len = used;
    return copy_to_user(arg, &ic, sizeof(ic)) ? -EFAULT : 0;
}

/* One SIOCGIF* on the interface named in r (lock held). */
static int ifreq_get(unsigned cmd, struct ifreq *r)
{
    if (cmd == SIOCGIFNAME) {
        struct netif *n = netif_get_by_index((u8_t)r->u.ivalue);
        if (!n || r->u.ivalue <= 0 || r->u.ivalue > 255)
            return -ENODEV;
        net_if_name(n, r->ifr_name);
        return 0;
    }
    r->ifr_name[IFNAMSIZ - 1] = 0;
    struct netif *n = net_if_by_name(r->ifr_name);
    if (!n)
        return -ENODEV;
    bool has_addr = !ip4_addr_isany_val(*netif_ip4_addr(n));
    uint32_t a = ip4_addr_get_u32(netif_ip4_addr(n)), m = ip4_addr_get_u32(netif_ip4_netmask(n));
    memset(&r->u, 0, sizeof(r->u));
    switch (cmd) {
    case SIOCGIFFLAGS: r->u.flags = (int16_t)net_if_flags(n); return 0;
    case SIOCGIFINDEX: r->u.ivalue = netif_get_index(n); return 0;
    case SIOCGIFMTU: r->u.mtu = (int32_t)net_if_mtu(n); return 0;
    case SIOCGIFMETRIC: r->u.ivalue = 0; return 0;
    case SIOCGIFTXQLEN: r->u.ivalue = 1000; return 0;
    case SIOCGIFHWADDR:
        r->u.hwaddr.sa_family = (sa_family_t)net_if_type(n);
        memcpy(r->u.hwaddr.sa_data, n->hwaddr, MIN((size_t)n->hwaddr_len, sizeof(r->u.hwaddr.sa_data)));
        return 0;
    case SIOCGIFADDR:
    case SIOCGIFNETMASK:
    case SIOCGIFBRDADDR:
    case SIOCGIFDSTADDR:
        if (!has_addr)
            return -EADDRNOTAVAIL;
        put_in(&r->u.addr, cmd == SIOCGIFADDR ? a : cmd == SIOCGIFNETMASK ? m
                           : cmd == SIOCGIFBRDADDR ? (a | ~m) : a);
        return 0;
    default:
        return -ENOTTY;
    }
}

int net_dev_ioctl(unsigned long cmd, unsigned long arg)
{
    void __user *uarg = (void __user *)arg;
    if (cmd == SIOCGIFCONF) {
        if (!net_configured())
            net_init();
        return ifconf(uarg);
    }
    switch (cmd) {
    case SIOCGIFNAME: case SIOCGIFFLAGS: case SIOCGIFINDEX: case SIOCGIFMTU: case SIOCGIFMETRIC:
    case SIOCGIFTXQLEN: case SIOCGIFHWADDR: case SIOCGIFADDR: case SIOCGIFNETMASK:
    case SIOCGIFBRDADDR: case SIOCGIFDSTADDR:
        break;
    case SIOCSIFFLAGS:
        return -EPERM; /* interfaces are configured at boot */
    case SIOCETHTOOL:
        return -EOPNOTSUPP;
    default:
        return -ENOTTY;
    }
    struct ifreq r;
    if (copy_from_user(&r, uarg, sizeof(r)))
        return -EFAULT;
    if (!net_configured())
        net_init();
    net_lock();
    int err = ifreq_get((unsigned)cmd, &r);
    net_unlock();
    if (err)
        return err;
    return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}
