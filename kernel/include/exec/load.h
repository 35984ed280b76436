/* Mapping ELF images into the application's address space (exec's helpers). */
#pragma once

#include "exec/elf.h"

struct file;
struct vm_space;

/* Read and check the headers of the ELF file f (size bytes). */
int exec_read_image(struct file *f, uint64_t size, struct elf_image *img, const char **why);
/* Map img's segments from f. ET_DYN images go near want_base (0: the mmap
 * area); *bias_out gets what was added to every address. */
int exec_map_image(struct vm_space *vm, struct file *f, const struct elf_image *img, uint64_t want_base,
                   uint64_t *bias_out);
