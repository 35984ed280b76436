/* The linuxboot shim's 32-bit half: from QEMU's PVH hvm_start_info, load the
 * kernel ELF (the PVH module) and lay out memory as Firecracker does for the
 * Linux 64-bit boot protocol; shim.S then enters long mode and jumps. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest physical layout (the same as linuxboot.c's). */
#define SHIM_GDT_ADDR 0x500u
#define SHIM_IDT_ADDR 0x520u
#define SHIM_ZERO_PAGE 0x7000u
#define SHIM_PML4 0x9000u
#define SHIM_PDPTE 0xa000u
#define SHIM_PDE 0xb000u
#define SHIM_CMDLINE 0x20000u
#define SHIM_CMDLINE_MAX 0x10000u
#define SHIM_EBDA_START 0x9fc00u
#define SHIM_HIMEM 0x100000u
#define SHIM_LOW_END 0x100000000ull /* a 32-bit shim reaches only the low 4 GiB */

#define BP_ACPI_RSDP 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_TYPE_OF_LOADER 0x210
#define BP_CMD_LINE_PTR 0x228
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define PVH_MAGIC 0x336ec578u
#define SHIM_MEMMAP_MAX 128
#define SHIM_FAIL_STATUS 125

struct shim_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
} __attribute__((packed));

struct shim_module {
    uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

struct shim_mem {
    uint64_t addr, size;
    uint32_t type, reserved;
} __attribute__((packed));

struct shim_elf_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

struct shim_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} __attribute__((packed));

/* Read by shim.S after shim_setup returns. */
uint64_t shim_entry;

extern char __shim_start[], __shim_end[];

/* Copies of what the PVH loader gave, taken before the boot structures are
 * written: QEMU may have put them where those go (the command line at 0x20000). */
static char shim_cmdline[SHIM_CMDLINE_MAX];
static struct shim_mem shim_memmap[SHIM_MEMMAP_MAX];
static uint32_t shim_memmap_count;
static uint64_t shim_module_base, shim_module_size, shim_rsdp;

/* Forward copies and fills in 4-byte steps: byte-wise rep is 8x slower under TCG. */
static void shim_copy(uint32_t dst, uint32_t src, uint32_t n)
{
    uint32_t words = n / 4, tail = n % 4;
    __asm__ __volatile__("rep movsl; movl %3, %%ecx; rep movsb"
                         : "+D"(dst), "+S"(src), "+c"(words) : "r"(tail) : "memory");
}

static void shim_fill(uint32_t dst, uint8_t byte, uint32_t n)
{
    uint32_t words = n / 4, tail = n % 4, pattern = byte * 0x01010101u;
    __asm__ __volatile__("rep stosl; movl %3, %%ecx; rep stosb"
                         : "+D"(dst), "+c"(words) : "a"(pattern), "r"(tail) : "memory");
}

/* The compiler may call these for struct copies and clears. */
void *memcpy(void *d, const void *s, size_t n)
{
    shim_copy((uint32_t)d, (uint32_t)s, n);
    return d;
}

void *memset(void *d, int c, size_t n)
{
    shim_fill((uint32_t)d, (uint8_t)c, n);
    return d;
}

static void shim_put(uint32_t addr, uint64_t v, uint32_t size)
{
    shim_copy(addr, (uint32_t)&v, size);
}

static void shim_outb(uint16_t port, uint8_t v)
{
    __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* A setup failure: say so on the kernel log channel and end the VM. */
static void __attribute__((noreturn)) shim_fail(const char *msg)
{
    for (const char *p = "linuxboot shim: "; *p; p++)
        shim_outb(0xe9, (uint8_t)*p);
    for (; *msg; msg++)
        shim_outb(0xe9, (uint8_t)*msg);
    shim_outb(0xe9, '\n');
    __asm__ __volatile__("outl %0, %1" : : "a"(SHIM_FAIL_STATUS), "Nd"((uint16_t)0xf4));
    for (;;)
        __asm__ __volatile__("cli; hlt");
}

static bool shim_low(uint64_t addr, uint64_t size)
{
    return addr < SHIM_LOW_END && size <= SHIM_LOW_END - addr;
}

static bool shim_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
    return a < b + bn && b < a + an;
}

static void shim_take_start_info(const struct shim_start_info *si)
{
    if (si->magic != PVH_MAGIC)
        shim_fail("hvm_start_info has a bad magic number");
    if (si->version < 1 || !si->memmap_entries || si->memmap_entries > SHIM_MEMMAP_MAX ||
        !shim_low(si->memmap_paddr, si->memmap_entries * (uint64_t)sizeof(struct shim_mem)))
        shim_fail("hvm_start_info has no usable memory map");
    if (!si->nr_modules || !shim_low(si->modlist_paddr, sizeof(struct shim_module)))
        shim_fail("no module: pass the kernel ELF with -initrd");
    const struct shim_module *m = (const void *)(uint32_t)si->modlist_paddr;
    if (!shim_low(m->paddr, m->size) || m->size < sizeof(struct shim_elf_header))
        shim_fail("the module is not where a 32-bit loader can read it");
    shim_rsdp = si->rsdp_paddr; /* Firecracker passes its ACPI tables the same way */
    shim_module_base = m->paddr;
    shim_module_size = m->size;
    shim_memmap_count = si->memmap_entries;
    shim_copy((uint32_t)shim_memmap, (uint32_t)si->memmap_paddr,
              si->memmap_entries * sizeof(struct shim_mem));
    if (si->cmdline_paddr && shim_low(si->cmdline_paddr, 1)) {
        const char *s = (const char *)(uint32_t)si->cmdline_paddr;
        uint32_t n = 0;
        while (s[n] && n < SHIM_CMDLINE_MAX - 1)
            n++;
        if (s[n])
            shim_fail("the command line is too long");
        shim_copy((uint32_t)shim_cmdline, (uint32_t)s, n + 1);
    }
}

/* Highest end of usable RAM in the low 4 GiB: where a segment may reach. */
static uint64_t shim_ram_end(void)
{
    uint64_t end = 0;
    for (uint32_t i = 0; i < shim_memmap_count; i++) {
        const struct shim_mem *e = &shim_memmap[i];
        if (e->type == 1 && e->addr + e->size > end)
            end = e->addr + e->size;
    }
    return end < SHIM_LOW_END ? end : SHIM_LOW_END;
}

static void shim_check_segment(const struct shim_phdr *ph, uint64_t ram_end)
{
    if (ph->filesz > ph->memsz || ph->offset > shim_module_size ||
        ph->filesz > shim_module_size - ph->offset)
        shim_fail("a kernel segment lies outside the ELF file");
    if (ph->paddr < SHIM_HIMEM || ph->paddr > ram_end || ph->memsz > ram_end - ph->paddr)
        shim_fail("a kernel segment lies outside RAM above 1 MiB");
    if (shim_overlap(ph->paddr, ph->memsz, (uint32_t)__shim_start, __shim_end - __shim_start))
        shim_fail("a kernel segment overlaps the shim (see shim.ld)");
    if (shim_overlap(ph->paddr, ph->memsz, shim_module_base, shim_module_size))
        shim_fail("a kernel segment overlaps the module (give the VM more memory)");
}

/* PT_LOAD segments to their physical addresses, the rest of each zeroed. */
static void shim_load_kernel(void)
{
    const struct shim_elf_header *eh = (const void *)(uint32_t)shim_module_base;
    if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F' ||
        eh->ident[4] != 2 || eh->machine != 62 || eh->phentsize != sizeof(struct shim_phdr) ||
        eh->phoff > shim_module_size ||
        eh->phnum * (uint64_t)sizeof(struct shim_phdr) > shim_module_size - eh->phoff)
        shim_fail("the module is not a 64-bit x86 ELF file");
    uint64_t ram_end = shim_ram_end();
    const struct shim_phdr *ph = (const void *)(uint32_t)(shim_module_base + eh->phoff);
    for (uint32_t i = 0; i < eh->phnum; i++)
        if (ph[i].type == 1) /* PT_LOAD */
            shim_check_segment(&ph[i], ram_end);
    for (uint32_t i = 0; i < eh->phnum; i++) {
        if (ph[i].type != 1)
            continue;
        uint32_t dst = (uint32_t)ph[i].paddr;
        shim_copy(dst, (uint32_t)(shim_module_base + ph[i].offset), (uint32_t)ph[i].filesz);
        shim_fill(dst + (uint32_t)ph[i].filesz, 0, (uint32_t)(ph[i].memsz - ph[i].filesz));
    }
    if (eh->entry < SHIM_HIMEM || eh->entry >= ram_end)
        shim_fail("the kernel's entry point is outside its RAM");
    shim_entry = eh->entry;
}

static void shim_e820_add(uint32_t *n, uint64_t base, uint64_t end)
{
    if (end <= base || *n >= BP_E820_MAX)
        return;
    uint32_t e = SHIM_ZERO_PAGE + BP_E820_TABLE + *n * 20; /* packed 20-byte entries */
    shim_put(e, base, 8);
    shim_put(e + 8, end - base, 8);
    shim_put(e + 16, 1, 4);
    ++*n;
}

/* Firecracker's map: usable RAM only, low RAM stopping at the EBDA, the rest
 * from 1 MiB; here cut out of each RAM range of the PVH map. */
static uint32_t shim_build_e820(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shim_memmap_count; i++) {
        const struct shim_mem *e = &shim_memmap[i];
        uint64_t end = e->addr + e->size;
        if (e->type != 1)
            continue;
        shim_e820_add(&n, e->addr, end < SHIM_EBDA_START ? end : SHIM_EBDA_START);
        shim_e820_add(&n, e->addr > SHIM_HIMEM ? e->addr : SHIM_HIMEM, end);
    }
    return n;
}

static void shim_build_zero_page(void)
{
    uint32_t len = 0;
    while (shim_cmdline[len])
        len++;
    shim_fill(SHIM_ZERO_PAGE, 0, 4096);
    shim_copy(SHIM_CMDLINE, (uint32_t)shim_cmdline, len + 1);
    shim_put(SHIM_ZERO_PAGE + BP_BOOT_FLAG, 0xaa55, 2);
    shim_put(SHIM_ZERO_PAGE + BP_HEADER, 0x53726448, 4); /* "HdrS" */
    shim_put(SHIM_ZERO_PAGE + BP_TYPE_OF_LOADER, 0xff, 1);
    shim_put(SHIM_ZERO_PAGE + BP_KERNEL_ALIGNMENT, 0x1000000, 4);
    shim_put(SHIM_ZERO_PAGE + BP_CMD_LINE_PTR, SHIM_CMDLINE, 4);
    shim_put(SHIM_ZERO_PAGE + BP_CMDLINE_SIZE, len, 4);
    shim_put(SHIM_ZERO_PAGE + BP_ACPI_RSDP, shim_rsdp, 8);
    shim_put(SHIM_ZERO_PAGE + BP_E820_ENTRIES, shim_build_e820(), 1);
}

/* The 1 GiB identity map in 2 MiB pages, the GDT and an empty IDT. */
static void shim_build_tables(void)
{
    shim_fill(SHIM_PML4, 0, 3 * 4096);
    shim_put(SHIM_PML4, SHIM_PDPTE | 3, 8);
    shim_put(SHIM_PDPTE, SHIM_PDE | 3, 8);
    for (uint32_t i = 0; i < 512; i++)
        shim_put(SHIM_PDE + i * 8, (uint64_t)i << 21 | 0x83, 8);
    shim_put(SHIM_GDT_ADDR, 0, 8);
    shim_put(SHIM_GDT_ADDR + 0x08, 0x00af9b000000ffffull, 8); /* 64-bit code */
    shim_put(SHIM_GDT_ADDR + 0x10, 0x00cf93000000ffffull, 8); /* data */
    shim_put(SHIM_GDT_ADDR + 0x18, 0x008f8b000000ffffull, 8); /* TSS, as Firecracker's */
    shim_put(SHIM_IDT_ADDR, 0, 8);
}

void shim_setup(const struct shim_start_info *si)
{
    shim_take_start_info(si);
    shim_load_kernel();
    shim_build_zero_page();
    shim_build_tables();
}
