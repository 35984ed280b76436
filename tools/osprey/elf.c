/* A small ELF64 reader for the dynamic linker's inputs: PT_INTERP and the
 * dynamic section's DT_NEEDED, DT_SONAME, DT_RUNPATH and DT_RPATH strings.
 * Every offset and size is checked against the file, so a malformed file
 * gets an error, never a crash. */
#include "elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct elf_file {
    const uint8_t *p;
    uint64_t size;
    const Elf64_Phdr *ph;
    unsigned phnum;
    const char *path;
    char *err;
    size_t errlen;
};

static enum elf_status bad(struct elf_file *f, enum elf_status s, const char *why)
{
    if (s == ELF_MALFORMED)
        snprintf(f->err, f->errlen, "%s is a malformed ELF file: %s", f->path, why);
    else
        snprintf(f->err, f->errlen, "%s %s", f->path, why);
    return s;
}

/* [off, off + len) lies inside the file */
static bool in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

static enum elf_status check_header(struct elf_file *f)
{
    if (f->size < 4 || memcmp(f->p, ELFMAG, SELFMAG) != 0)
        return bad(f, ELF_NOT_ELF, "is not an ELF file");
    if (f->size > EI_CLASS && f->p[EI_CLASS] == ELFCLASS32)
        return bad(f, ELF_WRONG_KIND, "is a 32-bit ELF file; Osprey runs x86-64 (64-bit) programs");
    if (f->size <= EI_CLASS || f->p[EI_CLASS] != ELFCLASS64)
        return bad(f, ELF_MALFORMED, "unknown ELF class");
    if (f->size < sizeof(Elf64_Ehdr))
        return bad(f, ELF_MALFORMED, "shorter than its ELF header");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->p;
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64) {
        char why[96];
        snprintf(why, sizeof(why), "is an ELF file for another CPU (machine %u); Osprey runs x86-64 programs",
                 eh->e_machine);
        return bad(f, ELF_WRONG_KIND, why);
    }
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return bad(f, ELF_WRONG_KIND, "is an ELF object or core file, not an executable or shared library");
    if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
        return bad(f, ELF_MALFORMED, "no usable program header table");
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return bad(f, ELF_MALFORMED, "unexpected program header size");
    if (eh->e_phoff % 8 || !in_file(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
        return bad(f, ELF_MALFORMED, "program headers lie outside the file");
    f->ph = (const Elf64_Phdr *)(f->p + eh->e_phoff);
    f->phnum = eh->e_phnum;
    return ELF_OK;
}

/* File offset of virtual address `addr` with `len` bytes after it, through
 * the PT_LOAD segment holding it; false when no segment holds it all. */
static bool vaddr_to_off(const struct elf_file *f, uint64_t addr, uint64_t len, uint64_t *off)
{
    for (unsigned i = 0; i < f->phnum; i++) {
        const Elf64_Phdr *ph = &f->ph[i];
        if (ph->p_type != PT_LOAD || addr < ph->p_vaddr || addr - ph->p_vaddr > ph->p_filesz ||
            len > ph->p_filesz - (addr - ph->p_vaddr))
            continue;
        *off = ph->p_offset + (addr - ph->p_vaddr);
        return in_file(f, *off, len);
    }
    return false;
}

static char *dup_string(const struct elf_file *f, uint64_t strtab, uint64_t strsz, uint64_t idx)
{
    if (idx >= strsz)
        return NULL;
    const char *s = (const char *)f->p + strtab + idx;
    const char *nul = memchr(s, '\0', (size_t)(strsz - idx));
    return nul ? xstrdup_n(s, (size_t)(nul - s)) : NULL;
}

static enum elf_status read_interp(struct elf_file *f, const Elf64_Phdr *ph, struct elf_info *info)
{
    if (info->interp)
        return bad(f, ELF_MALFORMED, "more than one PT_INTERP");
    if (!in_file(f, ph->p_offset, ph->p_filesz) || ph->p_filesz < 2 || ph->p_filesz > 4096)
        return bad(f, ELF_MALFORMED, "PT_INTERP lies outside the file or has a bad size");
    const char *s = (const char *)f->p + ph->p_offset;
    if (!memchr(s, '\0', (size_t)ph->p_filesz) || !s[0])
        return bad(f, ELF_MALFORMED, "PT_INTERP is not a NUL-terminated path");
    info->interp = xstrdup(s);
    return ELF_OK;
}

static enum elf_status read_dynamic(struct elf_file *f, const Elf64_Phdr *ph, struct elf_info *info)
{
    if (!in_file(f, ph->p_offset, ph->p_filesz) || ph->p_offset % 8)
        return bad(f, ELF_MALFORMED, "PT_DYNAMIC lies outside the file");
    const Elf64_Dyn *dyn = (const Elf64_Dyn *)(f->p + ph->p_offset);
    size_t n = (size_t)(ph->p_filesz / sizeof(Elf64_Dyn));
    uint64_t strtab_addr = 0, strsz = 0, strtab;
    bool have_strtab = false;
    for (size_t i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
        if (dyn[i].d_tag == DT_STRTAB)
            strtab_addr = dyn[i].d_un.d_ptr, have_strtab = true;
        else if (dyn[i].d_tag == DT_STRSZ)
            strsz = dyn[i].d_un.d_val;
    }
    bool want_strings = false;
    for (size_t i = 0; i < n && dyn[i].d_tag != DT_NULL; i++)
        want_strings |= dyn[i].d_tag == DT_NEEDED || dyn[i].d_tag == DT_SONAME ||
                        dyn[i].d_tag == DT_RUNPATH || dyn[i].d_tag == DT_RPATH;
    if (!want_strings)
        return ELF_OK;
    if (!have_strtab || !strsz || !vaddr_to_off(f, strtab_addr, strsz, &strtab))
        return bad(f, ELF_MALFORMED, "the dynamic string table (DT_STRTAB/DT_STRSZ) lies outside the file");
    for (size_t i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
        int64_t tag = dyn[i].d_tag;
        if (tag != DT_NEEDED && tag != DT_SONAME && tag != DT_RUNPATH && tag != DT_RPATH)
            continue;
        char *s = dup_string(f, strtab, strsz, dyn[i].d_un.d_val);
        if (!s)
            return bad(f, ELF_MALFORMED, "a dynamic entry's string lies outside the string table");
        char **slot = tag == DT_SONAME ? &info->soname : tag == DT_RUNPATH ? &info->runpath
                    : tag == DT_RPATH ? &info->rpath : NULL;
        if (!slot) {
            if (!*s) {
                free(s);
                return bad(f, ELF_MALFORMED, "an empty DT_NEEDED name");
            }
            strvec_push(&info->needed, s);
            free(s);
        } else if (!*slot) {
            *slot = s;
        } else {
            free(s);
        }
    }
    return ELF_OK;
}

static enum elf_status parse(struct elf_file *f, struct elf_info *info)
{
    enum elf_status s = check_header(f);
    if (s != ELF_OK)
        return s;
    info->type = ((const Elf64_Ehdr *)f->p)->e_type;
    bool seen_dynamic = false;
    for (unsigned i = 0; i < f->phnum && s == ELF_OK; i++) {
        if (f->ph[i].p_type == PT_INTERP) {
            s = read_interp(f, &f->ph[i], info);
        } else if (f->ph[i].p_type == PT_DYNAMIC) {
            if (seen_dynamic)
                return bad(f, ELF_MALFORMED, "more than one PT_DYNAMIC");
            seen_dynamic = true;
            s = read_dynamic(f, &f->ph[i], info);
        }
    }
    return s;
}

enum elf_status elf_read(const char *path, struct elf_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    struct elf_file f = { .path = path, .err = err, .errlen = errlen };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return ELF_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is not a regular file", path);
        return ELF_UNREADABLE;
    }
    f.size = (uint64_t)st.st_size;
    void *map = f.size ? mmap(NULL, (size_t)f.size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return ELF_UNREADABLE;
    }
    f.p = map;
    enum elf_status s = parse(&f, info);
    if (map)
        munmap(map, (size_t)f.size);
    if (s != ELF_OK)
        elf_info_free(info);
    return s;
}

void elf_info_free(struct elf_info *info)
{
    free(info->interp);
    free(info->soname);
    free(info->runpath);
    free(info->rpath);
    for (size_t i = 0; i < info->needed.n; i++)
        free(info->needed.v[i]);
    free(info->needed.v);
    memset(info, 0, sizeof(*info));
}
