/* Early consoles: the 16550 UART (COM1) and QEMU's debugcon port. */
#pragma once

#include "lib/types.h"

#define SERIAL_COM1 0x3f8
#define DEBUGCON_PORT 0xe9

void serial_init(void);
void serial_write(const char *s, size_t n);
bool serial_present(void);
/* Non-blocking read of one byte; -1 when none is waiting. */
int serial_read_byte(void);

/* QEMU's isa-debugcon at DEBUGCON_PORT: a write-only side channel that the host
 * tool reads as the kernel log (and exit record), separate from the app's console. */
bool debugcon_probe(void);
void debugcon_write(const char *s, size_t n);
