/* Validation of ELF64 executables before anything is mapped: every field the
 * loader relies on is checked against the file size and the address-space
 * limits, so a malformed file is refused with a reason instead of crashing
 * or half-loading. */
#include "exec/elf.h"
#include "lib/errno.h"
#include "lib/string.h"

#define REFUSE(msg)        \
    do {                   \
        *why = (msg);      \
        return -ENOEXEC;   \
    } while (0)

int elf_check_header(const void *buf, size_t len, uint64_t file_size, Elf64_Ehdr *out, const char **why)
{
    if (len < sizeof(Elf64_Ehdr) || file_size < sizeof(Elf64_Ehdr))
        REFUSE("too short to be an ELF executable");
    memcpy(out, buf, sizeof(*out));
    const Elf64_Ehdr *e = out;
    if (memcmp(e->e_ident, ELF_MAGIC, 4) != 0)
        REFUSE("not an ELF executable (bad magic)");
    if (e->e_ident[4] == 1)
        REFUSE("a 32-bit ELF file; Osprey runs x86-64 programs");
    if (e->e_ident[4] != ELFCLASS64)
        REFUSE("unknown ELF class");
    if (e->e_ident[5] != ELFDATA2LSB)
        REFUSE("not a little-endian ELF file");
    if (e->e_ident[6] != 1 || e->e_version != 1)
        REFUSE("unknown ELF version");
    if (e->e_machine != EM_X86_64)
        REFUSE("built for another architecture than x86-64");
    if (e->e_type != ET_EXEC && e->e_type != ET_DYN)
        REFUSE("not an executable (ELF type is neither EXEC nor DYN)");
    if (e->e_phentsize != sizeof(Elf64_Phdr))
        REFUSE("unexpected program header size");
    if (e->e_phnum == 0 || e->e_phnum > ELF_MAX_PHNUM)
        REFUSE("no program headers, or too many");
    uint64_t ph_bytes = (uint64_t)e->e_phnum * sizeof(Elf64_Phdr);
    if (e->e_phoff > file_size || ph_bytes > file_size - e->e_phoff)
        REFUSE("program headers lie past the end of the file");
    return 0;
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static int add_load(const Elf64_Phdr *p, uint64_t file_size, uint64_t user_top, struct elf_image *img,
                    const char **why)
{
    if (img->nload == ELF_MAX_LOADS)
        REFUSE("too many PT_LOAD segments");
    if (p->p_filesz > p->p_memsz)
        REFUSE("a segment's file size exceeds its memory size");
    if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset)
        REFUSE("a segment lies past the end of the file");
    if ((p->p_vaddr - p->p_offset) % ELF_PAGE_SIZE)
        REFUSE("a segment's address and file offset are not congruent modulo the page size");
    if (p->p_align > 1 && !is_pow2(p->p_align))
        REFUSE("a segment's alignment is not a power of two");
    if (p->p_memsz == 0)
        return 0; /* nothing to map */
    if (p->p_vaddr >= user_top || p->p_memsz > user_top - p->p_vaddr)
        REFUSE("a segment lies outside the application address space");
    if (img->nload) {
        const struct elf_segment *prev = &img->load[img->nload - 1];
        if (p->p_vaddr < prev->vaddr + prev->memsz)
            REFUSE("PT_LOAD segments overlap or are not in address order");
    }
    img->load[img->nload++] = (struct elf_segment){ p->p_vaddr, p->p_memsz, p->p_offset, p->p_filesz,
                                                     p->p_flags & (PF_R | PF_W | PF_X) };
    return 0;
}

/* The program headers' address: PT_PHDR, else the load that contains them. */
static uint64_t find_phdr_vaddr(const Elf64_Ehdr *eh, const struct elf_image *img, uint64_t pt_phdr)
{
    if (pt_phdr)
        return pt_phdr;
    uint64_t size = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    for (unsigned i = 0; i < img->nload; i++) {
        const struct elf_segment *s = &img->load[i];
        if (eh->e_phoff >= s->offset && eh->e_phoff + size <= s->offset + s->filesz)
            return s->vaddr + (eh->e_phoff - s->offset);
    }
    return 0;
}

static int check_entry(const struct elf_image *img, const char **why)
{
    for (unsigned i = 0; i < img->nload; i++) {
        const struct elf_segment *s = &img->load[i];
        if (img->entry >= s->vaddr && img->entry < s->vaddr + s->memsz) {
            if (!(s->flags & PF_X))
                REFUSE("the entry point is in a non-executable segment");
            return 0;
        }
    }
    REFUSE("the entry point lies outside every segment");
}

int elf_parse_phdrs(const Elf64_Ehdr *eh, const Elf64_Phdr *ph, uint64_t file_size, uint64_t user_top,
                    struct elf_image *img, const char **why)
{
    memset(img, 0, sizeof(*img));
    img->type = eh->e_type;
    img->entry = eh->e_entry;
    img->phoff = eh->e_phoff;
    img->phnum = eh->e_phnum;
    img->exec_stack = true; /* no PT_GNU_STACK: the historical default */
    uint64_t pt_phdr = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        int e;
        switch (p->p_type) {
        case PT_LOAD:
            if ((e = add_load(p, file_size, user_top, img, why)))
                return e;
            break;
        case PT_INTERP:
            if (img->has_interp)
                REFUSE("more than one PT_INTERP");
            if (p->p_filesz < 2 || p->p_filesz > ELF_INTERP_MAX)
                REFUSE("the interpreter path has a bad length");
            if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset)
                REFUSE("the interpreter path lies past the end of the file");
            img->has_interp = true;
            img->interp_offset = p->p_offset;
            img->interp_size = p->p_filesz;
            break;
        case PT_GNU_STACK:
            img->exec_stack = p->p_flags & PF_X;
            break;
        case PT_PHDR:
            pt_phdr = p->p_vaddr;
            break;
        case PT_TLS:
            if (p->p_filesz > p->p_memsz)
                REFUSE("the TLS segment's file size exceeds its memory size");
            img->has_tls = true;
            break;
        default:
            break;
        }
    }
    if (!img->nload)
        REFUSE("no loadable segment");
    img->lo = img->load[0].vaddr & ~(ELF_PAGE_SIZE - 1);
    const struct elf_segment *last = &img->load[img->nload - 1];
    img->hi = (last->vaddr + last->memsz + ELF_PAGE_SIZE - 1) & ~(ELF_PAGE_SIZE - 1);
    if (img->hi > user_top || img->hi <= img->lo)
        REFUSE("the segments do not fit in the application address space");
    img->phdr_vaddr = find_phdr_vaddr(eh, img, pt_phdr);
    return check_entry(img, why);
}
