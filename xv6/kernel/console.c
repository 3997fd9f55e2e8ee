// The console: output to the CGA screen and COM1, input from the
// keyboard and COM1, line-edited, read through the "console" device.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "traps.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"

static int panicked;  // set by panic(): every CPU stops printing anything else

// cons.lock serialises output; cprintf skips it while panicking.
static struct {
  struct spinlock lock;
  int locking;
} cons;

#define BACKSPACE 0x100
#define CRTPORT 0x3D4
static ushort *crt = (ushort *)P2V(0xB8000);  // CGA text memory, 80x25

static void cgaputc(int c) {
  int pos;
  outb(CRTPORT, 14);
  pos = inb(CRTPORT + 1) << 8;
  outb(CRTPORT, 15);
  pos |= inb(CRTPORT + 1);

  if (c == '\n')
    pos += 80 - pos % 80;
  else if (c == BACKSPACE) {
    if (pos > 0)
      --pos;
  } else
    crt[pos++] = (c & 0xFF) | 0x0700;  // grey on black

  if (pos < 0 || pos > 25 * 80)
    pos = 0;
  if (pos / 80 >= 24) {  // scroll up a line
    memmove(crt, crt + 80, sizeof(crt[0]) * 23 * 80);
    pos -= 80;
    memset(crt + pos, 0, sizeof(crt[0]) * (24 * 80 - pos));
  }
  outb(CRTPORT, 14);
  outb(CRTPORT + 1, pos >> 8);
  outb(CRTPORT, 15);
  outb(CRTPORT + 1, pos);
  crt[pos] = ' ' | 0x0700;
}

static void consputc(int c) {
  if (panicked) {
    cli();
    for (;;)
      hlt();
  }
  if (c == BACKSPACE) {
    uartputc('\b');
    uartputc(' ');
    uartputc('\b');
  } else {
    uartputc(c);
  }
  cgaputc(c);
}

static void printint(int xx, int base, int sign) {
  static char digits[] = "0123456789abcdef";
  char buf[16];
  int i = 0;
  uint x;
  if (sign && xx < 0)
    x = -xx;
  else
    x = xx;
  do {
    buf[i++] = digits[x % base];
  } while ((x /= base) != 0);
  if (sign && xx < 0)
    buf[i++] = '-';
  while (--i >= 0)
    consputc(buf[i]);
}

// Kernel printf: %d %u %x %p %s %c %%.
void cprintf(char *fmt, ...) {
  int i, c, locking = cons.locking;
  uint *argp = (uint *)(void *)(&fmt + 1);
  char *s;

  if (locking)
    acquire(&cons.lock);
  if (fmt == 0)
    panic("cprintf: null fmt");
  for (i = 0; (c = fmt[i] & 0xff) != 0; i++) {
    if (c != '%') {
      consputc(c);
      continue;
    }
    c = fmt[++i] & 0xff;
    if (c == 0)
      break;
    switch (c) {
    case 'd': printint(*argp++, 10, 1); break;
    case 'u': printint(*argp++, 10, 0); break;
    case 'x':
    case 'p': printint(*argp++, 16, 0); break;
    case 's':
      if ((s = (char *)*argp++) == 0)
        s = "(null)";
      for (; *s; s++)
        consputc(*s);
      break;
    case 'c': consputc(*argp++); break;
    case '%': consputc('%'); break;
    default:  // unknown: print it as written
      consputc('%');
      consputc(c);
      break;
    }
  }
  if (locking)
    release(&cons.lock);
}

void panic(char *s) {
  uint pcs[10];
  int i;
  cli();
  cons.locking = 0;
  cprintf("cpu %d: panic: %s\n", lapicid(), s);
  getcallerpcs(&s, pcs);
  for (i = 0; i < 10; i++)
    cprintf(" %p", pcs[i]);
  cprintf("\n");
  panicked = 1;
  for (;;)
    hlt();
}

// The input line buffer: a circular buffer with three indices.
//   r: next byte a reader takes; w: end of the last complete line;
//   e: end of what has been typed (edit point).
#define INPUT_BUF 128
static struct {
  char buf[INPUT_BUF];
  uint r, w, e;
} input;

#define C(x) ((x) - '@')  // Control-x

// Called by the keyboard and COM1 interrupt handlers with a function
// that returns the next input byte, or -1 when there is none.
void consoleintr(int (*getc)(void)) {
  int c, dump = 0;
  acquire(&cons.lock);
  while ((c = getc()) >= 0) {
    switch (c) {
    case C('P'):  // process list; printed after releasing the lock
      dump = 1;
      break;
    case C('U'):  // erase the line
      while (input.e != input.w && input.buf[(input.e - 1) % INPUT_BUF] != '\n') {
        input.e--;
        consputc(BACKSPACE);
      }
      break;
    case C('H'):
    case '\x7f':  // backspace
      if (input.e != input.w) {
        input.e--;
        consputc(BACKSPACE);
      }
      break;
    default:
      if (c != 0 && input.e - input.r < INPUT_BUF) {
        c = (c == '\r') ? '\n' : c;
        input.buf[input.e++ % INPUT_BUF] = c;
        consputc(c);
        if (c == '\n' || c == C('D') || input.e == input.r + INPUT_BUF) {
          input.w = input.e;
          wakeup(&input.r);
        }
      }
      break;
    }
  }
  release(&cons.lock);
  if (dump)
    procdump();
}

// Read up to n bytes of console input, up to and including a newline,
// into dst (a user address if user is set). ^D ends the input (returns 0
// when it is the first byte).
static int consoleread(struct inode *ip, int user, char *dst, int n) {
  int target = n;
  char c;
  iunlock(ip);
  acquire(&cons.lock);
  while (n > 0) {
    while (input.r == input.w) {
      if (myproc()->killed) {
        release(&cons.lock);
        ilock(ip);
        return -1;
      }
      sleep(&input.r, &cons.lock);
    }
    c = input.buf[input.r++ % INPUT_BUF];
    if (c == C('D')) {
      if (n < target)
        input.r--;  // keep ^D so the next read returns 0
      break;
    }
    // Not under cons.lock: storing into user memory may fault a page in.
    release(&cons.lock);
    if (either_copyout(user, dst++, &c, 1) < 0) {
      ilock(ip);
      return -1;
    }
    acquire(&cons.lock);
    --n;
    if (c == '\n')
      break;
  }
  release(&cons.lock);
  ilock(ip);
  return target - n;
}

// Print n bytes from src (a user address if user is set), a chunk at a
// time, each chunk copied in before cons.lock is taken.
static int consolewrite(struct inode *ip, int user, char *src, int n) {
  char chunk[64];
  int done, m, i;
  iunlock(ip);
  for (done = 0; done < n; done += m) {
    m = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
    if (either_copyin(user, chunk, src + done, m) < 0)
      break;
    acquire(&cons.lock);
    for (i = 0; i < m; i++)
      consputc(chunk[i] & 0xff);
    release(&cons.lock);
  }
  ilock(ip);
  return done;
}

void consoleinit(void) {
  initlock(&cons.lock, "console");
  devsw[CONSOLE].write = consolewrite;
  devsw[CONSOLE].read = consoleread;
  cons.locking = 1;
  ioapicenable(IRQ_KBD, 0);
}
