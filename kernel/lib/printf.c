/* vsnprintf: the subset of C99 formatting the kernel needs (integers, strings,
 * pointers, chars; flags - 0 + space #; width and precision; hh h l ll z t j). */
#include "lib/printf.h"
#include "lib/string.h"

struct out {
    char *buf;
    size_t size, len;
};

static void out_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        out_char(o, c);
}

struct spec {
    bool left, zero, plus, space, alt;
    int width, precision; /* precision -1 when absent */
};

static void out_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    size_t len = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
    if (!sp->left)
        out_repeat(o, ' ', sp->width - (int)len);
    for (size_t i = 0; i < len; i++)
        out_char(o, s[i]);
    if (sp->left)
        out_repeat(o, ' ', sp->width - (int)len);
}

static void out_number(struct out *o, const struct spec *sp, uint64_t v, bool negative,
                       unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    if (sp->precision < 0 && n == 0)
        tmp[n++] = '0';
    int zeros = sp->precision > n ? sp->precision - n : 0;
    char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int plen = prefix ? (int)strlen(prefix) : 0;
    int total = n + zeros + (sign ? 1 : 0) + plen;
    if (sp->zero && !sp->left && sp->precision < 0) {
        zeros += sp->width - total;
        total = sp->width;
    }
    if (!sp->left)
        out_repeat(o, ' ', sp->width - total);
    if (sign)
        out_char(o, sign);
    for (int i = 0; i < plen; i++)
        out_char(o, prefix[i]);
    out_repeat(o, '0', zeros);
    while (n)
        out_char(o, tmp[--n]);
    if (sp->left)
        out_repeat(o, ' ', sp->width - total);
}

static const char *parse_spec(const char *fmt, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){ .precision = -1 };
    for (;; fmt++) {
        if (*fmt == '-') sp->left = true;
        else if (*fmt == '0') sp->zero = true;
        else if (*fmt == '+') sp->plus = true;
        else if (*fmt == ' ') sp->space = true;
        else if (*fmt == '#') sp->alt = true;
        else break;
    }
    if (*fmt == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->left = true;
            sp->width = -sp->width;
        }
        fmt++;
    } else {
        while (*fmt >= '0' && *fmt <= '9')
            sp->width = sp->width * 10 + (*fmt++ - '0');
    }
    if (*fmt == '.') {
        fmt++;
        sp->precision = 0;
        if (*fmt == '*') {
            sp->precision = va_arg(*ap, int);
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp->precision = sp->precision * 10 + (*fmt++ - '0');
        }
    }
    return fmt;
}

/* Length modifier → size in bytes of the integer argument (0 = int). */
static const char *parse_length(const char *fmt, int *size)
{
    *size = 0;
    if (fmt[0] == 'h' && fmt[1] == 'h') { *size = 1; return fmt + 2; }
    if (fmt[0] == 'h') { *size = 2; return fmt + 1; }
    if (fmt[0] == 'l' && fmt[1] == 'l') { *size = 8; return fmt + 2; }
    if (fmt[0] == 'l' || fmt[0] == 'z' || fmt[0] == 't' || fmt[0] == 'j') { *size = 8; return fmt + 1; }
    return fmt;
}

static uint64_t fetch_unsigned(va_list *ap, int size)
{
    switch (size) {
    case 1: return (unsigned char)va_arg(*ap, unsigned int);
    case 2: return (unsigned short)va_arg(*ap, unsigned int);
    case 8: return va_arg(*ap, uint64_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static int64_t fetch_signed(va_list *ap, int size)
{
    switch (size) {
    case 1: return (signed char)va_arg(*ap, int);
    case 2: return (short)va_arg(*ap, int);
    case 8: return va_arg(*ap, int64_t);
    default: return va_arg(*ap, int);
    }
}

static void format_one(struct out *o, char conv, struct spec *sp, int size, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        int64_t v = fetch_signed(ap, size);
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        out_number(o, sp, mag, v < 0, 10, false, NULL);
        break;
    }
    case 'u':
        out_number(o, sp, fetch_unsigned(ap, size), false, 10, false, NULL);
        break;
    case 'x':
    case 'X': {
        uint64_t v = fetch_unsigned(ap, size);
        out_number(o, sp, v, false, 16, conv == 'X', sp->alt && v ? (conv == 'X' ? "0X" : "0x") : NULL);
        break;
    }
    case 'o':
        out_number(o, sp, fetch_unsigned(ap, size), false, 8, false, sp->alt ? "0" : NULL);
        break;
    case 'p': {
        uintptr_t v = (uintptr_t)va_arg(*ap, void *);
        out_number(o, sp, v, false, 16, false, "0x");
        break;
    }
    case 's':
        out_string(o, sp, va_arg(*ap, const char *));
        break;
    case 'c': {
        char c[2] = { (char)va_arg(*ap, int), 0 };
        struct spec one = *sp;
        one.precision = 1;
        out_string(o, &one, c);
        break;
    }
    case '%':
        out_char(o, '%');
        break;
    default: /* unknown conversion: print it verbatim so the mistake is visible */
        out_char(o, '%');
        out_char(o, conv);
        break;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            out_char(&o, *fmt++);
            continue;
        }
        struct spec sp;
        int len;
        fmt = parse_spec(fmt + 1, &sp, &args);
        fmt = parse_length(fmt, &len);
        if (!*fmt)
            break;
        format_one(&o, *fmt++, &sp, len, &args);
    }
    va_end(args);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
