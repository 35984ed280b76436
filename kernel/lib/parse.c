/* Strict number parsing for boot options and firmware strings. */
#include "lib/parse.h"
#include "lib/errno.h"

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

/* Parses digits at *sp; advances *sp past them. */
static int parse_digits(const char **sp, uint64_t *out)
{
    const char *s = *sp;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (digit_value(*s) >= (int)base)
        return -EINVAL;
    uint64_t v = 0;
    for (int d; (d = digit_value(*s)) < (int)base; s++) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return -ERANGE;
        v = v * base + (uint64_t)d;
    }
    *sp = s;
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v;
    int err = parse_digits(&s, &v);
    if (err)
        return err;
    if (*s)
        return -EINVAL;
    *out = v;
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    int err = parse_digits(&s, &v);
    if (err)
        return err;
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    case 't': case 'T': shift = 40; s++; break;
    default: break;
    }
    if (*s)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}
