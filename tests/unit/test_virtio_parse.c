/* Host tests of the virtio-mmio discovery parsers: the command-line
 * "SIZE@BASE:IRQ[:ID]" form (virtio_mmio_desc.c) and LNRO0005 devices in
 * AML (virtio_acpi.c), including truncated tables that must not be read
 * past their end (AddressSanitizer watches). */
#include "unit.h"
#include <string.h>

#include "drivers/virtio.h"
#include "lib/errno.h"

UNIT_TEST(virtio_mmio_desc_forms)
{
    struct virtio_mmio_desc d;
    CHECK_EQ(virtio_mmio_parse_desc("512@0xfeb00e00:12", &d), 0);
    CHECK(d.size == 512 && d.base == 0xfeb00e00 && d.irq == 12 && d.id == 0);
    CHECK_EQ(virtio_mmio_parse_desc("4K@0xd0000000:5:3", &d), 0);
    CHECK(d.size == 4096 && d.base == 0xd0000000 && d.irq == 5 && d.id == 3);
    CHECK_EQ(virtio_mmio_parse_desc("0x1000@3489660928:47", &d), 0);
    CHECK(d.size == 4096 && d.base == 0xd0000000 && d.irq == 47);
    const char *bad[] = { "", "512", "512@", "512@0x1000", "@0x1000:5", "512@0x1000:", "512@0x1000:5:",
                          "0@0x1000:5", "512@0x1000:300", "512@zz:5", "512@0xffffffffffffffff:5",
                          "1K@0x1000:5:6:7", "123456789012345678901234567890123456789012345678901234567890"
                          "123456789012345678901234567890@0x1:1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int e = virtio_mmio_parse_desc(bad[i], &d);
        if (e != -EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_EQ(e, -EINVAL);
    }
}

/* AML for one QEMU-microvm-style device (see the ACPI spec's Device, Name
 * and ResourceTemplate encodings). Returns bytes written. */
static size_t aml_device(uint8_t *p, uint32_t base, uint32_t size, uint32_t irq, int irq_form)
{
    size_t n = 0;
    p[n++] = 0x5b, p[n++] = 0x82; /* DeviceOp; its PkgLength is patched below */
    size_t pkg = n++;
    memcpy(p + n, "VR00", 4), n += 4;
    p[n++] = 0x08, memcpy(p + n, "_HID", 4), n += 4;
    p[n++] = 0x0d, memcpy(p + n, "LNRO0005", 9), n += 9;
    p[n++] = 0x08, memcpy(p + n, "_UID", 4), n += 4, p[n++] = 0x00;
    p[n++] = 0x08, memcpy(p + n, "_CCA", 4), n += 4, p[n++] = 0x01;
    uint8_t res[64];
    size_t r = 0;
    res[r++] = 0x86, res[r++] = 9, res[r++] = 0, res[r++] = 1; /* Memory32Fixed, read-write */
    for (int k = 0; k < 4; k++) res[r++] = (uint8_t)(base >> (8 * k));
    for (int k = 0; k < 4; k++) res[r++] = (uint8_t)(size >> (8 * k));
    if (irq_form == 0) { /* Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {irq} */
        res[r++] = 0x89, res[r++] = 6, res[r++] = 0, res[r++] = 0x01, res[r++] = 1;
        for (int k = 0; k < 4; k++) res[r++] = (uint8_t)(irq >> (8 * k));
    } else { /* IRQNoFlags() {irq} */
        res[r++] = 0x22, res[r++] = (uint8_t)(1u << irq), res[r++] = (uint8_t)((1u << irq) >> 8);
    }
    res[r++] = 0x79, res[r++] = 0;
    p[n++] = 0x08, memcpy(p + n, "_CRS", 4), n += 4;
    p[n++] = 0x11;
    p[n++] = (uint8_t)(1 + 2 + r); /* PkgLength (one byte), BufferSize, the bytes */
    p[n++] = 0x0a, p[n++] = (uint8_t)r;
    memcpy(p + n, res, r), n += r;
    p[pkg] = (uint8_t)(n - pkg);
    return n;
}

UNIT_TEST(virtio_acpi_finds_lnro0005_devices)
{
    uint8_t aml[512];
    size_t n = 0;
    aml[n++] = 0x10; /* some unrelated bytes first, including the string "LNRO0005" in plain text */
    memcpy(aml + n, "xLNRO0005x", 10), n += 10;
    n += aml_device(aml + n, 0xfeb00000, 0x200, 16, 0);
    n += aml_device(aml + n, 0xfeb00200, 0x200, 5, 1);
    struct virtio_mmio_desc d[4];
    CHECK_EQ(virtio_acpi_find_mmio(aml, n, d, 4), 2);
    CHECK(d[0].base == 0xfeb00000 && d[0].size == 0x200 && d[0].irq == 16);
    CHECK(d[1].base == 0xfeb00200 && d[1].size == 0x200 && d[1].irq == 5);
    CHECK_EQ(virtio_acpi_find_mmio(aml, n, d, 1), 1);
    /* every truncation is handled without reading past the end */
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, aml, len);
        int got = virtio_acpi_find_mmio(copy, len, d, 4);
        CHECK(got >= 0 && got <= 2);
        free(copy);
    }
    /* a _CRS whose length runs past the table is refused */
    uint8_t one[128];
    size_t m = aml_device(one, 0xfeb00000, 0x200, 16, 0);
    for (size_t i = 0; i + 5 < m; i++)
        if (memcmp(one + i, "_CRS", 4) == 0)
            one[i + 5] = 0x3f;
    CHECK_EQ(virtio_acpi_find_mmio(one, m, d, 4), 0);
}
