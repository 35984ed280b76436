/* libFuzzer target for the ELF validator: any bytes, treated as a whole
 * file, must be accepted or refused with -ENOEXEC without reading outside the
 * buffer; an accepted image's segments all lie inside the file and the
 * application half. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/elf.h"
#include "lib/errno.h"

#define USER_TOP_FUZZ 0x00007ffffffff000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Elf64_Ehdr eh;
    const char *why = NULL;
    if (elf_check_header(data, size, size, &eh, &why) != 0)
        return 0;
    /* the loader reads exactly the program headers the header names */
    size_t ph_bytes = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    Elf64_Phdr *ph = malloc(ph_bytes);
    memcpy(ph, data + eh.e_phoff, ph_bytes);
    struct elf_image img;
    int e = elf_parse_phdrs(&eh, ph, size, USER_TOP_FUZZ, &img, &why);
    if (e == 0) {
        for (unsigned i = 0; i < img.nload; i++) {
            const struct elf_segment *s = &img.load[i];
            if (s->offset + s->filesz > size || s->vaddr + s->memsz > USER_TOP_FUZZ || s->filesz > s->memsz)
                abort();
        }
        if (img.has_interp && img.interp_offset + img.interp_size > size)
            abort();
    } else if (e != -ENOEXEC || !why) {
        abort();
    }
    free(ph);
    return 0;
}
