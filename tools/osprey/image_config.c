/* The image's settings section: a sequence of NUL-terminated "key=value"
 * records (argv= in order, boot=, env=NAME=VALUE, cwd=, memory= in MiB,
 * cpus=). Keys this version does not know are skipped, so later versions can
 * add settings without breaking older readers. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(char **buf, size_t *len, const char *key, const char *value)
{
    size_t k = strlen(key), v = strlen(value);
    *buf = xrealloc(*buf, *len + k + v + 2);
    memcpy(*buf + *len, key, k);
    (*buf)[*len + k] = '=';
    memcpy(*buf + *len + k + 1, value, v + 1);
    *len += k + v + 2;
}

void image_config_encode(const struct image_config *c, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    for (size_t i = 0; i < c->argv.n; i++)
        put(buf, len, "argv", c->argv.v[i]);
    for (size_t i = 0; i < c->boot.n; i++)
        put(buf, len, "boot", c->boot.v[i]);
    for (size_t i = 0; i < c->env.n; i++)
        put(buf, len, "env", c->env.v[i]);
    if (c->cwd)
        put(buf, len, "cwd", c->cwd);
    char num[32];
    if (c->memory_mib) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)c->memory_mib);
        put(buf, len, "memory", num);
    }
    if (c->cpus) {
        snprintf(num, sizeof(num), "%u", c->cpus);
        put(buf, len, "cpus", num);
    }
}

static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

static int decode_one(struct image_config *c, const char *rec, char *err, size_t errlen)
{
    const char *eq = strchr(rec, '=');
    if (!eq) {
        snprintf(err, errlen, "a setting without '=' in the settings section");
        return -1;
    }
    size_t klen = (size_t)(eq - rec);
    const char *v = eq + 1;
    uint64_t num;
#define KEY(k) (klen == strlen(k) && memcmp(rec, k, klen) == 0)
    if (KEY("argv")) {
        strvec_push(&c->argv, v);
    } else if (KEY("boot")) {
        strvec_push(&c->boot, v);
    } else if (KEY("env")) {
        strvec_push(&c->env, v);
    } else if (KEY("cwd")) {
        free(c->cwd);
        c->cwd = xstrdup(v);
    } else if (KEY("memory") || KEY("cpus")) {
        bool mem = KEY("memory");
        if (!parse_num(v, mem ? 1ull << 20 : 64, &num)) {
            snprintf(err, errlen, "bad %s setting \"%.40s\"", mem ? "memory" : "cpus", v);
            return -1;
        }
        if (mem)
            c->memory_mib = num;
        else
            c->cpus = (unsigned)num;
    }
#undef KEY
    return 0;
}

int image_config_decode(struct image_config *c, const char *buf, size_t len, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (len && buf[len - 1] != '\0') {
        snprintf(err, errlen, "the settings section does not end with a NUL");
        return -1;
    }
    for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
        if (decode_one(c, buf + off, err, errlen) != 0)
            return -1;
    return 0;
}
