/* Finding the S5 sleep type in AML without an interpreter: a bounds-checked
 * byte scan for Name(\_S5_, Package(){SLP_TYPa, SLP_TYPb, ...}) (ACPI 6.x
 * section 20, "ACPI Machine Language Specification"). Pure code, host tested. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_CHAR '^'

/* SLP_TYP is a 3-bit register field. */
#define SLP_TYP_MAX 7

/* The name at `at` is the NameString of a DefName: NameOp, then optionally
 * the root prefix or parent prefixes, then the segment. */
static bool aml_is_name_decl(const uint8_t *aml, size_t at)
{
    size_t i = at;
    if (i > 0 && aml[i - 1] == AML_ROOT_CHAR) {
        i--;
    } else {
        while (i > 0 && aml[i - 1] == AML_PARENT_CHAR)
            i--;
    }
    return i > 0 && aml[i - 1] == AML_NAME_OP;
}

/* PkgLength: bits 7-6 of the lead byte count the bytes that follow (0-3).
 * With none, bits 5-0 are the length; otherwise bits 3-0 are its low nibble
 * and each following byte adds 8 more bits. The length counts itself. */
static int aml_pkg_length(const uint8_t *p, size_t avail, size_t *pkg_len, size_t *enc_len)
{
    if (avail < 1)
        return -EINVAL;
    size_t follow = p[0] >> 6;
    if (avail < 1 + follow)
        return -EINVAL;
    if (follow == 0) {
        *pkg_len = p[0] & 0x3f;
    } else {
        size_t v = p[0] & 0x0f;
        for (size_t i = 0; i < follow; i++)
            v |= (size_t)p[1 + i] << (4 + 8 * i);
        *pkg_len = v;
    }
    *enc_len = 1 + follow;
    return 0;
}

/* One integer data object; advances *pos. Other objects (names, method
 * calls, OnesOp) are not sleep types we can use. */
static int aml_integer(const uint8_t *p, size_t end, size_t *pos, uint64_t *value)
{
    size_t i = *pos, n;
    if (i >= end)
        return -EINVAL;
    switch (p[i]) {
    case AML_ZERO_OP: *value = 0; *pos = i + 1; return 0;
    case AML_ONE_OP: *value = 1; *pos = i + 1; return 0;
    case AML_BYTE_PREFIX: n = 1; break;
    case AML_WORD_PREFIX: n = 2; break;
    case AML_DWORD_PREFIX: n = 4; break;
    case AML_QWORD_PREFIX: n = 8; break;
    default: return -EINVAL;
    }
    if (end - i - 1 < n)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v |= (uint64_t)p[i + 1 + k] << (8 * k);
    *value = v;
    *pos = i + 1 + n;
    return 0;
}

/* DefPackage at p: PackageOp PkgLength NumElements PackageElementList. */
static int aml_s5_package(const uint8_t *p, size_t avail, uint8_t *typa, uint8_t *typb)
{
    size_t pkg_len, enc_len;
    if (avail < 1 || p[0] != AML_PACKAGE_OP ||
        aml_pkg_length(p + 1, avail - 1, &pkg_len, &enc_len) != 0)
        return -EINVAL;
    if (pkg_len < enc_len + 1 || pkg_len > avail - 1)
        return -EINVAL; /* no room for NumElements, or runs past the table */
    size_t end = 1 + pkg_len, pos = 1 + enc_len;
    unsigned count = p[pos++];
    uint64_t a, b = 0;
    if (count < 1 || aml_integer(p, end, &pos, &a) != 0)
        return -EINVAL;
    if (count >= 2 && aml_integer(p, end, &pos, &b) != 0)
        return -EINVAL;
    if (a > SLP_TYP_MAX || b > SLP_TYP_MAX)
        return -ERANGE;
    *typa = (uint8_t)a;
    *typb = (uint8_t)b; /* a one-element package (Cloud Hypervisor) has no PM1b value */
    return 0;
}

int acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb)
{
    /* "_S5_" can also occur in strings or as a method name; only a name
     * declaration whose value decodes as a package of integers counts. */
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(aml + i, "_S5_", 4) != 0 || !aml_is_name_decl(aml, i))
            continue;
        int rc = aml_s5_package(aml + i + 4, len - i - 4, typa, typb);
        if (rc == 0)
            return 0;
        if (rc == -ERANGE)
            pr_warn("acpi: \\_S5_ sleep type out of range\n");
    }
    return -ENOENT;
}
