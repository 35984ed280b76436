/* libFuzzer target for the cpio newc parser: any input must parse or be
 * refused with a message, never read outside the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cpio_reader r;
    struct cpio_entry e;
    static char out[4096];
    cpio_reader_init(&r, data, size);
    int rc, n = 0;
    while ((rc = cpio_next(&r, &e)) == 1 && n++ < 100000) {
        /* touch everything the entry points at, so overreads show */
        volatile uint8_t sink = 0;
        for (uint64_t i = 0; i < e.filesize; i++)
            sink ^= e.data[i];
        (void)sink;
        if (strlen(e.name) != e.namelen)
            abort();
        cpio_normalize_name(e.name, e.namelen, out, sizeof(out));
    }
    if (rc < 0 && r.err[0] == '\0')
        abort(); /* every refusal says why */
    return 0;
}
