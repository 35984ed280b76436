/* linuxboot: boot a vmlinux-style ELF through the Linux 64-bit boot protocol on
 * /dev/kvm, with the machine state Firecracker sets up, and just the devices the
 * Osprey kernel needs: COM1, debugcon, isa-debug-exit and the i8042 reset line. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Exit statuses, as `osprey run` uses them. */
#define LB_FAIL 125
#define LB_TIMEOUT 124
#define LB_PANIC 70

/* Guest physical layout: Firecracker's choices for the Linux boot protocol. */
#define LB_GDT_ADDR 0x500
#define LB_IDT_ADDR 0x520
#define LB_ZERO_PAGE 0x7000
#define LB_STACK_TOP 0x8ff0
#define LB_PML4 0x9000
#define LB_PDPTE 0xa000
#define LB_PDE 0xb000
#define LB_CMDLINE 0x20000
#define LB_CMDLINE_MAX 0x10000 /* room before anything else we place */
#define LB_EBDA_START 0x9fc00  /* end of low RAM in the e820 map */
#define LB_HIMEM 0x100000
#define LB_TSS_ADDR 0xfffbd000 /* KVM on Intel wants three pages for real-mode help */
#define LB_MAX_MIB 3072        /* RAM stays below the 32-bit device hole */

/* boot_params offsets (Linux Documentation/arch/x86/zero-page.rst, boot.rst). */
#define BP_E820_ENTRIES 0x1e8
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_TYPE_OF_LOADER 0x210
#define BP_CMD_LINE_PTR 0x228
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0

/* GDT entries: null, 64-bit code, data, 64-bit TSS (busy, as KVM wants for TR). */
#define LB_DESC_CODE64 0x00af9b000000ffffull
#define LB_DESC_DATA 0x00cf93000000ffffull
#define LB_DESC_TSS 0x008f8b000000ffffull
#define LB_SEL_CODE 0x08
#define LB_SEL_DATA 0x10
#define LB_SEL_TSS 0x18

#define LB_CR0_PE 0x1ull
#define LB_CR0_ET 0x10ull
#define LB_CR0_PG 0x80000000ull
#define LB_CR4_PAE 0x20ull
#define LB_EFER_LME 0x100ull
#define LB_EFER_LMA 0x400ull
#define LB_RFLAGS_IF 0x200ull

/* Ports. */
#define LB_COM1 0x3f8
#define LB_DEBUGCON 0xe9
#define LB_DEBUG_EXIT 0xf4
#define LB_I8042_CMD 0x64
#define LB_RECORD_MARK '\x1e'

struct lb_config {
    unsigned mem_mib, timeout_s;
    bool debug_exit, no_stack;
    const char *kernel, *initrd;
    char **args;
    int nargs;
};

struct lb_vm {
    int kvm, vm, vcpu;
    uint8_t *mem;
    uint64_t mem_size;
    struct kvm_run *run;
    uint64_t entry;
};

/* The 16550's registers, enough for the kernel's probe (scratch round trip)
 * and the divisor latch, whose bytes must not reach the output. */
struct lb_uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
};

struct lb_outcome {
    int exit_record, debug_exit; /* -1 when none */
    bool panic, reset, timed_out, done;
    const char *error;
    char log[4096];
    size_t log_len;
};

static volatile sig_atomic_t lb_ticks;

static void __attribute__((noreturn, format(printf, 1, 2))) lb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("linuxboot: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(LB_FAIL);
}

static void lb_usage(FILE *f)
{
    fprintf(f, "usage: linuxboot [options] KERNEL.elf [CMDLINE...]\n"
               "Boot KERNEL through the Linux 64-bit boot protocol on /dev/kvm, set up as\n"
               "Firecracker does. COM1 goes to stdout, the debugcon log channel to stderr.\n"
               "  -m MiB            guest RAM (default 128, at most %u)\n"
               "  --timeout S       stop after S seconds and exit %d\n"
               "  --initrd FILE     load FILE at the top of RAM as the initial ramdisk\n"
               "  --no-debug-exit   no isa-debug-exit device: the kernel must reset through\n"
               "                    the i8042, as on Firecracker\n"
               "  --no-stack        enter with RSP = 0: the boot protocol promises no stack\n"
               "The kernel command line gets --power-off-on-abort --tsc-khz=N first.\n"
               "Exit status: the kernel's, %d on a panic, %d on --timeout, %d on failure.\n",
            LB_MAX_MIB, LB_TIMEOUT, LB_PANIC, LB_TIMEOUT, LB_FAIL);
}

static unsigned lb_parse_uint(const char *s, const char *what, unsigned lo, unsigned hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        lb_die("bad %s \"%s\" (expected %u to %u)", what, s, lo, hi);
    return (unsigned)v;
}

static void lb_parse_args(struct lb_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "timeout", required_argument, NULL, 't' },
        { "initrd", required_argument, NULL, 'i' },
        { "no-debug-exit", no_argument, NULL, 'n' },
        { "no-stack", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    /* "+": stop at the kernel file, so kernel options after it stay ours to pass on */
    while ((opt = getopt_long(argc, argv, "+m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': cfg->mem_mib = lb_parse_uint(optarg, "-m", 8, LB_MAX_MIB); break;
        case 't': cfg->timeout_s = lb_parse_uint(optarg, "--timeout", 1, 1000000); break;
        case 'i': cfg->initrd = optarg; break;
        case 'n': cfg->debug_exit = false; break;
        case 's': cfg->no_stack = true; break;
        case 'h': lb_usage(stdout); exit(0);
        default: lb_usage(stderr); exit(LB_FAIL);
        }
    }
    if (optind >= argc) {
        lb_usage(stderr);
        exit(LB_FAIL);
    }
    cfg->kernel = argv[optind];
    cfg->args = argv + optind + 1;
    cfg->nargs = argc - optind - 1;
}

/* --- guest memory ------------------------------------------------------- */

static void *lb_gpa(struct lb_vm *vm, uint64_t addr, uint64_t len)
{
    if (addr > vm->mem_size || len > vm->mem_size - addr)
        lb_die("guest address %#llx+%#llx is outside the %llu MiB of RAM", (unsigned long long)addr,
               (unsigned long long)len, (unsigned long long)(vm->mem_size >> 20));
    return vm->mem + addr;
}

static void lb_put(struct lb_vm *vm, uint64_t addr, uint64_t value, size_t size)
{
    memcpy(lb_gpa(vm, addr, size), &value, size); /* little-endian host, as the guest */
}

static uint8_t *lb_read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        lb_die("cannot open %s: %s", path, strerror(errno));
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf)
        lb_die("out of memory");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            lb_die("cannot read %s: %s", path, r ? strerror(errno) : "short file");
        got += (size_t)r;
    }
    close(fd);
    *size = got;
    return buf;
}

/* PT_LOAD segments go to their physical addresses (p_paddr), as Firecracker
 * loads a vmlinux; the entry point is e_entry, a physical address too. */
static void lb_load_elf(struct lb_vm *vm, const char *path)
{
    size_t size;
    uint8_t *f = lb_read_file(path, &size);
    Elf64_Ehdr eh;
    if (size < sizeof(eh))
        lb_die("%s is not an ELF file", path);
    memcpy(&eh, f, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phoff > size || (size - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
        lb_die("%s is not a 64-bit x86 ELF executable", path);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, f + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset || ph.p_filesz > ph.p_memsz)
            lb_die("%s: segment %u lies outside the file", path, i);
        if (ph.p_paddr < LB_HIMEM)
            lb_die("%s: segment %u loads below 1 MiB (%#llx), over the boot structures", path, i,
                   (unsigned long long)ph.p_paddr);
        uint8_t *dst = lb_gpa(vm, ph.p_paddr, ph.p_memsz);
        memcpy(dst, f + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    }
    vm->entry = eh.e_entry;
    lb_gpa(vm, eh.e_entry, 1);
    free(f);
}

/* --- boot structures ---------------------------------------------------- */

/* One word for the kernel's command-line parser, quoted only when needed. */
static void lb_cmdline_word(char *buf, size_t cap, size_t *len, const char *w)
{
    bool quote = !*w || strpbrk(w, " \t\n\"'\\");
    char tmp[LB_CMDLINE_MAX];
    size_t n = 0;
    if (*len)
        tmp[n++] = ' ';
    if (quote)
        tmp[n++] = '"';
    for (; *w && n + 4 < sizeof(tmp); w++) {
        if (quote && (*w == '"' || *w == '\\'))
            tmp[n++] = '\\';
        tmp[n++] = *w;
    }
    if (quote)
        tmp[n++] = '"';
    if (*len + n >= cap)
        lb_die("the kernel command line is longer than %zu bytes", cap - 1);
    memcpy(buf + *len, tmp, n);
    *len += n;
    buf[*len] = '\0';
}

static size_t lb_write_cmdline(struct lb_vm *vm, const struct lb_config *cfg, uint32_t tsc_khz)
{
    char *buf = (char *)lb_gpa(vm, LB_CMDLINE, LB_CMDLINE_MAX), opt[48];
    size_t len = 0;
    buf[0] = '\0';
    /* what `osprey run` adds: a panic ends the VM, and the clock needs no calibration */
    lb_cmdline_word(buf, LB_CMDLINE_MAX, &len, "--power-off-on-abort");
    if (tsc_khz) {
        snprintf(opt, sizeof(opt), "--tsc-khz=%u", tsc_khz);
        lb_cmdline_word(buf, LB_CMDLINE_MAX, &len, opt);
    }
    for (int i = 0; i < cfg->nargs; i++)
        lb_cmdline_word(buf, LB_CMDLINE_MAX, &len, cfg->args[i]);
    return len;
}

static void lb_e820_add(struct lb_vm *vm, unsigned *n, uint64_t base, uint64_t size)
{
    uint64_t e = LB_ZERO_PAGE + BP_E820_TABLE + *n * 20ull; /* packed 20-byte entries */
    lb_put(vm, e, base, 8);
    lb_put(vm, e + 8, size, 8);
    lb_put(vm, e + 16, 1, 4); /* usable RAM */
    ++*n;
}

/* At the top of RAM, page-aligned, where Firecracker puts it. */
static void lb_load_initrd(struct lb_vm *vm, const char *path)
{
    size_t size;
    uint8_t *f = lb_read_file(path, &size);
    if (size > vm->mem_size / 2)
        lb_die("%s (%zu bytes) does not fit in half the guest RAM", path, size);
    uint64_t addr = (vm->mem_size - size) & ~0xfffull;
    memcpy(lb_gpa(vm, addr, size), f, size);
    lb_put(vm, LB_ZERO_PAGE + BP_RAMDISK_IMAGE, addr, 4);
    lb_put(vm, LB_ZERO_PAGE + BP_RAMDISK_SIZE, size, 4);
    free(f);
}

static void lb_setup_zero_page(struct lb_vm *vm, size_t cmdline_len)
{
    memset(lb_gpa(vm, LB_ZERO_PAGE, 4096), 0, 4096);
    lb_put(vm, LB_ZERO_PAGE + BP_BOOT_FLAG, 0xaa55, 2);
    lb_put(vm, LB_ZERO_PAGE + BP_HEADER, 0x53726448, 4); /* "HdrS" */
    lb_put(vm, LB_ZERO_PAGE + BP_TYPE_OF_LOADER, 0xff, 1); /* undefined loader */
    lb_put(vm, LB_ZERO_PAGE + BP_KERNEL_ALIGNMENT, 0x1000000, 4);
    lb_put(vm, LB_ZERO_PAGE + BP_CMD_LINE_PTR, LB_CMDLINE, 4);
    lb_put(vm, LB_ZERO_PAGE + BP_CMDLINE_SIZE, cmdline_len, 4);
    unsigned n = 0;
    lb_e820_add(vm, &n, 0, LB_EBDA_START);
    lb_e820_add(vm, &n, LB_HIMEM, vm->mem_size - LB_HIMEM);
    lb_put(vm, LB_ZERO_PAGE + BP_E820_ENTRIES, n, 1);
}

/* The identity map of the first 1 GiB in 2 MiB pages, a GDT and an empty IDT. */
static void lb_setup_tables(struct lb_vm *vm)
{
    memset(lb_gpa(vm, LB_PML4, 3 * 4096), 0, 3 * 4096);
    lb_put(vm, LB_PML4, LB_PDPTE | 3, 8);
    lb_put(vm, LB_PDPTE, LB_PDE | 3, 8);
    for (uint64_t i = 0; i < 512; i++)
        lb_put(vm, LB_PDE + i * 8, i << 21 | 0x83, 8); /* present, writable, large */
    lb_put(vm, LB_GDT_ADDR, 0, 8);
    lb_put(vm, LB_GDT_ADDR + LB_SEL_CODE, LB_DESC_CODE64, 8);
    lb_put(vm, LB_GDT_ADDR + LB_SEL_DATA, LB_DESC_DATA, 8);
    lb_put(vm, LB_GDT_ADDR + LB_SEL_TSS, LB_DESC_TSS, 8);
    lb_put(vm, LB_IDT_ADDR, 0, 8);
}

/* KVM's view of a segment register loaded from the GDT descriptor `desc`. */
static struct kvm_segment lb_segment(uint64_t desc, uint16_t selector)
{
    struct kvm_segment s = {
        .base = (desc >> 16 & 0xffffff) | (desc >> 32 & 0xff000000),
        .limit = (uint32_t)((desc & 0xffff) | (desc >> 32 & 0xf0000)),
        .selector = selector,
        .type = desc >> 40 & 0xf,
        .s = desc >> 44 & 1,
        .dpl = desc >> 45 & 3,
        .present = desc >> 47 & 1,
        .avl = desc >> 52 & 1,
        .l = desc >> 53 & 1,
        .db = desc >> 54 & 1,
        .g = desc >> 55 & 1,
    };
    if (s.g)
        s.limit = s.limit << 12 | 0xfff;
    return s;
}

static void lb_setup_cpu_state(struct lb_vm *vm, bool no_stack)
{
    struct kvm_sregs sr;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &sr) < 0)
        lb_die("KVM_GET_SREGS: %s", strerror(errno));
    sr.cs = lb_segment(LB_DESC_CODE64, LB_SEL_CODE);
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = lb_segment(LB_DESC_DATA, LB_SEL_DATA);
    sr.tr = lb_segment(LB_DESC_TSS, LB_SEL_TSS);
    sr.gdt.base = LB_GDT_ADDR;
    sr.gdt.limit = 4 * 8 - 1;
    sr.idt.base = LB_IDT_ADDR;
    sr.idt.limit = 8 - 1;
    sr.cr0 = LB_CR0_PE | LB_CR0_ET | LB_CR0_PG;
    sr.cr3 = LB_PML4;
    sr.cr4 = LB_CR4_PAE;
    sr.efer = LB_EFER_LME | LB_EFER_LMA;
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &sr) < 0)
        lb_die("KVM_SET_SREGS: %s", strerror(errno));
    uint64_t sp = no_stack ? 0 : LB_STACK_TOP;
    struct kvm_regs r = { .rflags = 2, .rip = vm->entry, .rsp = sp, .rbp = sp, .rsi = LB_ZERO_PAGE };
    if (ioctl(vm->vcpu, KVM_SET_REGS, &r) < 0)
        lb_die("KVM_SET_REGS: %s", strerror(errno));
}

/* --- the VM ------------------------------------------------------------- */

/* What KVM can offer, with the hypervisor bit, one CPU with APIC id 0, and the
 * TSC-deadline timer KVM emulates but leaves out of the list. */
static void lb_setup_cpuid(struct lb_vm *vm)
{
    struct kvm_cpuid2 *c = NULL;
    for (unsigned n = 64;; n *= 2) {
        c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            lb_die("out of memory");
        c->nent = n;
        if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
            break;
        if (errno != E2BIG || n >= 4096)
            lb_die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        free(c);
    }
    bool deadline = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ecx |= 1u << 31 | (deadline ? 1u << 24 : 0);
            e->ebx = (e->ebx & 0xffff) | 1u << 16; /* one logical CPU, APIC id 0 */
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = 0; /* x2APIC id */
        }
    }
    if (ioctl(vm->vcpu, KVM_SET_CPUID2, c) < 0)
        lb_die("KVM_SET_CPUID2: %s", strerror(errno));
    free(c);
}

/* The guest's TSC rate: KVM knows it; else measure the host's (the same
 * unless scaled) over 10 ms against CLOCK_MONOTONIC_RAW. */
static uint32_t lb_tsc_khz(struct lb_vm *vm)
{
    int khz = ioctl(vm->vcpu, KVM_GET_TSC_KHZ);
    if (khz > 0)
        return (uint32_t)khz;
    struct timespec a, b;
    uint32_t lo, hi;
    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t0 = (uint64_t)hi << 32 | lo, ns;
    do {
        clock_gettime(CLOCK_MONOTONIC_RAW, &b);
        ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
    } while (ns < 10000000);
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint32_t)((((uint64_t)hi << 32 | lo) - t0) * 1000000ull / ns);
}

static void lb_create_vm(struct lb_vm *vm, unsigned mem_mib)
{
    vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm < 0)
        lb_die("cannot open /dev/kvm: %s", strerror(errno));
    if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        lb_die("/dev/kvm speaks an unexpected API version");
    vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
    if (vm->vm < 0)
        lb_die("KVM_CREATE_VM: %s", strerror(errno));
    vm->mem_size = (uint64_t)mem_mib << 20;
    vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (vm->mem == MAP_FAILED)
        lb_die("cannot allocate %u MiB of guest RAM: %s", mem_mib, strerror(errno));
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = vm->mem_size, .userspace_addr = (uintptr_t)vm->mem,
    };
    if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        lb_die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    /* Only Intel without unrestricted guest needs it; failure is harmless here. */
    (void)ioctl(vm->vm, KVM_SET_TSS_ADDR, LB_TSS_ADDR);
    if (ioctl(vm->vm, KVM_CREATE_IRQCHIP, 0) < 0) /* in-kernel LAPIC, IOAPIC and PIC */
        lb_die("KVM_CREATE_IRQCHIP: %s", strerror(errno));
    vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
    if (vm->vcpu < 0)
        lb_die("KVM_CREATE_VCPU: %s", strerror(errno));
    int run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0)
        lb_die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
    vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
    if (vm->run == MAP_FAILED)
        lb_die("cannot map the vCPU's run area: %s", strerror(errno));
    lb_setup_cpuid(vm);
}

/* --- devices ------------------------------------------------------------ */

/* A line of the kernel log channel: records are for us, the rest for stderr. */
static void lb_log_line(struct lb_outcome *o)
{
    const char *l = o->log;
    int v;
    if (o->log_len && l[0] == LB_RECORD_MARK) {
        o->log[o->log_len] = '\0';
        if (sscanf(l + 1, "exit=%d", &v) == 1)
            o->exit_record = v & 0xff;
        else if (strncmp(l + 1, "panic", 5) == 0)
            o->panic = true;
    } else {
        fwrite(l, 1, o->log_len, stderr);
    }
    o->log_len = 0;
}

static void lb_log_byte(struct lb_outcome *o, uint8_t c)
{
    o->log[o->log_len++] = (char)c;
    if (c == '\n' || o->log_len == sizeof(o->log) - 1)
        lb_log_line(o);
}

static uint32_t lb_uart_in(struct lb_uart *u, unsigned reg)
{
    bool dlab = u->lcr & 0x80;
    switch (reg) {
    case 0: return dlab ? u->dll : 0; /* no input */
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return 0x01;              /* no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return 0x60;              /* transmitter empty, no data */
    case 6: return 0xb0;              /* carrier, DSR, CTS */
    default: return u->scr;
    }
}

static void lb_uart_out(struct lb_uart *u, unsigned reg, uint8_t v)
{
    bool dlab = u->lcr & 0x80;
    switch (reg) {
    case 0:
        if (dlab) {
            u->dll = v;
        } else {
            putchar(v);
            if (v == '\n')
                fflush(stdout);
        }
        break;
    case 1: *(dlab ? &u->dlm : &u->ier) = v; break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v; break;
    case 7: u->scr = v; break;
    default: break; /* FCR; LSR and MSR are read-only */
    }
}

static uint32_t lb_port_in(struct lb_uart *u, uint16_t port, unsigned size)
{
    if (port >= LB_COM1 && port < LB_COM1 + 8)
        return lb_uart_in(u, port - LB_COM1);
    if (port == LB_DEBUGCON)
        return LB_DEBUGCON; /* the debugcon presence signature */
    if (port == LB_I8042_CMD)
        return 0; /* buffers empty: the reset command may be sent */
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1; /* nothing there */
}

static void lb_port_out(const struct lb_config *cfg, struct lb_uart *u, struct lb_outcome *o,
                        uint16_t port, uint32_t v)
{
    if (port >= LB_COM1 && port < LB_COM1 + 8) {
        lb_uart_out(u, port - LB_COM1, (uint8_t)v);
    } else if (port == LB_DEBUGCON) {
        lb_log_byte(o, (uint8_t)v);
    } else if (port == LB_DEBUG_EXIT && cfg->debug_exit) {
        o->debug_exit = (int)(v & 0xff);
        o->done = true;
    } else if (port == LB_I8042_CMD && (v & 0xff) == 0xfe) {
        o->reset = true; /* Firecracker ends the VM on this */
        o->done = true;
    }
}

static void lb_handle_io(struct lb_vm *vm, const struct lb_config *cfg, struct lb_uart *u,
                         struct lb_outcome *o)
{
    struct kvm_run *r = vm->run;
    uint8_t *data = (uint8_t *)r + r->io.data_offset;
    for (uint32_t i = 0; i < r->io.count && !o->done; i++, data += r->io.size) {
        uint32_t v = 0;
        if (r->io.direction == KVM_EXIT_IO_OUT) {
            memcpy(&v, data, r->io.size);
            lb_port_out(cfg, u, o, r->io.port, v);
        } else {
            v = lb_port_in(u, r->io.port, r->io.size);
            memcpy(data, &v, r->io.size);
        }
    }
}

/* --- running ------------------------------------------------------------ */

static void lb_on_tick(int sig)
{
    (void)sig;
    lb_ticks++;
}

/* The in-kernel LAPIC handles hlt, so KVM_RUN never returns for it: a timer
 * signal interrupts the run now and then to look for a CPU halted for good. */
static void lb_start_ticks(void)
{
    struct sigaction sa = { .sa_handler = lb_on_tick };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

static void lb_check_timeout(struct lb_outcome *o, unsigned timeout_s)
{
    if (timeout_s && lb_ticks >= (sig_atomic_t)timeout_s * 10)
        o->timed_out = o->done = true;
}

static void lb_check_halted(struct lb_vm *vm, struct lb_outcome *o)
{
    struct kvm_mp_state mp;
    struct kvm_regs regs;
    if (ioctl(vm->vcpu, KVM_GET_MP_STATE, &mp) == 0 && mp.mp_state == KVM_MP_STATE_HALTED &&
        ioctl(vm->vcpu, KVM_GET_REGS, &regs) == 0 && !(regs.rflags & LB_RFLAGS_IF)) {
        o->error = "the guest halted with interrupts off";
        o->done = true;
    }
}

static void lb_handle_exit(struct lb_vm *vm, const struct lb_config *cfg, struct lb_uart *u,
                           struct lb_outcome *o)
{
    static char msg[160];
    struct kvm_run *r = vm->run;
    switch (r->exit_reason) {
    case KVM_EXIT_IO:
        lb_handle_io(vm, cfg, u, o);
        return;
    case KVM_EXIT_MMIO: /* no devices besides the in-kernel APICs */
        if (!r->mmio.is_write)
            memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
        return;
    case KVM_EXIT_INTR:
        return;
    case KVM_EXIT_HLT: /* only without the in-kernel LAPIC, which we always create */
        o->error = "the guest halted";
        break;
    case KVM_EXIT_SHUTDOWN:
        o->error = "the guest triple-faulted";
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        o->reset = true;
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        snprintf(msg, sizeof(msg), "KVM internal error, suberror %u", r->internal.suberror);
        o->error = msg;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(msg, sizeof(msg), "KVM could not enter the guest (hardware reason %#llx)",
                 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
        o->error = msg;
        break;
    default:
        snprintf(msg, sizeof(msg), "unexpected KVM exit reason %u", r->exit_reason);
        o->error = msg;
        break;
    }
    o->done = true;
}

/* As `osprey run`: the kernel's exit record wins, then a panic, then the
 * debug-exit value; a reset without a status is a clean power-off. */
static int lb_status(const struct lb_outcome *o, const struct lb_config *cfg)
{
    if (o->timed_out) {
        fprintf(stderr, "linuxboot: the guest was still running after --timeout %u s\n", cfg->timeout_s);
        return LB_TIMEOUT;
    }
    if (o->error && o->exit_record < 0 && !o->panic)
        fprintf(stderr, "linuxboot: %s\n", o->error);
    if (o->exit_record >= 0)
        return o->exit_record;
    if (o->panic)
        return LB_PANIC;
    if (o->debug_exit >= 0)
        return o->debug_exit;
    return o->error ? LB_FAIL : 0;
}

static int lb_run(struct lb_vm *vm, const struct lb_config *cfg)
{
    struct lb_outcome o = { .exit_record = -1, .debug_exit = -1 };
    struct lb_uart uart = { 0 };
    lb_start_ticks();
    while (!o.done) {
        if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
            if (errno != EINTR && errno != EAGAIN)
                lb_die("KVM_RUN: %s", strerror(errno));
            lb_check_halted(vm, &o);
        } else {
            lb_handle_exit(vm, cfg, &uart, &o);
        }
        if (!o.done)
            lb_check_timeout(&o, cfg->timeout_s); /* also for guests that never block */
    }
    if (o.log_len)
        lb_log_line(&o);
    fflush(stdout);
    return lb_status(&o, cfg);
}

int main(int argc, char **argv)
{
    struct lb_config cfg = { .mem_mib = 128, .debug_exit = true };
    lb_parse_args(&cfg, argc, argv);
    struct lb_vm vm = { 0 };
    lb_create_vm(&vm, cfg.mem_mib);
    lb_load_elf(&vm, cfg.kernel);
    size_t len = lb_write_cmdline(&vm, &cfg, lb_tsc_khz(&vm));
    lb_setup_zero_page(&vm, len);
    if (cfg.initrd)
        lb_load_initrd(&vm, cfg.initrd);
    lb_setup_tables(&vm);
    lb_setup_cpu_state(&vm, cfg.no_stack);
    return lb_run(&vm, &cfg);
}
