/* Tests of the manifest parser: mappings, trees, symlinks, comments and the
 * FILE:LINE errors. */
#include "selftest.h"
#include "manifest.h"

#include <string.h>

static int parse(const char *text, struct manifest_entry **e, size_t *n, char *err)
{
    return manifest_parse(text, "usr.manifest", "/base", e, n, err, 256);
}

void st_manifest(void)
{
    struct manifest_entry *e;
    size_t n;
    char err[256];
    const char *text = "[manifest]\n"
                       "# a comment\n"
                       "\n"
                       "/hello: hello\n"
                       "  /etc/app.conf:  /srv/conf/app.conf  \n"
                       "/usr/lib/python3/**: /usr/lib/python3.11/**\n"
                       "/bin/sh: ->/bin/busybox\n"
                       "/data: ./data\n";
    CHECK(parse(text, &e, &n, err) == 0 && n == 5);
    CHECK(e[0].kind == MANIFEST_PATH && !strcmp(e[0].guest, "/hello") && !strcmp(e[0].host, "/base/hello"));
    CHECK(e[0].line == 4);
    CHECK(e[1].kind == MANIFEST_PATH && !strcmp(e[1].host, "/srv/conf/app.conf"));
    CHECK(e[2].kind == MANIFEST_TREE && !strcmp(e[2].guest, "/usr/lib/python3") &&
          !strcmp(e[2].host, "/usr/lib/python3.11"));
    CHECK(e[3].kind == MANIFEST_LINK && !strcmp(e[3].guest, "/bin/sh") && !strcmp(e[3].host, "/bin/busybox"));
    CHECK(!strcmp(e[4].host, "/base/./data"));

    CHECK(parse("/ok: x\nrelative: x\n", &e, &n, err) == -1 && !strcmp(err, "usr.manifest:2: the guest path must be absolute"));
    CHECK(parse("/a/**: /b\n", &e, &n, err) == -1 && strstr(err, ":1: use /** on both sides"));
    CHECK(parse("/a/*.py: /b/*.py\n", &e, &n, err) == -1 && strstr(err, "only a trailing /** glob"));
    CHECK(parse("/a\n", &e, &n, err) == -1 && strstr(err, "expected \"GUEST: HOST\""));
    CHECK(parse("/a: \n", &e, &n, err) == -1 && strstr(err, "no host path"));
    CHECK(parse("/a: ->\n", &e, &n, err) == -1 && strstr(err, "empty symlink target"));
    CHECK(parse("", &e, &n, err) == 0 && n == 0);
}
