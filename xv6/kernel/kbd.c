// PC keyboard (scan code set 1) feeding the console.
#include "types.h"
#include "x86.h"
#include "defs.h"

#define KBSTATP 0x64  // status port
#define KBS_DIB 0x01  // data in buffer
#define KBDATAP 0x60  // data port

// Scan codes 0x00..0x39 to characters, without and with shift.
static const char normalmap[] =
  "\0\x1b" "1234567890-=" "\b\t" "qwertyuiop[]" "\n\0" "asdfghjkl;'`"
  "\0\\" "zxcvbnm,./" "\0*\0 ";
static const char shiftmap[] =
  "\0\x1b" "!@#$%^&*()_+" "\b\t" "QWERTYUIOP{}" "\n\0" "ASDFGHJKL:\"~"
  "\0|" "ZXCVBNM<>?" "\0*\0 ";

#define SC_CTRL   0x1D
#define SC_LSHIFT 0x2A
#define SC_RSHIFT 0x36
#define SC_CAPS   0x3A

static int shift, ctrl, caps, escaped;

static int kbdgetc(void) {
  uint sc;
  int released, c;

  if ((inb(KBSTATP) & KBS_DIB) == 0)
    return -1;
  sc = inb(KBDATAP);
  if (sc == 0xE0) {  // extended key: ignore the code that follows
    escaped = 1;
    return 0;
  }
  released = sc & 0x80;
  sc &= 0x7F;
  if (escaped) {
    escaped = 0;
    if (sc == SC_CTRL)  // right ctrl
      ctrl = !released;
    return 0;
  }
  if (sc == SC_CTRL) { ctrl = !released; return 0; }
  if (sc == SC_LSHIFT || sc == SC_RSHIFT) { shift = !released; return 0; }
  if (released)
    return 0;
  if (sc == SC_CAPS) { caps = !caps; return 0; }
  if (sc >= sizeof(normalmap) - 1)
    return 0;

  c = (shift ? shiftmap : normalmap)[sc];
  if (caps && c >= 'a' && c <= 'z')
    c += 'A' - 'a';
  else if (caps && c >= 'A' && c <= 'Z')
    c += 'a' - 'A';
  if (ctrl && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@'))
    c &= 0x1F;
  return c;
}

void kbdintr(void) {
  consoleintr(kbdgetc);
}
