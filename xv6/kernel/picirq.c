// The legacy 8259A interrupt controllers. We use the APICs instead, so
// the PICs are only masked off.
#include "types.h"
#include "x86.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

void picinit(void) {
  outb(PIC1_DATA, 0xFF);
  outb(PIC2_DATA, 0xFF);
}
