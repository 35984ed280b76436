/* /proc/cpuinfo: one block per online CPU as x86 Linux prints it, with the
 * feature flags named and ordered as Linux names them (its capability
 * words), from CPUID. Flags for state the kernel does not enable (AVX-512
 * without its XSAVE components, protection keys, 5-level paging) are left
 * out, as Linux leaves them out, so programs that trust cpuinfo stay safe. */
#include "arch/cpu.h"
#include "arch/fpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "fs/procfs.h"
#include "arch/spinlock.h"
#include "lib/string.h"

#define PROCFS_FLAGS_MAX 2048 /* every flag name we know fits */

enum { EAX, EBX, ECX, EDX };

/* What a flag needs besides its CPUID bit. */
enum { NEED_NONE, NEED_XSAVE, NEED_AVX, NEED_AVX512, NEED_NEVER };

struct cpu_flag {
    uint32_t leaf;
    uint8_t subleaf, reg, bit, need;
    const char *name;
};

#define F(l, s, r, b, n) { l, s, r, b, NEED_NONE, n }
#define FN(l, s, r, b, need, n) { l, s, r, b, need, n }

static const struct cpu_flag procfs_cpu_flags[] = {
    /* leaf 1 edx */
    F(1, 0, EDX, 0, "fpu"), F(1, 0, EDX, 1, "vme"), F(1, 0, EDX, 2, "de"), F(1, 0, EDX, 3, "pse"),
    F(1, 0, EDX, 4, "tsc"), F(1, 0, EDX, 5, "msr"), F(1, 0, EDX, 6, "pae"), F(1, 0, EDX, 7, "mce"),
    F(1, 0, EDX, 8, "cx8"), F(1, 0, EDX, 9, "apic"), F(1, 0, EDX, 11, "sep"), F(1, 0, EDX, 12, "mtrr"),
    F(1, 0, EDX, 13, "pge"), F(1, 0, EDX, 14, "mca"), F(1, 0, EDX, 15, "cmov"), F(1, 0, EDX, 16, "pat"),
    F(1, 0, EDX, 17, "pse36"), F(1, 0, EDX, 18, "pn"), F(1, 0, EDX, 19, "clflush"), F(1, 0, EDX, 21, "dts"),
    F(1, 0, EDX, 22, "acpi"), F(1, 0, EDX, 23, "mmx"), F(1, 0, EDX, 24, "fxsr"), F(1, 0, EDX, 25, "sse"),
    F(1, 0, EDX, 26, "sse2"), F(1, 0, EDX, 27, "ss"), F(1, 0, EDX, 28, "ht"), F(1, 0, EDX, 29, "tm"),
    F(1, 0, EDX, 30, "ia64"), F(1, 0, EDX, 31, "pbe"),
    /* 0x80000001 edx */
    F(0x80000001, 0, EDX, 11, "syscall"), F(0x80000001, 0, EDX, 19, "mp"), F(0x80000001, 0, EDX, 20, "nx"),
    F(0x80000001, 0, EDX, 22, "mmxext"), F(0x80000001, 0, EDX, 25, "fxsr_opt"),
    F(0x80000001, 0, EDX, 26, "pdpe1gb"), F(0x80000001, 0, EDX, 27, "rdtscp"), F(0x80000001, 0, EDX, 29, "lm"),
    F(0x80000001, 0, EDX, 30, "3dnowext"), F(0x80000001, 0, EDX, 31, "3dnow"),
    /* (Linux's synthetic word comes here: procfs_synthetic_flags) */
    /* leaf 1 ecx */
    F(1, 0, ECX, 0, "pni"), F(1, 0, ECX, 1, "pclmulqdq"), F(1, 0, ECX, 2, "dtes64"), F(1, 0, ECX, 3, "monitor"),
    F(1, 0, ECX, 4, "ds_cpl"), F(1, 0, ECX, 5, "vmx"), F(1, 0, ECX, 6, "smx"), F(1, 0, ECX, 7, "est"),
    F(1, 0, ECX, 8, "tm2"), F(1, 0, ECX, 9, "ssse3"), F(1, 0, ECX, 10, "cid"), F(1, 0, ECX, 11, "sdbg"),
    FN(1, 0, ECX, 12, NEED_AVX, "fma"), F(1, 0, ECX, 13, "cx16"), F(1, 0, ECX, 14, "xtpr"),
    F(1, 0, ECX, 15, "pdcm"), F(1, 0, ECX, 17, "pcid"), F(1, 0, ECX, 18, "dca"), F(1, 0, ECX, 19, "sse4_1"),
    F(1, 0, ECX, 20, "sse4_2"), F(1, 0, ECX, 21, "x2apic"), F(1, 0, ECX, 22, "movbe"), F(1, 0, ECX, 23, "popcnt"),
    F(1, 0, ECX, 24, "tsc_deadline_timer"), F(1, 0, ECX, 25, "aes"), FN(1, 0, ECX, 26, NEED_XSAVE, "xsave"),
    FN(1, 0, ECX, 28, NEED_AVX, "avx"), FN(1, 0, ECX, 29, NEED_AVX, "f16c"), F(1, 0, ECX, 30, "rdrand"),
    F(1, 0, ECX, 31, "hypervisor"),
    /* 0x80000001 ecx */
    F(0x80000001, 0, ECX, 0, "lahf_lm"), F(0x80000001, 0, ECX, 1, "cmp_legacy"), F(0x80000001, 0, ECX, 2, "svm"),
    F(0x80000001, 0, ECX, 3, "extapic"), F(0x80000001, 0, ECX, 4, "cr8_legacy"), F(0x80000001, 0, ECX, 5, "abm"),
    F(0x80000001, 0, ECX, 6, "sse4a"), F(0x80000001, 0, ECX, 7, "misalignsse"),
    F(0x80000001, 0, ECX, 8, "3dnowprefetch"), F(0x80000001, 0, ECX, 9, "osvw"), F(0x80000001, 0, ECX, 10, "ibs"),
    FN(0x80000001, 0, ECX, 11, NEED_AVX, "xop"), F(0x80000001, 0, ECX, 12, "skinit"),
    F(0x80000001, 0, ECX, 13, "wdt"), F(0x80000001, 0, ECX, 15, "lwp"), FN(0x80000001, 0, ECX, 16, NEED_AVX, "fma4"),
    F(0x80000001, 0, ECX, 17, "tce"), F(0x80000001, 0, ECX, 19, "nodeid_msr"), F(0x80000001, 0, ECX, 21, "tbm"),
    F(0x80000001, 0, ECX, 22, "topoext"), F(0x80000001, 0, ECX, 23, "perfctr_core"),
    F(0x80000001, 0, ECX, 24, "perfctr_nb"), F(0x80000001, 0, ECX, 26, "bpext"), F(0x80000001, 0, ECX, 27, "ptsc"),
    F(0x80000001, 0, ECX, 28, "perfctr_llc"), F(0x80000001, 0, ECX, 29, "mwaitx"),
    /* scattered bits Linux keeps in its word 7 */
    F(0x80000007, 0, EDX, 9, "cpb"), F(6, 0, ECX, 3, "epb"), F(0x80000007, 0, EDX, 7, "hw_pstate"),
    F(0x80000007, 0, EDX, 11, "proc_feedback"),
    /* leaf 7 ebx */
    F(7, 0, EBX, 0, "fsgsbase"), F(7, 0, EBX, 1, "tsc_adjust"), F(7, 0, EBX, 2, "sgx"), F(7, 0, EBX, 3, "bmi1"),
    F(7, 0, EBX, 4, "hle"), FN(7, 0, EBX, 5, NEED_AVX, "avx2"), F(7, 0, EBX, 7, "smep"), F(7, 0, EBX, 8, "bmi2"),
    F(7, 0, EBX, 9, "erms"), F(7, 0, EBX, 10, "invpcid"), F(7, 0, EBX, 11, "rtm"), F(7, 0, EBX, 12, "cqm"),
    F(7, 0, EBX, 14, "mpx"), F(7, 0, EBX, 15, "rdt_a"), FN(7, 0, EBX, 16, NEED_AVX512, "avx512f"),
    FN(7, 0, EBX, 17, NEED_AVX512, "avx512dq"), F(7, 0, EBX, 18, "rdseed"), F(7, 0, EBX, 19, "adx"),
    F(7, 0, EBX, 20, "smap"), FN(7, 0, EBX, 21, NEED_AVX512, "avx512ifma"), F(7, 0, EBX, 23, "clflushopt"),
    F(7, 0, EBX, 24, "clwb"), F(7, 0, EBX, 25, "intel_pt"), FN(7, 0, EBX, 26, NEED_AVX512, "avx512pf"),
    FN(7, 0, EBX, 27, NEED_AVX512, "avx512er"), FN(7, 0, EBX, 28, NEED_AVX512, "avx512cd"),
    F(7, 0, EBX, 29, "sha_ni"), FN(7, 0, EBX, 30, NEED_AVX512, "avx512bw"), FN(7, 0, EBX, 31, NEED_AVX512, "avx512vl"),
    /* leaf 0xd.1 eax */
    FN(0xd, 1, EAX, 0, NEED_XSAVE, "xsaveopt"), FN(0xd, 1, EAX, 1, NEED_XSAVE, "xsavec"),
    FN(0xd, 1, EAX, 2, NEED_XSAVE, "xgetbv1"), FN(0xd, 1, EAX, 3, NEED_XSAVE, "xsaves"),
    /* leaf 7.1 eax */
    FN(7, 1, EAX, 4, NEED_AVX, "avx_vnni"), FN(7, 1, EAX, 5, NEED_AVX512, "avx512_bf16"),
    /* 0x80000008 ebx */
    F(0x80000008, 0, EBX, 0, "clzero"), F(0x80000008, 0, EBX, 1, "irperf"), F(0x80000008, 0, EBX, 2, "xsaveerptr"),
    F(0x80000008, 0, EBX, 4, "rdpru"), F(0x80000008, 0, EBX, 9, "wbnoinvd"), F(0x80000008, 0, EBX, 23, "amd_ppin"),
    F(0x80000008, 0, EBX, 25, "virt_ssbd"),
    /* leaf 6 eax */
    F(6, 0, EAX, 0, "dtherm"), F(6, 0, EAX, 1, "ida"), F(6, 0, EAX, 2, "arat"), F(6, 0, EAX, 4, "pln"),
    F(6, 0, EAX, 6, "pts"), F(6, 0, EAX, 7, "hwp"), F(6, 0, EAX, 8, "hwp_notify"), F(6, 0, EAX, 9, "hwp_act_window"),
    F(6, 0, EAX, 10, "hwp_epp"), F(6, 0, EAX, 11, "hwp_pkg_req"), F(6, 0, EAX, 19, "hfi"),
    /* 0x8000000a edx: SVM features */
    F(0x8000000a, 0, EDX, 0, "npt"), F(0x8000000a, 0, EDX, 1, "lbrv"), F(0x8000000a, 0, EDX, 2, "svm_lock"),
    F(0x8000000a, 0, EDX, 3, "nrip_save"), F(0x8000000a, 0, EDX, 4, "tsc_scale"),
    F(0x8000000a, 0, EDX, 5, "vmcb_clean"), F(0x8000000a, 0, EDX, 6, "flushbyasid"),
    F(0x8000000a, 0, EDX, 7, "decodeassists"), F(0x8000000a, 0, EDX, 10, "pausefilter"),
    F(0x8000000a, 0, EDX, 12, "pfthreshold"), F(0x8000000a, 0, EDX, 13, "avic"),
    F(0x8000000a, 0, EDX, 15, "v_vmsave_vmload"), F(0x8000000a, 0, EDX, 16, "vgif"),
    /* leaf 7 ecx */
    FN(7, 0, ECX, 1, NEED_AVX512, "avx512vbmi"), F(7, 0, ECX, 2, "umip"), FN(7, 0, ECX, 3, NEED_NEVER, "pku"),
    FN(7, 0, ECX, 4, NEED_NEVER, "ospke"), F(7, 0, ECX, 5, "waitpkg"), FN(7, 0, ECX, 6, NEED_AVX512, "avx512_vbmi2"),
    F(7, 0, ECX, 8, "gfni"), FN(7, 0, ECX, 9, NEED_AVX, "vaes"), FN(7, 0, ECX, 10, NEED_AVX, "vpclmulqdq"),
    FN(7, 0, ECX, 11, NEED_AVX512, "avx512_vnni"), FN(7, 0, ECX, 12, NEED_AVX512, "avx512_bitalg"),
    F(7, 0, ECX, 13, "tme"), FN(7, 0, ECX, 14, NEED_AVX512, "avx512_vpopcntdq"), FN(7, 0, ECX, 16, NEED_NEVER, "la57"),
    F(7, 0, ECX, 22, "rdpid"), F(7, 0, ECX, 24, "bus_lock_detect"), F(7, 0, ECX, 25, "cldemote"),
    F(7, 0, ECX, 27, "movdiri"), F(7, 0, ECX, 28, "movdir64b"), F(7, 0, ECX, 29, "enqcmd"), F(7, 0, ECX, 30, "sgx_lc"),
    /* 0x80000007 ebx */
    F(0x80000007, 0, EBX, 0, "overflow_recov"), F(0x80000007, 0, EBX, 1, "succor"), F(0x80000007, 0, EBX, 3, "smca"),
    /* leaf 7 edx */
    FN(7, 0, EDX, 2, NEED_AVX512, "avx512_4vnniw"), FN(7, 0, EDX, 3, NEED_AVX512, "avx512_4fmaps"),
    F(7, 0, EDX, 4, "fsrm"), FN(7, 0, EDX, 8, NEED_AVX512, "avx512_vp2intersect"), F(7, 0, EDX, 10, "md_clear"),
    F(7, 0, EDX, 14, "serialize"), F(7, 0, EDX, 16, "tsxldtrk"), F(7, 0, EDX, 18, "pconfig"),
    F(7, 0, EDX, 19, "arch_lbr"), F(7, 0, EDX, 20, "ibt"), FN(7, 0, EDX, 22, NEED_NEVER, "amx_bf16"),
    FN(7, 0, EDX, 23, NEED_AVX512, "avx512_fp16"), FN(7, 0, EDX, 24, NEED_NEVER, "amx_tile"),
    FN(7, 0, EDX, 25, NEED_NEVER, "amx_int8"), F(7, 0, EDX, 28, "flush_l1d"), F(7, 0, EDX, 29, "arch_capabilities"),
};

/* Where the synthetic word goes: after the 0x80000001 edx bits. */
#define PROCFS_SYNTHETIC_AFTER "3dnow"

static bool procfs_leaf_ok(uint32_t leaf)
{
    return leaf >= 0x80000000 ? leaf <= cpu_features.max_ext_leaf : leaf <= cpu_features.max_leaf;
}

static uint32_t procfs_cpuid_reg(uint32_t leaf, uint32_t subleaf, int reg)
{
    if (!procfs_leaf_ok(leaf))
        return 0;
    struct cpuid_regs r = cpuid(leaf, subleaf);
    return reg == EAX ? r.eax : reg == EBX ? r.ebx : reg == ECX ? r.ecx : r.edx;
}

static bool procfs_need_met(int need)
{
    uint64_t avx512 = XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM;
    switch (need) {
    case NEED_XSAVE:
        return fpu_info.xsave;
    case NEED_AVX:
        return fpu_info.xsave && (fpu_info.xcr0 & XFEATURE_AVX);
    case NEED_AVX512:
        return fpu_info.xsave && (fpu_info.xcr0 & avx512) == avx512;
    case NEED_NEVER:
        return false;
    default:
        return true;
    }
}

static bool procfs_tsc_freq_known(void)
{
    const char *how = clock_calibration_name();
    return strcmp(how, "HPET") != 0 && strcmp(how, "ACPI PM timer") != 0 && strcmp(how, "PIT") != 0 &&
           strcmp(how, "guess") != 0 && strcmp(how, "none") != 0;
}

/* Linux's own word of flags, derived rather than read from one CPUID bit. */
static void procfs_synthetic_flags(struct procfs_buf *b)
{
    bool intel = strcmp(cpu_features.vendor, "GenuineIntel") == 0;
    if (cpu_features.invariant_tsc)
        procfs_puts(b, " constant_tsc");
    if (intel && (procfs_cpuid_reg(0xa, 0, EAX) & 0xff))
        procfs_puts(b, " arch_perfmon");
    procfs_puts(b, " rep_good nopl");
    if (procfs_cpuid_reg(0xb, 0, EBX))
        procfs_puts(b, " xtopology");
    if (cpu_features.invariant_tsc)
        procfs_puts(b, " nonstop_tsc");
    procfs_puts(b, " cpuid");
    if (procfs_cpuid_reg(6, 0, ECX) & 1)
        procfs_puts(b, " aperfmperf");
    if (procfs_tsc_freq_known())
        procfs_puts(b, " tsc_known_freq");
}

/* The flags, each as " name". */
static void procfs_flags(struct procfs_buf *b)
{
    for (size_t i = 0; i < ARRAY_SIZE(procfs_cpu_flags); i++) {
        const struct cpu_flag *f = &procfs_cpu_flags[i];
        bool on = (procfs_cpuid_reg(f->leaf, f->subleaf, f->reg) >> f->bit) & 1;
        if (on && f->leaf == 7 && f->subleaf == 0 && f->reg == EBX && f->bit == 0)
            on = (read_cr4() & CR4_FSGSBASE) != 0; /* usable only when the kernel enables it */
        if (on && procfs_need_met(f->need))
            procfs_printf(b, " %s", f->name);
        if (strcmp(f->name, PROCFS_SYNTHETIC_AFTER) == 0)
            procfs_synthetic_flags(b);
    }
}

/* The flags line, the same on every CPU and for the whole boot: worked out
 * at the first read (some 200 CPUID bits, each a VM exit under KVM). */
static const char *procfs_flags_line(void)
{
    static char line[PROCFS_FLAGS_MAX];
    static bool ready;
    static spinlock_t lock = SPINLOCK_INIT;
    if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        return line;
    irqflags_t f = spin_lock(&lock);
    if (!ready) {
        struct procfs_buf fb = { line, sizeof(line), 0 };
        procfs_flags(&fb);
        line[MIN(fb.len, sizeof(line) - 1)] = '\0';
        __atomic_store_n(&ready, true, __ATOMIC_RELEASE);
    }
    spin_unlock(&lock, f);
    return line;
}

static void procfs_brand(char out[49])
{
    memset(out, 0, 49);
    if (cpu_features.max_ext_leaf < 0x80000004) {
        strlcpy(out, "unknown", 49);
        return;
    }
    for (uint32_t i = 0; i < 3; i++) {
        struct cpuid_regs r = cpuid(0x80000002 + i, 0);
        memcpy(out + i * 16, &r, 16);
    }
    char *s = out;
    while (*s == ' ')
        s++;
    memmove(out, s, strlen(s) + 1);
    for (size_t n = strlen(out); n && out[n - 1] == ' ';)
        out[--n] = '\0';
}

/* The largest cache (Intel: deterministic leaf 4; others: L2 from 0x80000006), in KiB. */
static uint32_t procfs_cache_kb(void)
{
    uint32_t best = 0, best_level = 0;
    if (strcmp(cpu_features.vendor, "GenuineIntel") == 0 && cpu_features.max_leaf >= 4) {
        for (uint32_t i = 0; i < 16; i++) {
            struct cpuid_regs r = cpuid(4, i);
            if ((r.eax & 0x1f) == 0)
                break;
            uint32_t level = (r.eax >> 5) & 7, type = r.eax & 0x1f;
            uint64_t size = (uint64_t)((r.ebx >> 22) + 1) * (((r.ebx >> 12) & 0x3ff) + 1) *
                            ((r.ebx & 0xfff) + 1) * ((uint64_t)r.ecx + 1);
            if (type == 3 && level >= 2 && level >= best_level) { /* unified: L2, L3 */
                best_level = level;
                best = (uint32_t)(size >> 10);
            }
        }
        return best;
    }
    return procfs_leaf_ok(0x80000006) ? cpuid(0x80000006, 0).ecx >> 16 : 0;
}

static void procfs_power_flags(struct procfs_buf *b)
{
    static const char *const names[] = { "ts", "fid", "vid", "ttp", "tm", "stc", "100mhzsteps", "hwpstate",
                                         "", "cpb", "eff_freq_ro", "proc_feedback", "acc_power" };
    uint32_t edx = procfs_cpuid_reg(0x80000007, 0, EDX);
    procfs_puts(b, "power management:");
    for (unsigned i = 0; i < 32; i++) {
        if (!(edx & (1u << i)))
            continue;
        if (i < ARRAY_SIZE(names))
            procfs_printf(b, "%s%s", names[i][0] ? " " : "", names[i]);
        else
            procfs_printf(b, " [%u]", i);
    }
    procfs_puts(b, "\n\n");
}

struct procfs_cpu_common {
    char brand[49];
    uint32_t stepping, cache_kb, clflush, phys_bits, virt_bits;
    uint64_t khz;
};

static void procfs_cpu_block(struct procfs_buf *b, unsigned i, const struct procfs_cpu_common *c,
                             const char *flags)
{
    uint32_t apic = cpus[i] ? cpus[i]->arch.apic_id : i;
    procfs_printf(b, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n", i,
                  cpu_features.vendor, cpu_features.family, cpu_features.model);
    procfs_printf(b, "model name\t: %s\nstepping\t: %u\nmicrocode\t: 0x1\n", c->brand, c->stepping);
    procfs_printf(b, "cpu MHz\t\t: %lu.%03lu\n", c->khz / 1000, c->khz % 1000);
    if (c->cache_kb)
        procfs_printf(b, "cache size\t: %u KB\n", c->cache_kb);
    procfs_printf(b, "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n", cpu_count, i,
                  cpu_count);
    procfs_printf(b, "apicid\t\t: %u\ninitial apicid\t: %u\n", apic, apic);
    procfs_printf(b, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\n",
                  cpu_features.max_leaf);
    procfs_printf(b, "flags\t\t:%s\nbugs\t\t:\n", flags);
    uint64_t bogo = c->khz * 2 / 10; /* hundredths of a BogoMIPS: twice the MHz */
    procfs_printf(b, "bogomips\t: %lu.%02lu\n", bogo / 100, bogo % 100);
    procfs_printf(b, "clflush size\t: %u\ncache_alignment\t: %u\n", c->clflush, c->clflush);
    procfs_printf(b, "address sizes\t: %u bits physical, %u bits virtual\n", c->phys_bits, c->virt_bits);
    procfs_power_flags(b);
}

int procfs_show_cpuinfo(const struct procfs_node *n, struct procfs_buf *b)
{
    (void)n;
    struct procfs_cpu_common c;
    procfs_brand(c.brand);
    c.stepping = procfs_cpuid_reg(1, 0, EAX) & 0xf;
    c.cache_kb = procfs_cache_kb();
    c.clflush = ((procfs_cpuid_reg(1, 0, EBX) >> 8) & 0xff) * 8;
    uint32_t sizes = procfs_cpuid_reg(0x80000008, 0, EAX);
    c.phys_bits = sizes ? sizes & 0xff : 36;
    c.virt_bits = sizes ? (sizes >> 8) & 0xff : 48;
    c.khz = clock_tsc_khz();
    const char *flags = procfs_flags_line();
    for (unsigned i = 0; i < cpu_count; i++)
        procfs_cpu_block(b, i, &c, flags);
    return 0;
}
