/* The legacy 8259 PICs: remapped away from the exception vectors and masked,
 * so a stray ISA interrupt can never look like a CPU exception. */
#include "arch/io.h"
#include "arch/pic.h"

void pic_disable(void)
{
    outb(0x20, 0x11); /* ICW1: init, expect ICW4 */
    outb(0xa0, 0x11);
    outb(0x21, 0x20); /* ICW2: vector bases 0x20 and 0x28 */
    outb(0xa1, 0x28);
    outb(0x21, 0x04); /* ICW3: slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01); /* ICW4: 8086 mode */
    outb(0xa1, 0x01);
    outb(0x21, 0xff); /* mask everything */
    outb(0xa1, 0xff);
}
