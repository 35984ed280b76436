/* 16550 UART on COM1: the console from the first C instructions on. Polled
 * output; the device is always present on QEMU, Firecracker and Cloud Hypervisor. */
#include "drivers/serial.h"
#include "arch/io.h"

#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCRATCH 7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static bool serial_ok;

void serial_init(void)
{
    /* The scratch register round-trips on a real 16550; a missing port reads 0xff. */
    outb(SERIAL_COM1 + UART_SCRATCH, 0x5a);
    if (inb(SERIAL_COM1 + UART_SCRATCH) != 0x5a)
        return;
    outb(SERIAL_COM1 + UART_IER, 0x00);   /* polled for now */
    outb(SERIAL_COM1 + UART_LCR, 0x80);   /* divisor latch */
    outb(SERIAL_COM1 + UART_DATA, 0x01);  /* 115200 baud */
    outb(SERIAL_COM1 + UART_IER, 0x00);
    outb(SERIAL_COM1 + UART_LCR, 0x03);   /* 8N1 */
    outb(SERIAL_COM1 + UART_FCR, 0x07);   /* FIFO on, cleared */
    outb(SERIAL_COM1 + UART_MCR, 0x03);   /* DTR, RTS */
    serial_ok = true;
}

bool serial_present(void)
{
    return serial_ok;
}

void serial_write(const char *s, size_t n)
{
    if (!serial_ok)
        return;
    for (size_t i = 0; i < n; i++) {
        /* Bounded wait: a wedged UART must not hang the kernel. */
        for (int spins = 0; spins < 100000; spins++)
            if (inb(SERIAL_COM1 + UART_LSR) & LSR_THR_EMPTY)
                break;
        outb(SERIAL_COM1 + UART_DATA, (uint8_t)s[i]);
    }
}

int serial_read_byte(void)
{
    if (!serial_ok || !(inb(SERIAL_COM1 + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(SERIAL_COM1 + UART_DATA);
}
