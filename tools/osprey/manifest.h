/* Manifest files (manifest.c). */
#pragma once

#include <stddef.h>

enum manifest_kind { MANIFEST_PATH, MANIFEST_TREE, MANIFEST_LINK };

struct manifest_entry {
    enum manifest_kind kind;
    char *guest;
    char *host;          /* MANIFEST_LINK: the link's target */
    unsigned line;
};

/* 0, or -1 with "FILE:LINE: reason" in err. */
int manifest_parse(const char *text, const char *file, const char *base, struct manifest_entry **out,
                   size_t *count, char *err, size_t errlen);
