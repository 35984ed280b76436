/* Building the initial stack (see exec/stack.h). From the top down: an
 * 8-byte end marker, the program path, the environment and argument strings,
 * the platform string and the 16 random bytes, then (16-byte aligned) argc,
 * argv[], NULL, envp[], NULL, the auxv pairs and AT_NULL. */
#include "exec/stack.h"
#include "lib/errno.h"
#include "lib/string.h"

struct stack_builder {
    uint8_t *buf;
    size_t len;   /* bytes used, from the end of buf */
    size_t cap;
    uint64_t top;
};

static uint64_t push_bytes(struct stack_builder *b, const void *p, size_t n, bool *ok)
{
    if (n > b->cap - b->len) {
        *ok = false;
        return 0;
    }
    b->len += n;
    memcpy(b->buf + b->cap - b->len, p, n);
    return b->top - b->len;
}

static uint64_t push_string(struct stack_builder *b, const char *s, bool *ok)
{
    return push_bytes(b, s, strlen(s) + 1, ok);
}

int exec_build_stack(uint8_t *buf, size_t buflen, uint64_t top, const struct exec_stack_args *a, uint64_t *sp,
                     size_t *used, uint64_t *auxv_out, size_t *auxv_len)
{
    struct stack_builder b = { buf, 0, buflen, top };
    bool ok = true;
    uint64_t zero = 0;
    push_bytes(&b, &zero, sizeof(zero), &ok);
    uint64_t execfn = push_string(&b, a->execfn, &ok);
    uint64_t env_ptr[a->envc ? a->envc : 1], arg_ptr[a->argc ? a->argc : 1];
    for (unsigned i = a->envc; i-- > 0;)
        env_ptr[i] = push_string(&b, a->envp[i], &ok);
    for (unsigned i = a->argc; i-- > 0;)
        arg_ptr[i] = push_string(&b, a->argv[i], &ok);
    uint64_t platform = push_string(&b, a->platform, &ok);
    b.len = ALIGN_UP(b.len, (size_t)16);
    uint64_t random = push_bytes(&b, a->random, sizeof(a->random), &ok);
    if (!ok)
        return -E2BIG;

    /* The vector below the strings, written as one array of words. */
    unsigned nwords = 1 + a->argc + 1 + a->envc + 1 + 2 * (a->nauxv + 4);
    size_t vec_bytes = nwords * 8ul;
    size_t start = ALIGN_UP(b.len + vec_bytes, (size_t)16); /* argc lands on a 16-byte boundary */
    if (start > b.cap)
        return -E2BIG;
    uint64_t *w = (uint64_t *)(void *)(b.buf + b.cap - start);
    unsigned k = 0;
    w[k++] = a->argc;
    for (unsigned i = 0; i < a->argc; i++)
        w[k++] = arg_ptr[i];
    w[k++] = 0;
    for (unsigned i = 0; i < a->envc; i++)
        w[k++] = env_ptr[i];
    w[k++] = 0;
    unsigned auxv_first = k;
    for (unsigned i = 0; i < 2 * a->nauxv; i++)
        w[k++] = a->auxv[i];
    w[k++] = AT_RANDOM;
    w[k++] = random;
    w[k++] = AT_EXECFN;
    w[k++] = execfn;
    w[k++] = AT_PLATFORM;
    w[k++] = platform;
    w[k++] = AT_NULL;
    w[k++] = 0;
    if (auxv_out)
        memcpy(auxv_out, &w[auxv_first], (k - auxv_first) * 8ul);
    if (auxv_len)
        *auxv_len = (k - auxv_first) * 8ul;
    /* the gap between the vector and the strings, if alignment made one, is zero */
    memset(b.buf + b.cap - start + vec_bytes, 0, start - vec_bytes - b.len);
    *used = start;
    *sp = top - start;
    return 0;
}
