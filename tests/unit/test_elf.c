/* Host tests of the ELF64 validator: well-formed executables of each kind
 * parse, and every malformation is refused with -ENOEXEC and a reason. */
#include "unit.h"

#include <string.h>

#include "exec/elf.h"
#include "lib/errno.h"

#define USER_TOP_TEST 0x00007ffffffff000ull

struct img {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[ELF_MAX_PHNUM]; /* as many as a header may claim: the loader reads e_phnum entries */
};

static void base_image(struct img *m, uint16_t type)
{
    memset(m, 0, sizeof(*m));
    memcpy(m->eh.e_ident, ELF_MAGIC, 4);
    m->eh.e_ident[4] = ELFCLASS64;
    m->eh.e_ident[5] = ELFDATA2LSB;
    m->eh.e_ident[6] = 1;
    m->eh.e_type = type;
    m->eh.e_machine = EM_X86_64;
    m->eh.e_version = 1;
    m->eh.e_phoff = sizeof(Elf64_Ehdr);
    m->eh.e_phentsize = sizeof(Elf64_Phdr);
    m->eh.e_phnum = 3;
    uint64_t base = type == ET_EXEC ? 0x400000 : 0;
    m->eh.e_entry = base + 0x1000;
    m->ph[0] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0, base, base, 0x2000, 0x2000, 0x1000 };
    m->ph[1] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, 0x2000, base + 0x3000, base + 0x3000, 0x500, 0x9000, 0x1000 };
    m->ph[2] = (Elf64_Phdr){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16 };
}

static int parse(struct img *m, uint64_t file_size, struct elf_image *out, const char **why)
{
    Elf64_Ehdr eh;
    int e = elf_check_header(m, sizeof(*m), file_size, &eh, why);
    if (e)
        return e;
    return elf_parse_phdrs(&eh, m->ph, file_size, USER_TOP_TEST, out, why);
}

UNIT_TEST(elf_static_executable_parses)
{
    static struct img m;
    struct elf_image im;
    const char *why = NULL;
    base_image(&m, ET_EXEC);
    CHECK_EQ(parse(&m, 0x3000, &im, &why), 0);
    CHECK_EQ(im.nload, 2);
    CHECK_EQ(im.lo, 0x400000);
    CHECK_EQ(im.hi, 0x40c000);
    CHECK_EQ(im.entry, 0x401000);
    CHECK(!im.exec_stack);
    CHECK(!im.has_interp);
    CHECK_EQ(im.phdr_vaddr, 0x400040); /* inside the first load */
}

UNIT_TEST(elf_pie_with_interpreter_parses)
{
    static struct img m;
    struct elf_image im;
    const char *why = NULL;
    base_image(&m, ET_DYN);
    m.eh.e_phnum = 5;
    m.ph[3] = (Elf64_Phdr){ PT_INTERP, PF_R, 0x300, 0x300, 0x300, 28, 28, 1 };
    m.ph[4] = (Elf64_Phdr){ PT_PHDR, PF_R, 0x40, 0x40, 0x40, 5 * 56, 5 * 56, 8 };
    CHECK_EQ(parse(&m, 0x3000, &im, &why), 0);
    CHECK(im.has_interp);
    CHECK_EQ(im.interp_offset, 0x300);
    CHECK_EQ(im.interp_size, 28);
    CHECK_EQ(im.phdr_vaddr, 0x40);
    CHECK_EQ(im.type, ET_DYN);
}

UNIT_TEST(elf_missing_gnu_stack_means_executable_stack)
{
    static struct img m;
    struct elf_image im;
    const char *why = NULL;
    base_image(&m, ET_EXEC);
    m.eh.e_phnum = 2;
    CHECK_EQ(parse(&m, 0x3000, &im, &why), 0);
    CHECK(im.exec_stack);
}

/* Each case corrupts a good image; the reason must mention `word`. */
struct bad_case {
    const char *word;
    void (*corrupt)(struct img *m);
    uint64_t file_size;
};

static void c_magic(struct img *m) { m->eh.e_ident[1] = 'X'; }
static void c_class32(struct img *m) { m->eh.e_ident[4] = 1; }
static void c_bigend(struct img *m) { m->eh.e_ident[5] = 2; }
static void c_machine(struct img *m) { m->eh.e_machine = 40; }
static void c_type(struct img *m) { m->eh.e_type = 4; }
static void c_phentsize(struct img *m) { m->eh.e_phentsize = 32; }
static void c_phnum0(struct img *m) { m->eh.e_phnum = 0; }
static void c_phoff(struct img *m) { m->eh.e_phoff = 0xfffffffffffffff0ull; }
static void c_filesz(struct img *m) { m->ph[1].p_filesz = 0x10000; }
static void c_past_end(struct img *m) { m->ph[1].p_offset = 0x2f00; }
static void c_congruent(struct img *m) { m->ph[1].p_vaddr += 0x10; }
static void c_overlap(struct img *m) { m->ph[1].p_vaddr = m->ph[0].p_vaddr + 0x1000, m->ph[1].p_offset = 0x1000; }
static void c_kernel_addr(struct img *m) { m->ph[1].p_vaddr = 0xffff800000000000ull, m->ph[1].p_offset = 0; }
static void c_wrap(struct img *m) { m->ph[1].p_memsz = 0xfffffffffffff000ull; }
static void c_entry_outside(struct img *m) { m->eh.e_entry = 0x900000; }
static void c_entry_nx(struct img *m) { m->eh.e_entry = 0x403000; }
static void c_no_load(struct img *m) { m->ph[0].p_type = PT_NOTE, m->ph[1].p_type = PT_NOTE; }
static void c_interp_len(struct img *m) { m->eh.e_phnum = 4, m->ph[3] = (Elf64_Phdr){ PT_INTERP, 4, 0x100, 0, 0, 1, 1, 1 }; }
static void c_interp_past(struct img *m) { m->eh.e_phnum = 4, m->ph[3] = (Elf64_Phdr){ PT_INTERP, 4, 0x2ff0, 0, 0, 64, 64, 1 }; }
static void c_two_interps(struct img *m)
{
    m->eh.e_phnum = 5;
    m->ph[3] = (Elf64_Phdr){ PT_INTERP, 4, 0x100, 0, 0, 8, 8, 1 };
    m->ph[4] = m->ph[3];
}
static void c_align(struct img *m) { m->ph[0].p_align = 0x3000; }
static void c_tls(struct img *m) { m->eh.e_phnum = 4, m->ph[3] = (Elf64_Phdr){ PT_TLS, 4, 0, 0, 0, 16, 8, 8 }; }

UNIT_TEST(elf_malformations_are_refused_with_a_reason)
{
    static const struct bad_case cases[] = {
        { "magic", c_magic, 0x3000 },
        { "32-bit", c_class32, 0x3000 },
        { "little-endian", c_bigend, 0x3000 },
        { "architecture", c_machine, 0x3000 },
        { "not an executable", c_type, 0x3000 },
        { "program header size", c_phentsize, 0x3000 },
        { "program headers", c_phnum0, 0x3000 },
        { "past the end", c_phoff, 0x3000 },
        { "file size exceeds", c_filesz, 0x3000 },
        { "past the end", c_past_end, 0x3000 },
        { "congruent", c_congruent, 0x3000 },
        { "overlap", c_overlap, 0x3000 },
        { "outside the application", c_kernel_addr, 0x3000 },
        { "outside the application", c_wrap, 0x3000 },
        { "entry point lies outside", c_entry_outside, 0x3000 },
        { "non-executable", c_entry_nx, 0x3000 },
        { "no loadable", c_no_load, 0x3000 },
        { "bad length", c_interp_len, 0x3000 },
        { "interpreter path lies past", c_interp_past, 0x3000 },
        { "more than one PT_INTERP", c_two_interps, 0x3000 },
        { "power of two", c_align, 0x3000 },
        { "TLS", c_tls, 0x3000 },
        { "too short", NULL, 10 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static struct img m;
        struct elf_image im;
        const char *why = "";
        base_image(&m, ET_EXEC);
        if (cases[i].corrupt)
            cases[i].corrupt(&m);
        CHECK_EQ(parse(&m, cases[i].file_size, &im, &why), -ENOEXEC);
        if (!strstr(why, cases[i].word))
            printf("case %zu: reason \"%s\" lacks \"%s\"\n", i, why, cases[i].word);
        CHECK(strstr(why, cases[i].word) != NULL);
    }
}

/* Random corruption of a good image never crashes or overreads (ASan). */
UNIT_TEST(elf_random_corruption_is_survived)
{
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        static struct img m;
        struct elf_image im;
        const char *why = "";
        base_image(&m, round & 1 ? ET_EXEC : ET_DYN);
        uint8_t *bytes = (uint8_t *)&m;
        for (int k = 0; k < 1 + round % 6; k++) {
            seed = seed * 1103515245u + 12345u;
            bytes[(seed >> 8) % (sizeof(Elf64_Ehdr) + 8 * sizeof(Elf64_Phdr))] = (uint8_t)(seed >> 20);
        }
        int e = parse(&m, (seed >> 4) % 0x5000, &im, &why);
        CHECK(e == 0 || e == -ENOEXEC);
        if (e == 0) {
            CHECK(im.nload >= 1 && im.lo < im.hi && im.hi <= USER_TOP_TEST);
        }
    }
}
