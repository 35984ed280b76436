/* Early consoles: the 16550 UART (COM1) and QEMU's debugcon port. */
#pragma once

#include "lib/types.h"

#define SERIAL_COM1 0x3f8
#define DEBUGCON_PORT 0xe9

void serial_init(void);
void serial_write(const char *s, size_t n);
bool serial_present(void);
/* A record line for the host tool ("\x1eexit=N\n"), after a newline if the
 * console is mid-line: used when there is no debugcon log channel. */
void serial_write_record(const char *s, size_t n);
/* Non-blocking read of one byte; -1 when none is waiting. */
int serial_read_byte(void);

/* Console input: the UART's receive interrupt (ISA IRQ 4) fills a ring
 * buffer; notify (interrupt context) runs after new bytes arrive. */
int serial_rx_enable(void (*notify)(void));
/* Take up to n received bytes; the count taken. */
size_t serial_rx_read(void *buf, size_t n);
size_t serial_rx_available(void);

/* QEMU's isa-debugcon at DEBUGCON_PORT: a write-only side channel that the host
 * tool reads as the kernel log (and exit record), separate from the app's console. */
bool debugcon_probe(void);
void debugcon_write(const char *s, size_t n);
