/* Memory and string routines. Bulk copies use the quadword string instructions,
 * which are fast both natively and under emulation (the byte forms are not). */
#include "lib/string.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    void *ret = dst;
    size_t quads = n >> 3, tail = n & 7;
    __asm__ __volatile__("rep movsq" : "+D"(dst), "+S"(src), "+c"(quads) : : "memory");
    __asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(tail) : : "memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    /* Overlapping with dst above src: copy backwards. */
    while (n && (n & 7)) {
        n--;
        d[n] = s[n];
    }
    if (n) {
        size_t quads = n >> 3;
        const void *sp = s + n - 8;
        void *dp = d + n - 8;
        __asm__ __volatile__("std\n\trep movsq\n\tcld"
                             : "+D"(dp), "+S"(sp), "+c"(quads) : : "memory");
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *ret = dst;
    uint64_t pattern = 0x0101010101010101ull * (unsigned char)c;
    size_t quads = n >> 3, tail = n & 7;
    __asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(quads) : "a"(pattern) : "memory");
    __asm__ __volatile__("rep stosb" : "+D"(dst), "+c"(tail) : "a"(pattern) : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i++)
        if (p[i] == (unsigned char)c)
            return (void *)(p + i);
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}
