/* /dev/console and /dev/tty: the application's terminal on the serial port.
 * Output goes straight to the UART. Input comes from its interrupt-driven
 * ring through a small line discipline, because the host terminal is in raw
 * mode under QEMU: with ICANON, lines are edited (erase, kill) and handed
 * out whole, with ECHO typed characters are echoed, ICRNL turns Enter's CR
 * into NL, and VEOF (^D) ends input. With --notty (input from a pipe) bytes
 * pass untouched but for ^D, which the host tool sends when its input ends:
 * a serial port cannot signal end of input otherwise (docs/filesystems.md). */
#include "arch/uaccess.h"
#include "core/bootopts.h"
#include "core/proc.h"
#include "drivers/serial.h"
#include "fs/devfs.h"
#include "fs/poll.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

extern struct proc *proc_current(void) __attribute__((weak));

static struct {
    struct mutex lock;           /* readers, the settings */
    struct poll_head poll;
    struct termios termios;
    struct winsize winsize;
    uint8_t buf[4096];           /* input ready for readers (whole lines with ICANON) */
    size_t len, off;
    uint8_t line[4096];          /* ICANON: the line being typed */
    size_t line_len;
    bool rx_on;
    bool eof_pending;
} con = {
    .lock = MUTEX_INIT(con.lock),
    /* Linux's defaults for a fresh terminal (what `stty -a` shows) */
    .termios = {
        .c_iflag = ICRNL | IXON,
        .c_oflag = OPOST | ONLCR,
        .c_cflag = 0x4bf,        /* B38400 CS8 CREAD HUPCL */
        .c_lflag = 0x8a3b,       /* ISIG ICANON ECHO ECHOE ECHOK IEXTEN ECHOCTL ECHOKE */
        .c_cc = { 3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0xf, 0x17, 0x16, 0 },
    },
    .winsize = { 24, 80, 0, 0 },
};

static void console_rx_notify(void)
{
    poll_notify(&con.poll, POLLIN | POLLRDNORM);
}

static int console_open(struct vnode *v, struct file *f)
{
    (void)v, (void)f;
    mutex_lock(&con.lock);
    if (!con.rx_on)
        con.rx_on = serial_rx_enable(console_rx_notify) == 0;
    mutex_unlock(&con.lock);
    return 0;
}

static void console_fill(void);

static bool console_has_input(void *arg)
{
    (void)arg;
    /* typed bytes may only edit a line: with ICANON, readers wake for whole lines */
    if (con.off < con.len || con.eof_pending)
        return true;
    if (serial_rx_available() == 0)
        return false;
    if (!(con.termios.c_lflag & ICANON) || boot_options.notty)
        return true;
    if (!mutex_trylock(&con.lock))
        return true; /* someone is filling: look again under the lock */
    console_fill();
    bool ready = con.off < con.len || con.eof_pending;
    mutex_unlock(&con.lock);
    return ready;
}

#define ECHOE_FLAG 0000020
#define ECHOCTL_FLAG 0001000
#define VERASE_INDEX 2
#define VKILL_INDEX 3

static void echo_bytes(const char *s, size_t n)
{
    if ((con.termios.c_lflag & ECHO) && !boot_options.notty)
        serial_write(s, n);
}

static void echo_erase(unsigned count)
{
    while (count--)
        echo_bytes("\b \b", 3);
}

/* Room in the ready buffer, compacting it first. */
static size_t ready_room(void)
{
    if (con.off) {
        memmove(con.buf, con.buf + con.off, con.len - con.off);
        con.len -= con.off;
        con.off = 0;
    }
    return sizeof(con.buf) - con.len;
}

static void ready_add(const uint8_t *p, size_t n)
{
    n = MIN(n, ready_room());
    memcpy(con.buf + con.len, p, n);
    con.len += n;
}

/* One typed byte in canonical mode: edit the line or finish it. */
static void canonical_byte(uint8_t c)
{
    const uint8_t *cc = con.termios.c_cc;
    if (c == cc[VERASE_INDEX] || c == '\b') {
        if (con.line_len) {
            con.line_len--;
            echo_erase(1);
        }
    } else if (c == cc[VKILL_INDEX]) {
        echo_erase((unsigned)con.line_len);
        con.line_len = 0;
    } else if (c == cc[VEOF]) {
        if (!con.line_len)
            con.eof_pending = true; /* ^D on an empty line: end of input */
        ready_add(con.line, con.line_len);
        con.line_len = 0;
    } else if (c == '\n') {
        if (con.line_len < sizeof(con.line))
            con.line[con.line_len++] = c;
        echo_bytes("\n", 1);
        ready_add(con.line, con.line_len);
        con.line_len = 0;
    } else if (con.line_len < sizeof(con.line) - 1) {
        con.line[con.line_len++] = c;
        if (c < 32 && c != '\t' && (con.termios.c_lflag & ECHOCTL_FLAG)) {
            char ctl[2] = { '^', (char)(c + '@') };
            echo_bytes(ctl, 2);
        } else {
            echo_bytes((const char *)&c, 1);
        }
    }
}

/* Move what the UART received into the ready buffer; caller holds con.lock. */
static void console_fill(void)
{
    uint8_t in[256];
    size_t n;
    while (!con.eof_pending && ready_room() && (n = serial_rx_read(in, MIN(sizeof(in), ready_room()))) > 0) {
        for (size_t i = 0; i < n && !con.eof_pending; i++) {
            uint8_t c = in[i];
            if (boot_options.notty) { /* a byte stream: only the host's ^D means something */
                if (c == 4)
                    con.eof_pending = true;
                else
                    ready_add(&c, 1);
                continue;
            }
            if (c == '\r' && (con.termios.c_iflag & ICRNL))
                c = '\n';
            if (con.termios.c_lflag & ICANON)
                canonical_byte(c);
            else {
                ready_add(&c, 1);
                echo_bytes((const char *)&c, 1);
            }
        }
    }
}

/* Hand out ready bytes; 0 at end of input, -1 when nothing is there yet. */
static ssize_t console_take(struct uio *u)
{
    console_fill();
    if (con.off == con.len) {
        if (!con.eof_pending)
            return -1;
        con.eof_pending = false;
        return 0;
    }
    size_t got = uio_copy_out(u, con.buf + con.off, MIN(con.len - con.off, u->resid));
    con.off += got;
    return uio_result(u, got);
}

static ssize_t console_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)pos;
    for (;;) {
        mutex_lock(&con.lock);
        ssize_t r = console_take(u);
        mutex_unlock(&con.lock);
        if (r >= 0)
            return r;
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        int err = poll_head_wait(&con.poll, console_has_input, NULL, 0);
        if (err == -EINTR)
            return -ERESTARTSYS; /* SA_RESTART handlers resume the read */
        if (err)
            return err;
    }
}

static ssize_t console_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)pos;
    char buf[256];
    size_t done = 0;
    while (u->resid) {
        size_t got = uio_copy_in(u, buf, MIN(u->resid, sizeof(buf)));
        if (!got)
            break;
        serial_write(buf, got);
        done += got;
    }
    return uio_result(u, done);
}

static unsigned console_poll(struct file *f, struct poll_table *pt)
{
    (void)f;
    poll_wait(pt, &con.poll);
    return POLLOUT | POLLWRNORM | (console_has_input(NULL) ? POLLIN | POLLRDNORM : 0);
}

static int console_pid(void)
{
    struct proc *p = proc_current ? proc_current() : NULL;
    return p ? p->pid : 1;
}

static void console_flush_input(void)
{
    char sink[64];
    con.off = con.len = 0;
    con.line_len = 0;
    con.eof_pending = false;
    while (serial_rx_read(sink, sizeof(sink)))
        ;
}

static int console_set_termios(unsigned long cmd, void __user *arg)
{
    struct termios t;
    if (copy_from_user(&t, arg, sizeof(t)))
        return -EFAULT;
    mutex_lock(&con.lock);
    con.termios = t;
    if (cmd == TCSETSF)
        console_flush_input();
    mutex_unlock(&con.lock);
    return 0;
}

static int console_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    (void)f;
    void __user *p = (void __user *)arg;
    /* --notty: a pipe-like console, so isatty() is false and programs do not
     * switch to interactive behaviour for input that is not a person */
    if (boot_options.notty && cmd != FIONREAD)
        return -ENOTTY;
    switch (cmd) {
    case TCGETS:
        return copy_to_user(p, &con.termios, sizeof(con.termios)) ? -EFAULT : 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return console_set_termios(cmd, p);
    case TIOCGWINSZ:
        return copy_to_user(p, &con.winsize, sizeof(con.winsize)) ? -EFAULT : 0;
    case TIOCSWINSZ:
        return copy_from_user(&con.winsize, p, sizeof(con.winsize)) ? -EFAULT : 0;
    case TIOCGPGRP:
    case TIOCGSID:
        return put_user_u32(p, (uint32_t)console_pid());
    case TIOCSPGRP:
    case TIOCSCTTY:
    case TIOCNOTTY:
    case TCSBRK:
    case TCXONC:
        return 0;
    case TIOCOUTQ:
        return put_user_u32(p, 0);
    case FIONREAD: {
        mutex_lock(&con.lock);
        uint32_t n = (uint32_t)(con.len - con.off + serial_rx_available());
        mutex_unlock(&con.lock);
        return put_user_u32(p, n);
    }
    case TCFLSH:
        if (arg > 2)
            return -EINVAL;
        if (arg != 1) { /* TCIFLUSH or TCIOFLUSH */
            mutex_lock(&con.lock);
            console_flush_input();
            mutex_unlock(&con.lock);
        }
        return 0;
    default:
        return -ENOTTY;
    }
}

static const struct file_ops console_fops = {
    .open = console_open,
    .read = console_read,
    .write = console_write,
    .ioctl = console_ioctl,
    .poll = console_poll,
    .flags = FOPS_STREAM,
};

void devfs_console_register(void)
{
    poll_head_init(&con.poll);
    vfs_chrdev_register(MKDEV(DEV_TTYAUX_MAJOR, DEV_CONSOLE_MINOR), "console", &console_fops);
    vfs_chrdev_register(MKDEV(DEV_TTYAUX_MAJOR, DEV_TTY_MINOR), "tty", &console_fops);
}
