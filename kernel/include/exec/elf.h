/* ELF64 executables: the on-disk structures and a validating parser. Pure
 * logic (no kernel services), so tests/unit checks it on the host. */
#pragma once

#include "lib/types.h"

#define ELF_MAGIC "\177ELF"
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_X86_64 62
#define ET_EXEC 2
#define ET_DYN 3

#define PT_NULL 0
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_EH_FRAME 0x6474e550
#define PT_GNU_STACK 0x6474e551
#define PT_GNU_RELRO 0x6474e552
#define PT_GNU_PROPERTY 0x6474e553

#define PF_X 1
#define PF_W 2
#define PF_R 4

#define ELF_PAGE_SIZE 4096ul
#define ELF_MAX_PHNUM 512      /* more program headers than any real binary has */
#define ELF_MAX_LOADS 16
#define ELF_INTERP_MAX 4096

typedef struct {
    uint8_t e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} Elf64_Ehdr;

typedef struct {
    uint32_t p_type, p_flags;
    uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} Elf64_Phdr;

struct elf_segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* What a loader needs, all addresses relative to the load bias (0 for ET_EXEC). */
struct elf_image {
    uint16_t type;
    uint64_t entry;
    uint64_t phoff;
    uint16_t phnum;
    struct elf_segment load[ELF_MAX_LOADS];
    unsigned nload;
    uint64_t lo, hi;           /* page-aligned extent of the PT_LOAD segments */
    uint64_t phdr_vaddr;       /* where the program headers are in memory, 0 if not loaded */
    bool has_interp;
    uint64_t interp_offset, interp_size; /* the PT_INTERP string, NUL included */
    bool exec_stack;           /* PT_GNU_STACK asks for an executable stack (or is absent) */
    bool has_tls;
};

/* Check the ELF header (the first `len` >= 64 bytes of a file of `file_size`
 * bytes). 0, or -ENOEXEC with *why saying what is wrong. */
int elf_check_header(const void *buf, size_t len, uint64_t file_size, Elf64_Ehdr *out, const char **why);
/* Check the program headers (phnum entries read from e_phoff) and fill img. */
int elf_parse_phdrs(const Elf64_Ehdr *eh, const Elf64_Phdr *ph, uint64_t file_size, uint64_t user_top,
                    struct elf_image *img, const char **why);
