/* QEMU isa-debugcon: each byte written to the port goes to a host chardev.
 * Reading the port returns 0xe9 when the device exists (0xff otherwise). */
#include "drivers/serial.h"
#include "arch/io.h"

bool debugcon_probe(void)
{
    return inb(DEBUGCON_PORT) == DEBUGCON_PORT;
}

void debugcon_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        outb(DEBUGCON_PORT, (uint8_t)s[i]);
}
