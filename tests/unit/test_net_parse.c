/* Host tests of the network boot option parsers: IPv4 addresses, --ip,
 * netmasks (dotted and prefix lengths) and address lists. */
#include "unit.h"
#include <string.h>

#include "lib/errno.h"
#include "net/net_parse.h"

static uint32_t addr(const char *s)
{
    uint32_t a = 0xdeadbeef;
    return net_parse_ipv4(s, strlen(s), &a) == 0 ? a : 0xdeadbeef;
}

UNIT_TEST(net_parse_ipv4_addresses)
{
    CHECK_EQ(addr("10.0.2.15"), 0x0f02000a);
    CHECK_EQ(addr("0.0.0.0"), 0);
    CHECK_EQ(addr("255.255.255.255"), 0xffffffff);
    CHECK_EQ(addr("192.168.1.100"), 0x6401a8c0);
    const char *bad[] = { "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", ".1.2.3", "1.2.3.",
                          "01.2.3.4", "1.2.3.4a", "a.b.c.d", "1.2.3.1000", "-1.2.3.4", " 1.2.3.4" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(addr(bad[i]), 0xdeadbeef);
    uint32_t a;
    CHECK_EQ(net_parse_ipv4("10.0.0.1,rest", 8, &a), 0); /* a length bounds the text */
    CHECK_EQ(a, 0x0100000a);
    char buf[16];
    CHECK_EQ(net_format_ipv4(0x0f02000a, buf, sizeof(buf)), 9);
    CHECK_STR(buf, "10.0.2.15");
}

UNIT_TEST(net_parse_ip_options)
{
    struct net_static_ip ip;
    char err[200];
    CHECK_EQ(net_parse_ip_option("eth0,192.168.122.10,255.255.255.0", &ip, err, sizeof(err)), 0);
    CHECK_STR(ip.ifname, "eth0");
    CHECK_EQ(ip.addr, 0x0a7aa8c0);
    CHECK_EQ(ip.mask, 0x00ffffff);
    CHECK_EQ(net_parse_ip_option("eth1,10.1.2.3,16", &ip, err, sizeof(err)), 0);
    CHECK_EQ(ip.mask, 0x0000ffff);
    CHECK_EQ(net_parse_ip_option("eth1,10.1.2.3,0", &ip, err, sizeof(err)), 0);
    CHECK_EQ(ip.mask, 0);
    CHECK_EQ(net_parse_ip_option("eth1,10.1.2.3,32", &ip, err, sizeof(err)), 0);
    CHECK_EQ(ip.mask, 0xffffffff);
    CHECK_EQ(net_parse_ip_option("eth0,10.0.0.1", &ip, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "IFACE,ADDR,MASK") != NULL);
    CHECK_EQ(net_parse_ip_option("eth0,10.0.0.1,255.0.255.0", &ip, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "not a netmask") != NULL);
    CHECK_EQ(net_parse_ip_option("eth0,10.0.0.1,33", &ip, err, sizeof(err)), -EINVAL);
    CHECK_EQ(net_parse_ip_option("eth0,10.0.0.300,24", &ip, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "not an IPv4 address") != NULL);
    CHECK_EQ(net_parse_ip_option(",10.0.0.1,24", &ip, err, sizeof(err)), -EINVAL);
    CHECK_EQ(net_parse_ip_option("averyveryverylongname0,10.0.0.1,24", &ip, err, sizeof(err)), -EINVAL);
    CHECK_EQ(net_parse_ip_option("eth0,10.0.0.1,24,x", &ip, err, sizeof(err)), -EINVAL);
}

UNIT_TEST(net_parse_addr_lists)
{
    uint32_t a[3];
    unsigned n;
    CHECK_EQ(net_parse_addr_list("1.1.1.1", a, 3, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(a[0], 0x01010101);
    CHECK_EQ(net_parse_addr_list("1.1.1.1,8.8.8.8,9.9.9.9", a, 3, &n), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(a[1], 0x08080808);
    CHECK_EQ(net_parse_addr_list("1.1.1.1,8.8.8.8,9.9.9.9,1.0.0.1", a, 3, &n), -E2BIG);
    CHECK_EQ(net_parse_addr_list("1.1.1.1,", a, 3, &n), -EINVAL);
    CHECK_EQ(net_parse_addr_list("", a, 3, &n), -EINVAL);
    CHECK_EQ(net_parse_addr_list("x", a, 3, &n), -EINVAL);
}
