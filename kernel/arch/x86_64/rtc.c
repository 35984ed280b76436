/* CMOS real-time clock: read once at boot for the wall-clock time. */
#include "arch/io.h"
#include "arch/timesrc.h"
#include "lib/time.h"

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static int bcd_to_bin(uint8_t v)
{
    return (v & 0x0f) + (v >> 4) * 10;
}

struct rtc_fields {
    uint8_t sec, min, hour, day, month, year, century;
};

static void rtc_snapshot(struct rtc_fields *f)
{
    /* wait until no update is in progress (status A bit 7) */
    for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        ;
    f->sec = cmos_read(0x00);
    f->min = cmos_read(0x02);
    f->hour = cmos_read(0x04);
    f->day = cmos_read(0x07);
    f->month = cmos_read(0x08);
    f->year = cmos_read(0x09);
    f->century = cmos_read(0x32);
}

int64_t rtc_read_epoch(void)
{
    if (cmos_read(0x0a) == 0xff && cmos_read(0x0b) == 0xff)
        return -1; /* no RTC */
    struct rtc_fields a, b;
    rtc_snapshot(&a);
    do { /* read until two snapshots agree, so no field rolled over midway */
        b = a;
        rtc_snapshot(&a);
    } while (a.sec != b.sec || a.min != b.min || a.hour != b.hour || a.day != b.day);
    uint8_t status_b = cmos_read(0x0b);
    bool binary = status_b & 0x04, h24 = status_b & 0x02;
    bool pm = a.hour & 0x80;
    a.hour &= 0x7f;
    int sec = binary ? a.sec : bcd_to_bin(a.sec), min = binary ? a.min : bcd_to_bin(a.min);
    int hour = binary ? a.hour : bcd_to_bin(a.hour), day = binary ? a.day : bcd_to_bin(a.day);
    int month = binary ? a.month : bcd_to_bin(a.month), year = binary ? a.year : bcd_to_bin(a.year);
    int century = binary ? a.century : bcd_to_bin(a.century);
    if (!h24) {
        hour %= 12;
        if (pm)
            hour += 12;
    }
    year += (century >= 19 && century <= 30) ? century * 100 : 2000;
    return time_from_civil(year, month, day, hour, min, sec);
}
