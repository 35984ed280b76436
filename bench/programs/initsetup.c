/* osbench as a Linux guest's /init: what Debian's initramfs tools would do
 * before the benchmark, reduced to the few steps it needs.
 *
 *   --insmod FILE        load a kernel module (finit_module)
 *   --devtmpfs           mount devtmpfs on /dev (disks' nodes appear there)
 *   --ifup ADDR/LEN,GW   bring up lo and eth0 with a static address and a
 *                        default route (QEMU user networking: 10.0.2.15/24,10.0.2.2)
 *
 * The Debian cloud kernel has virtio, virtio-mmio, virtio-blk and virtio-net
 * as modules, so the initramfs carries them and /init loads them in order. */
#define _GNU_SOURCE
#include "osbench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int insmod(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "osbench: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    long r = syscall(SYS_finit_module, fd, "", 0);
    int err = errno;
    close(fd);
    if (r != 0 && err != EEXIST) {
        fprintf(stderr, "osbench: finit_module %s: %s\n", path, strerror(err));
        return -1;
    }
    return 0;
}

static void set_addr(struct sockaddr *sa, struct in_addr a)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
    memcpy(sa, &sin, sizeof(sin));
}

static int if_up(int s, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(s, SIOCSIFFLAGS, &ifr) == 0 ? 0 : -errno;
}

static int ifconfig(int s, const char *name, unsigned long req, struct in_addr a)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    set_addr(&ifr.ifr_addr, a);
    return ioctl(s, req, &ifr) == 0 ? 0 : -errno;
}

/* "10.0.2.15/24,10.0.2.2" */
static int ifup(const char *spec)
{
    char addr_s[64];
    snprintf(addr_s, sizeof(addr_s), "%s", spec);
    char *len_s = strchr(addr_s, '/'), *gw_s = strchr(addr_s, ',');
    if (!len_s || !gw_s || gw_s < len_s) {
        fprintf(stderr, "osbench: --ifup wants ADDR/LEN,GW\n");
        return -1;
    }
    *len_s++ = '\0';
    *gw_s++ = '\0';
    int len = atoi(len_s);
    struct in_addr addr, gw, mask = { htonl(len ? ~0u << (32 - len) : 0) };
    if (inet_pton(AF_INET, addr_s, &addr) != 1 || inet_pton(AF_INET, gw_s, &gw) != 1 || len < 0 ||
        len > 32) {
        fprintf(stderr, "osbench: --ifup: bad address in %s\n", spec);
        return -1;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int err = if_up(s, "lo");
    /* eth0 exists once virtio_net has bound its device; allow it a moment */
    for (int tries = 0; tries < 50; tries++) {
        err = ifconfig(s, "eth0", SIOCSIFADDR, addr);
        if (err != -ENODEV)
            break;
        struct timespec nap = { 0, 100 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    if (!err)
        err = ifconfig(s, "eth0", SIOCSIFNETMASK, mask);
    if (!err)
        err = if_up(s, "eth0");
    if (!err) {
        struct rtentry rt;
        memset(&rt, 0, sizeof(rt));
        struct in_addr any = { 0 };
        set_addr(&rt.rt_dst, any);
        set_addr(&rt.rt_genmask, any);
        set_addr(&rt.rt_gateway, gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        if (ioctl(s, SIOCADDRT, &rt) != 0)
            err = -errno;
    }
    close(s);
    if (err) {
        fprintf(stderr, "osbench: --ifup %s: %s\n", spec, strerror(-err));
        return -1;
    }
    return 0;
}

/* Handle the init options at argv[0..]; returns how many words they took,
 * or -1 when one failed. */
int init_options(int argc, char **argv)
{
    int i = 0;
    while (i < argc) {
        if (strcmp(argv[i], "--insmod") == 0 && i + 1 < argc) {
            if (insmod(argv[i + 1]) != 0)
                return -1;
            i += 2;
        } else if (strcmp(argv[i], "--ifup") == 0 && i + 1 < argc) {
            if (ifup(argv[i + 1]) != 0)
                return -1;
            i += 2;
        } else if (strcmp(argv[i], "--devtmpfs") == 0) {
            if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0) {
                perror("osbench: mount devtmpfs on /dev");
                return -1;
            }
            i++;
        } else {
            break;
        }
    }
    return i;
}
