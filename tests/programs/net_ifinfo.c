/* Prints the network configuration a program finds, for tests/test_net.py:
 * interfaces (SIOCGIFCONF, flags, MAC), getifaddrs, the host name and
 * /etc/resolv.conf and /etc/hosts. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static void cat(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f) {
        printf("%s: missing\n", path);
        return;
    }
    while (fgets(line, sizeof(line), f))
        printf("%s: %s", path, line);
    fclose(f);
}

int main(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0); /* also configures the network if boot did not */
    struct ifreq list[16];
    struct ifconf ic = { .ifc_len = sizeof(list), .ifc_req = list };
    ioctl(s, SIOCGIFCONF, &ic);
    for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++) {
        struct ifreq r = list[i];
        char addr[16], mask[16] = "?";
        inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_addr)->sin_addr, addr, sizeof(addr));
        if (ioctl(s, SIOCGIFNETMASK, &r) == 0)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_netmask)->sin_addr, mask, sizeof(mask));
        ioctl(s, SIOCGIFFLAGS, &r);
        int flags = r.ifr_flags;
        ioctl(s, SIOCGIFHWADDR, &r);
        unsigned char *m = (unsigned char *)r.ifr_hwaddr.sa_data;
        printf("if %s addr %s mask %s flags 0x%x mac %02x:%02x:%02x:%02x:%02x:%02x\n", r.ifr_name, addr, mask,
               flags, m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    struct ifaddrs *ifa;
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
                char addr[16];
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
                printf("ifaddr %s %s\n", i->ifa_name, addr);
            }
        freeifaddrs(ifa);
    }
    struct utsname u;
    uname(&u);
    printf("hostname %s\n", u.nodename);
    cat("/etc/resolv.conf");
    cat("/etc/hosts");
    close(s);
    return 0;
}
