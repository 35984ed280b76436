/* Network interfaces as programs see them: the SIOCGIF* ioctls on the
 * loopback interface, getifaddrs (netlink underneath, in glibc and musl),
 * a raw NETLINK_ROUTE link and address dump, and the errors.
 * osprey: cpus=1 timeout=60 */
#include "check.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The netlink ABI, spelled out here: musl's toolchain has no Linux kernel headers. */
#define NETLINK_ROUTE 0
#define NLM_F_REQUEST 1
#define NLM_F_DUMP 0x300
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define RTM_GETLINK 18
#define RTM_GETADDR 22
#define IFLA_IFNAME 3
#define IFA_LABEL 3
struct sockaddr_nl { unsigned short nl_family, nl_pad; uint32_t nl_pid, nl_groups; };
struct nlmsghdr { uint32_t nlmsg_len; uint16_t nlmsg_type, nlmsg_flags; uint32_t nlmsg_seq, nlmsg_pid; };
struct rtattr { unsigned short rta_len, rta_type; };
struct ifinfomsg { unsigned char ifi_family, pad; unsigned short ifi_type; int ifi_index; unsigned ifi_flags, ifi_change; };
struct ifaddrmsg { unsigned char ifa_family, ifa_prefixlen, ifa_flags, ifa_scope; uint32_t ifa_index; };
#define ALIGN4(n) (((n) + 3u) & ~3u)

static void test_ioctls(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r;
    memset(&r, 0, sizeof(r));
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP) && (r.ifr_flags & IFF_LOOPBACK),
          "lo: up, loopback (flags 0x%x)", r.ifr_flags);
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFADDR, &r) == 0 &&
          ((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK), "lo: 127.0.0.1");
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFNETMASK, &r) == 0 &&
          ((struct sockaddr_in *)&r.ifr_netmask)->sin_addr.s_addr == htonl(0xff000000), "lo: /8");
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex > 0, "lo: an index (%d)", r.ifr_ifindex);
    int idx = r.ifr_ifindex;
    memset(&r, 0, sizeof(r));
    r.ifr_ifindex = idx;
    CHECK(ioctl(s, SIOCGIFNAME, &r) == 0 && !strcmp(r.ifr_name, "lo"), "SIOCGIFNAME: back to lo");
    CHECK(if_nametoindex("lo") == (unsigned)idx, "if_nametoindex(lo)");
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFMTU, &r) == 0 && r.ifr_mtu >= 1500, "lo: MTU %d", r.ifr_mtu);
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFHWADDR, &r) == 0 && r.ifr_hwaddr.sa_family == 772, "lo: ARPHRD_LOOPBACK");
    strcpy(r.ifr_name, "nosuch0");
    CHECK_ERR(ioctl(s, SIOCGIFFLAGS, &r), ENODEV, "unknown interface: ENODEV");
    CHECK(if_nametoindex("nosuch0") == 0, "if_nametoindex(nosuch0) = 0");

    struct ifreq list[16];
    struct ifconf ic = { .ifc_len = sizeof(list), .ifc_req = list };
    CHECK(ioctl(s, SIOCGIFCONF, &ic) == 0 && ic.ifc_len % (int)sizeof(struct ifreq) == 0, "SIOCGIFCONF");
    int found = 0;
    for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++)
        if (!strcmp(list[i].ifr_name, "lo"))
            found = 1;
    CHECK(found, "SIOCGIFCONF lists lo");
    struct ifconf q = { .ifc_len = 0, .ifc_buf = NULL };
    CHECK(ioctl(s, SIOCGIFCONF, &q) == 0 && q.ifc_len >= (int)sizeof(struct ifreq), "SIOCGIFCONF sizing call");
    close(s);

    /* interface ioctls work on any socket, AF_UNIX too */
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&r, 0, sizeof(r));
    strcpy(r.ifr_name, "lo");
    CHECK(ioctl(u, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == idx, "SIOCGIFINDEX on an AF_UNIX socket");
    close(u);
}

static void test_getifaddrs(void)
{
    struct ifaddrs *ifa;
    CHECK(getifaddrs(&ifa) == 0, "getifaddrs");
    int v4 = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, "lo") &&
            ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
            (i->ifa_flags & IFF_UP))
            v4 = 1;
    }
    CHECK(v4, "getifaddrs: lo with 127.0.0.1, up");
    freeifaddrs(ifa);
}

/* Send one dump request and count the answers until NLMSG_DONE. */
static int dump(int fd, int type, int *found_lo)
{
    struct {
        struct nlmsghdr h;
        unsigned char family, pad[3];
    } req = { { sizeof(req), (uint16_t)type, NLM_F_REQUEST | NLM_F_DUMP, 42, 0 }, AF_UNSPEC, { 0 } };
    struct sockaddr_nl k = { .nl_family = AF_NETLINK };
    if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k)) != sizeof(req))
        return -1;
    size_t fixed = type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg);
    int want = type == RTM_GETLINK ? IFLA_IFNAME : IFA_LABEL, msgs = 0;
    static char buf[8192];
    for (;;) {
        struct sockaddr_nl from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0 || from.nl_pid != 0)
            return -1;
        for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
            struct nlmsghdr *h = (void *)(buf + off);
            if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)n - off || h->nlmsg_seq != 42)
                return -1;
            if (h->nlmsg_type == NLMSG_DONE)
                return msgs;
            if (h->nlmsg_type == NLMSG_ERROR)
                return -1;
            msgs++;
            for (size_t a = ALIGN4(sizeof(*h) + fixed); a + sizeof(struct rtattr) <= h->nlmsg_len;) {
                struct rtattr *ra = (void *)((char *)h + a);
                if (ra->rta_len < sizeof(*ra))
                    break;
                if (ra->rta_type == want && !strcmp((char *)(ra + 1), "lo"))
                    *found_lo = 1;
                a += ALIGN4(ra->rta_len);
            }
            off += ALIGN4(h->nlmsg_len);
        }
    }
}

static void test_netlink(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    CHECK(fd >= 0, "socket(AF_NETLINK, NETLINK_ROUTE)");
    struct sockaddr_nl a = { .nl_family = AF_NETLINK };
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
    socklen_t l = sizeof(a);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0 && l == sizeof(a) && a.nl_family == AF_NETLINK &&
          a.nl_pid != 0, "getsockname: a port id (%u)", a.nl_pid);
    int lo = 0;
    int links = dump(fd, RTM_GETLINK, &lo);
    CHECK(links >= 1 && lo, "RTM_GETLINK dump: %d links, lo among them", links);
    lo = 0;
    int addrs = dump(fd, RTM_GETADDR, &lo);
    CHECK(addrs >= 1 && lo, "RTM_GETADDR dump: %d addresses, lo's among them", addrs);
    close(fd);
    CHECK_ERR(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT, "netlink SOCK_STREAM: ESOCKTNOSUPPORT");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_ioctls();
    test_getifaddrs();
    test_netlink();
    return check_exit();
}
