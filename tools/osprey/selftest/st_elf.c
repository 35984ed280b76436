/* Tests of the ELF64 dynamic-section reader on generated files: a good one,
 * and each way a header, segment or string can point outside the file. */
#include "selftest.h"
#include "elfdeps.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define ELF_SIZE 1024
#define PH_OFF 64
#define INTERP_OFF 256
#define STR_OFF 512
#define DYN_OFF 768

/* A small ET_DYN/ET_EXEC image: one PT_LOAD mapping the whole file at 0,
 * PT_INTERP (optional), PT_DYNAMIC with the strings in DT_STRTAB. */
static void build_elf(uint8_t *buf, const struct elf_spec *s)
{
    memset(buf, 0, ELF_SIZE);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = s->type ? s->type : ET_DYN;
    eh->e_machine = EM_X86_64;
    eh->e_phoff = PH_OFF;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + PH_OFF);
    unsigned n = 0;
    ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0, .p_filesz = ELF_SIZE, .p_memsz = ELF_SIZE };
    if (s->interp) {
        strcpy((char *)buf + INTERP_OFF, s->interp);
        ph[n++] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = INTERP_OFF, .p_filesz = strlen(s->interp) + 1 };
    }
    char *str = (char *)buf + STR_OFF;
    size_t slen = 1;
    Elf64_Dyn *dyn = (Elf64_Dyn *)(buf + DYN_OFF);
    unsigned nd = 0;
#define ADD_STR(tag, text)                                         \
    do {                                                           \
        dyn[nd++] = (Elf64_Dyn){ tag, { slen } };                  \
        strcpy(str + slen, text);                                  \
        slen += strlen(text) + 1;                                  \
    } while (0)
    for (int i = 0; i < 4 && s->needed[i]; i++)
        ADD_STR(DT_NEEDED, s->needed[i]);
    if (s->runpath)
        ADD_STR(DT_RUNPATH, s->runpath);
    if (s->soname)
        ADD_STR(DT_SONAME, s->soname);
#undef ADD_STR
    dyn[nd++] = (Elf64_Dyn){ DT_STRTAB, { STR_OFF } };
    dyn[nd++] = (Elf64_Dyn){ DT_STRSZ, { slen } };
    dyn[nd++] = (Elf64_Dyn){ DT_NULL, { 0 } };
    ph[n++] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_offset = DYN_OFF, .p_filesz = nd * sizeof(Elf64_Dyn) };
    eh->e_phnum = (uint16_t)n;
}

void st_write_elf(const char *path, const struct elf_spec *s)
{
    uint8_t buf[ELF_SIZE];
    build_elf(buf, s);
    st_write_file(path, buf, ELF_SIZE);
}

static enum elf_status read_buf(const uint8_t *buf, size_t n, struct elf_info *info, char *err, size_t errlen)
{
    char *path = st_path("t.elf");
    st_write_file(path, buf, n);
    enum elf_status s = elf_read(path, info, err, errlen);
    free(path);
    return s;
}

static bool malformed(const uint8_t *buf, size_t n, const char *why)
{
    struct elf_info info;
    char err[512];
    enum elf_status s = read_buf(buf, n, &info, err, sizeof(err));
    bool ok = s == ELF_MALFORMED && strstr(err, "is a malformed ELF file") && strstr(err, why);
    if (!ok)
        fprintf(stderr, "  want malformed (%s), got %d: %s\n", why, s, s ? err : "ok");
    return ok;
}

static void good_file(void)
{
    struct elf_spec spec = { .interp = "/lib64/ld-test.so.2", .needed = { "libfoo.so.1", "libbar.so" },
                             .runpath = "$ORIGIN/../lib", .soname = "libself.so" };
    uint8_t buf[ELF_SIZE];
    build_elf(buf, &spec);
    struct elf_info info;
    char err[512];
    CHECK(read_buf(buf, ELF_SIZE, &info, err, sizeof(err)) == ELF_OK);
    CHECK(info.interp && !strcmp(info.interp, "/lib64/ld-test.so.2"));
    CHECK(info.needed.n == 2 && !strcmp(info.needed.v[0], "libfoo.so.1") && !strcmp(info.needed.v[1], "libbar.so"));
    CHECK(info.runpath && !strcmp(info.runpath, "$ORIGIN/../lib") && !info.rpath);
    CHECK(info.soname && !strcmp(info.soname, "libself.so") && info.type == ET_DYN);
    elf_info_free(&info);
    /* the test binary itself: a glibc dynamic executable */
    CHECK(elf_read("/proc/self/exe", &info, err, sizeof(err)) == ELF_OK);
    CHECK(info.interp != NULL && info.needed.n >= 1);
    bool libc = false;
    for (size_t i = 0; i < info.needed.n; i++)
        libc |= !strcmp(info.needed.v[i], "libc.so.6");
    CHECK(libc);
    elf_info_free(&info);
}

static void bad_files(void)
{
    struct elf_spec spec = { .interp = "/lib64/ld-test.so.2", .needed = { "libfoo.so.1" } };
    uint8_t buf[ELF_SIZE];
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + PH_OFF);
    Elf64_Dyn *dyn = (Elf64_Dyn *)(buf + DYN_OFF);

    build_elf(buf, &spec);
    CHECK(malformed(buf, 40, "shorter than its ELF header"));
    build_elf(buf, &spec), eh->e_phoff = 4000;
    CHECK(malformed(buf, ELF_SIZE, "program headers lie outside"));
    build_elf(buf, &spec), eh->e_phnum = 60000;
    CHECK(malformed(buf, ELF_SIZE, "program headers lie outside"));
    build_elf(buf, &spec), ph[1].p_offset = 1020;
    CHECK(malformed(buf, ELF_SIZE, "PT_INTERP"));
    build_elf(buf, &spec), ph[1].p_filesz = 4; /* no NUL inside */
    CHECK(malformed(buf, ELF_SIZE, "PT_INTERP is not a NUL-terminated path"));
    build_elf(buf, &spec), ph[2].p_offset = 0xffffffffffffff00ull;
    CHECK(malformed(buf, ELF_SIZE, "PT_DYNAMIC lies outside"));
    build_elf(buf, &spec), dyn[1].d_un.d_ptr = 5000; /* DT_STRTAB */
    CHECK(malformed(buf, ELF_SIZE, "string table"));
    build_elf(buf, &spec), dyn[2].d_un.d_val = 1ull << 40; /* DT_STRSZ */
    CHECK(malformed(buf, ELF_SIZE, "string table"));
    build_elf(buf, &spec), dyn[0].d_un.d_val = 300; /* DT_NEEDED beyond DT_STRSZ */
    CHECK(malformed(buf, ELF_SIZE, "string lies outside"));
    build_elf(buf, &spec), eh->e_phentsize = 12;
    CHECK(malformed(buf, ELF_SIZE, "program header size"));

    struct elf_info info;
    char err[512];
    build_elf(buf, &spec), buf[EI_CLASS] = ELFCLASS32;
    CHECK(read_buf(buf, ELF_SIZE, &info, err, sizeof(err)) == ELF_WRONG_KIND && strstr(err, "32-bit"));
    build_elf(buf, &spec), eh->e_machine = EM_AARCH64;
    CHECK(read_buf(buf, ELF_SIZE, &info, err, sizeof(err)) == ELF_WRONG_KIND && strstr(err, "another CPU"));
    build_elf(buf, &spec), eh->e_type = ET_REL;
    CHECK(read_buf(buf, ELF_SIZE, &info, err, sizeof(err)) == ELF_WRONG_KIND && strstr(err, "object"));
    CHECK(read_buf((const uint8_t *)"#!/bin/sh\n", 10, &info, err, sizeof(err)) == ELF_NOT_ELF);
    CHECK(read_buf((const uint8_t *)"", 0, &info, err, sizeof(err)) == ELF_NOT_ELF);
    CHECK(elf_read("/nonexistent/x", &info, err, sizeof(err)) == ELF_UNREADABLE);
}

void st_elf(void)
{
    good_file();
    bad_files();
}
