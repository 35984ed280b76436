/* CPU feature detection through CPUID, done once on the boot CPU. */
#include "arch/cpu.h"
#include "lib/string.h"

struct cpu_features cpu_features;

static void cpuid_string(char *out, uint32_t a, uint32_t b, uint32_t c)
{
    memcpy(out, &a, 4);
    memcpy(out + 4, &b, 4);
    memcpy(out + 8, &c, 4);
    out[12] = '\0';
}

void cpu_features_detect(void)
{
    struct cpu_features *f = &cpu_features;
    struct cpuid_regs r = cpuid(0, 0);
    f->max_leaf = r.eax;
    cpuid_string(f->vendor, r.ebx, r.edx, r.ecx);

    r = cpuid(1, 0);
    f->family = (r.eax >> 8) & 0xf;
    f->model = (r.eax >> 4) & 0xf;
    if (f->family == 0xf)
        f->family += (r.eax >> 20) & 0xff;
    if (f->family >= 6)
        f->model |= ((r.eax >> 16) & 0xf) << 4;
    f->x2apic = r.ecx & (1u << 21);
    f->tsc_deadline = r.ecx & (1u << 24);
    f->xsave = r.ecx & (1u << 26);
    f->avx = r.ecx & (1u << 28);
    f->rdrand = r.ecx & (1u << 30);
    f->hypervisor = r.ecx & (1u << 31);
    f->pge = r.edx & (1u << 13);

    if (f->max_leaf >= 7) {
        r = cpuid(7, 0);
        f->fsgsbase = r.ebx & (1u << 0);
        f->smep = r.ebx & (1u << 7);
        f->rdseed = r.ebx & (1u << 18);
        f->smap = r.ebx & (1u << 20);
        f->umip = r.ecx & (1u << 2);
    }

    f->max_ext_leaf = cpuid(0x80000000, 0).eax;
    if (f->max_ext_leaf >= 0x80000001) {
        r = cpuid(0x80000001, 0);
        f->nx = r.edx & (1u << 20);
        f->pdpe1gb = r.edx & (1u << 26);
        f->rdtscp = r.edx & (1u << 27);
    }
    if (f->max_ext_leaf >= 0x80000007)
        f->invariant_tsc = cpuid(0x80000007, 0).edx & (1u << 8);

    if (f->hypervisor) {
        r = cpuid(0x40000000, 0);
        f->max_hv_leaf = r.eax;
        cpuid_string(f->hypervisor_sig, r.ebx, r.ecx, r.edx);
        if (strcmp(f->hypervisor_sig, "KVMKVMKVM") == 0 && f->max_hv_leaf >= 0x40000001) {
            r = cpuid(0x40000001, 0);
            f->kvmclock = r.eax & (1u << 3);        /* KVM_FEATURE_CLOCKSOURCE2 */
            f->kvmclock_stable = r.eax & (1u << 24); /* KVM_FEATURE_CLOCKSOURCE_STABLE_BIT */
        }
    }
}
