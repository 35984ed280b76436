/* Legacy 8259 PIC. */
#pragma once

void pic_disable(void);
