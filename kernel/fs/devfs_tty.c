/* /dev/console and /dev/tty: the application's terminal on the serial port.
 * Output goes straight to the UART; input comes from its interrupt-driven
 * ring, raw, except two things a terminal user expects: CR becomes NL when
 * ICRNL is set (an interactive Enter), and with ICANON set the VEOF
 * character (^D) ends input: a read returns what came before it, or 0. The
 * termios settings are otherwise recorded and reported, not applied. A
 * serial port cannot signal end of input, so when the host closes stdin the
 * guest only sees EOF if the host sends ^D (docs/filesystems.md). */
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
    uint8_t buf[256];            /* bytes taken from the UART, not yet read */
    size_t len, off;
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

static bool console_has_input(void *arg)
{
    (void)arg;
    return con.off < con.len || con.eof_pending || serial_rx_available() > 0;
}

/* Refill the local buffer from the UART ring; caller holds con.lock. */
static void console_fill(void)
{
    if (con.off < con.len)
        return;
    con.off = 0;
    con.len = serial_rx_read(con.buf, sizeof(con.buf));
    if (con.termios.c_iflag & ICRNL)
        for (size_t i = 0; i < con.len; i++)
            if (con.buf[i] == '\r')
                con.buf[i] = '\n';
}

/* Hand out buffered bytes up to a VEOF; -1 when nothing is buffered. */
static ssize_t console_take(struct uio *u)
{
    if (con.eof_pending) {
        con.eof_pending = false;
        return 0;
    }
    console_fill();
    if (con.off == con.len)
        return -1;
    size_t n = con.len - con.off;
    if (con.termios.c_lflag & ICANON) {
        uint8_t *eof = memchr(con.buf + con.off, con.termios.c_cc[VEOF], n);
        if (eof && eof == con.buf + con.off) {
            con.off++; /* ^D first: end of input */
            return 0;
        }
        if (eof)
            n = (size_t)(eof - (con.buf + con.off));
    }
    size_t got = uio_copy_out(u, con.buf + con.off, MIN(n, u->resid));
    con.off += got;
    if (con.off < con.len && (con.termios.c_lflag & ICANON) &&
        con.buf[con.off] == con.termios.c_cc[VEOF]) {
        con.off++;
        con.eof_pending = true; /* the next read says end of input */
    }
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
