/* Parsing of the network boot options (pure; unit tested on the host):
 * dotted IPv4 addresses, --ip=IFACE,ADDR,MASK and address lists. */
#include "net/net_parse.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"

int net_parse_ipv4(const char *s, size_t len, uint32_t *out)
{
    uint32_t host = 0;
    unsigned parts = 0, digits = 0, part = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';
        if (c >= '0' && c <= '9') {
            if (digits == 3 || (digits == 1 && part == 0))
                return -EINVAL; /* too long, or a leading zero (octal in inet_aton) */
            part = part * 10 + (unsigned)(c - '0');
            digits++;
            continue;
        }
        if (c != '.' || digits == 0 || part > 255 || parts == 4)
            return -EINVAL;
        host = host << 8 | part;
        parts++;
        part = digits = 0;
    }
    if (parts != 4)
        return -EINVAL;
    *out = __builtin_bswap32(host); /* network order */
    return 0;
}

/* A netmask: dotted with contiguous ones, or a prefix length 0..32. */
static int parse_mask(const char *s, size_t len, uint32_t *out)
{
    if (len && len <= 2 && s[0] >= '0' && s[0] <= '9' && (len == 1 || (s[1] >= '0' && s[1] <= '9'))) {
        unsigned bits = len == 1 ? (unsigned)(s[0] - '0') : (unsigned)((s[0] - '0') * 10 + s[1] - '0');
        if (bits > 32)
            return -EINVAL;
        uint32_t host = bits ? ~0u << (32 - bits) : 0;
        *out = __builtin_bswap32(host);
        return 0;
    }
    uint32_t m;
    if (net_parse_ipv4(s, len, &m))
        return -EINVAL;
    uint32_t host = __builtin_bswap32(m);
    if (host & (~host >> 1))
        return -EINVAL; /* the ones must come first */
    *out = m;
    return 0;
}

int net_parse_ip_option(const char *value, struct net_static_ip *ip, char *err, size_t errlen)
{
    memset(ip, 0, sizeof(*ip));
    const char *c1 = strchr(value, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ',')) {
        snprintf(err, errlen, "--ip=%s: expected IFACE,ADDR,MASK (e.g. eth0,192.168.122.10,255.255.255.0)",
                 value);
        return -EINVAL;
    }
    size_t nlen = (size_t)(c1 - value);
    if (nlen == 0 || nlen >= sizeof(ip->ifname)) {
        snprintf(err, errlen, "--ip=%s: bad interface name", value);
        return -EINVAL;
    }
    memcpy(ip->ifname, value, nlen);
    if (net_parse_ipv4(c1 + 1, (size_t)(c2 - c1 - 1), &ip->addr)) {
        snprintf(err, errlen, "--ip=%s: \"%.*s\" is not an IPv4 address", value, (int)(c2 - c1 - 1), c1 + 1);
        return -EINVAL;
    }
    if (parse_mask(c2 + 1, strlen(c2 + 1), &ip->mask)) {
        snprintf(err, errlen, "--ip=%s: \"%s\" is not a netmask", value, c2 + 1);
        return -EINVAL;
    }
    return 0;
}

int net_parse_addr_list(const char *value, uint32_t *out, unsigned max, unsigned *count)
{
    *count = 0;
    const char *p = value;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        uint32_t a;
        if (net_parse_ipv4(p, len, &a))
            return -EINVAL;
        if (*count == max)
            return -E2BIG;
        out[(*count)++] = a;
        if (!end)
            return 0;
        p = end + 1;
    }
}

size_t net_format_ipv4(uint32_t addr, char *buf, size_t size)
{
    const uint8_t *b = (const uint8_t *)&addr;
    return (size_t)snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}
