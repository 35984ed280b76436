/* <stdlib.h> for lwIP's sources: netif.c parses interface numbers with atoi. */
#pragma once

static inline int atoi(const char *s)
{
    int v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}
