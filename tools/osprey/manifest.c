/* OSv-style manifests: one "GUEST: HOST" mapping per line. HOST may be
 * relative (to the manifest's directory); a trailing slash-star-star on both
 * sides ("/usr/lib/foo/" followed by two stars) copies a tree;
 * "GUEST: ->TARGET" makes a symlink; lines starting with # are comments and
 * a "[manifest]" section line is ignored, so OSv's usr.manifest files read
 * as they are. */
#include "osprey.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Take off a trailing tree glob (slash, star, star); true when it was there. */
static bool strip_tree_glob(char *s)
{
    size_t n = strlen(s);
    if (n >= 3 && !strcmp(s + n - 3, "/**")) {
        s[n - 3] = '\0';
        if (n == 3)
            strcpy(s, "/");
        return true;
    }
    return false;
}

static int line_fail(char *err, size_t errlen, const char *file, unsigned line, const char *why)
{
    snprintf(err, errlen, "%s:%u: %s", file, line, why);
    return -1;
}

static int parse_line(char *s, const char *file, unsigned lineno, const char *base, struct manifest_entry *e,
                      char *err, size_t errlen)
{
    char *sep = strstr(s, ": ");
    if (!sep)
        sep = strrchr(s, ':');
    if (!sep)
        return line_fail(err, errlen, file, lineno, "expected \"GUEST: HOST\"");
    *sep = '\0';
    char *guest = trim(s), *host = trim(sep + 1);
    if (guest[0] != '/')
        return line_fail(err, errlen, file, lineno, "the guest path must be absolute");
    if (!*host)
        return line_fail(err, errlen, file, lineno, "no host path after the colon");
    if (!strncmp(host, "->", 2)) {
        char *target = trim(host + 2);
        if (!*target)
            return line_fail(err, errlen, file, lineno, "empty symlink target after ->");
        *e = (struct manifest_entry){ MANIFEST_LINK, xstrdup(guest), xstrdup(target), lineno };
        return 0;
    }
    bool gtree = strip_tree_glob(guest), htree = strip_tree_glob(host);
    if (gtree != htree)
        return line_fail(err, errlen, file, lineno, "use /** on both sides to copy a tree");
    if (strchr(guest, '*') || strchr(host, '*'))
        return line_fail(err, errlen, file, lineno, "only a trailing /** glob is supported");
    char *h = host[0] == '/' ? xstrdup(host) : xasprintf("%s/%s", base, host);
    *e = (struct manifest_entry){ gtree ? MANIFEST_TREE : MANIFEST_PATH, xstrdup(guest), h, lineno };
    return 0;
}

int manifest_parse(const char *text, const char *file, const char *base, struct manifest_entry **out,
                   size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    char *copy = xstrdup(text);
    unsigned lineno = 0;
    int rc = 0;
    for (char *line = copy, *next; line && !rc; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(line);
        if (!*s || s[0] == '#' || !strcmp(s, "[manifest]"))
            continue;
        struct manifest_entry e;
        rc = parse_line(s, file, lineno, base, &e, err, errlen);
        if (!rc) {
            *out = xrealloc(*out, (*count + 1) * sizeof(**out));
            (*out)[(*count)++] = e;
        }
    }
    free(copy);
    return rc;
}
