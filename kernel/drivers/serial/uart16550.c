/* 16550 UART on COM1: the console from the first C instructions on. Polled
 * output; input by interrupt into a ring buffer once the console device asks.
 * The device is always present on QEMU, Firecracker and Cloud Hypervisor. */
#include "drivers/serial.h"
#include "arch/io.h"
#include "arch/ioapic.h"
#include "arch/lapic.h"
#include "arch/spinlock.h"
#include "arch/trap.h"
#include "lib/errno.h"

#define UART_DATA 0
#define UART_IER 1
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCRATCH 7
#define UART_IIR 2
#define IER_RX_AVAILABLE 0x01
#define MCR_OUT2 0x08       /* gates the UART's interrupt line on PCs */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static bool serial_ok;
static void serial_rx_stash_early(void);

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
    /* The FIFOs stay as they are: switching them on clears them, which
     * loses a byte the host delivers in between (a pipe fed ahead of us).
     * Without a FIFO the UART holds one byte and the host waits until it is
     * read, so input is flow-controlled, never dropped. */
    serial_rx_stash_early();
    outb(SERIAL_COM1 + UART_MCR, 0x03);   /* DTR, RTS */
    serial_ok = true;
}

bool serial_present(void)
{
    return serial_ok;
}

static char serial_last_byte = '\n';

/* Records for the host tool must start a line of their own. */
void serial_write_record(const char *s, size_t n)
{
    if (serial_last_byte != '\n')
        serial_write("\n", 1);
    serial_write(s, n);
}

void serial_write(const char *s, size_t n)
{
    if (!serial_ok)
        return;
    if (n)
        serial_last_byte = s[n - 1];
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

/* ---- input ---- */

#define RX_RING_SIZE 4096 /* power of two */

static struct {
    spinlock_t lock;
    uint8_t buf[RX_RING_SIZE];
    uint32_t head, tail;  /* head - tail bytes are waiting */
    void (*notify)(void);
    bool enabled;
} rx = { .lock = SPINLOCK_INIT };

/* Input that arrived before the kernel set the UART up (the host may type
 * or pipe ahead): keep it for the console. Runs once, before interrupts. */
static void serial_rx_stash_early(void)
{
    for (int i = 0; i < 64 && (inb(SERIAL_COM1 + UART_LSR) & LSR_DATA_READY); i++)
        rx.buf[rx.head++ % RX_RING_SIZE] = inb(SERIAL_COM1 + UART_DATA);
}

static void serial_rx_irq(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    bool got = false;
    spin_lock_raw(&rx.lock);
    /* Drain the FIFO even when the ring is full: a byte left there would
     * keep the interrupt asserted. The oldest input wins. */
    for (int i = 0; i < 256 && (inb(SERIAL_COM1 + UART_LSR) & LSR_DATA_READY); i++) {
        uint8_t c = inb(SERIAL_COM1 + UART_DATA);
        if (rx.head - rx.tail < RX_RING_SIZE) {
            rx.buf[rx.head++ % RX_RING_SIZE] = c;
            got = true;
        }
    }
    spin_unlock_raw(&rx.lock);
    if (got && rx.notify)
        rx.notify();
}

int serial_rx_enable(void (*notify)(void))
{
    if (!serial_ok)
        return -ENODEV;
    if (rx.enabled)
        return 0;
    int vector = trap_alloc_vector();
    if (vector < 0)
        return -EBUSY;
    rx.notify = notify;
    trap_set_irq_handler((unsigned)vector, serial_rx_irq, NULL);
    int err = ioapic_route_isa_irq(4, (uint8_t)vector, lapic_id());
    if (err)
        return err;
    rx.enabled = true;
    outb(SERIAL_COM1 + UART_MCR, 0x03 | MCR_OUT2);
    outb(SERIAL_COM1 + UART_IER, IER_RX_AVAILABLE);
    irqflags_t fl = irq_save(); /* bytes that came before the interrupt was on */
    serial_rx_irq(NULL, NULL);
    irq_restore(fl);
    return 0;
}

size_t serial_rx_read(void *buf, size_t n)
{
    uint8_t *out = buf;
    size_t got = 0;
    irqflags_t f = spin_lock(&rx.lock);
    while (got < n && rx.tail != rx.head)
        out[got++] = rx.buf[rx.tail++ % RX_RING_SIZE];
    spin_unlock(&rx.lock, f);
    return got;
}

size_t serial_rx_available(void)
{
    irqflags_t f = spin_lock(&rx.lock);
    size_t n = rx.head - rx.tail;
    spin_unlock(&rx.lock, f);
    return n;
}
