// The two 16550 serial ports.
//
// COM1 (0x3F8) is a console: output from cprintf, input via interrupts.
// COM2 (0x2F8) carries the event trace and nothing else (trace.c); it is
// output only, polled.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "traps.h"
#include "x86.h"

#define COM1 0x3F8
#define COM2 0x2F8

// Register offsets from the base port.
#define DATA 0    // receive / transmit (DLAB=0); divisor low (DLAB=1)
#define IER  1    // interrupt enable; divisor high (DLAB=1)
#define FCR  2    // FIFO control
#define LCR  3    // line control
#define MCR  4    // modem control
#define LSR  5    // line status
#define  LSR_RX_READY 0x01
#define  LSR_TX_EMPTY 0x20

static int com1_present;
static int com2_present;

// 115200 baud, 8N1, FIFOs on. Returns 0 if no UART answers at base.
static int uart_setup(ushort base, int rx_interrupts) {
  outb(base + FCR, 0x07);          // enable and clear FIFOs
  outb(base + LCR, 0x80);          // DLAB: set the divisor
  outb(base + DATA, 1);            // 115200 / 1
  outb(base + IER, 0);
  outb(base + LCR, 0x03);          // 8 bits, no parity, one stop; DLAB off
  outb(base + MCR, 0x0B);          // DTR, RTS, OUT2 (IRQ line enable)
  outb(base + IER, rx_interrupts ? 0x01 : 0);
  return inb(base + LSR) != 0xFF;
}

void uartinit(void) {
  char *p;
  if (!(com1_present = uart_setup(COM1, 1)))
    return;
  // Clear pending state, then take receive interrupts on CPU 0.
  inb(COM1 + 2);
  inb(COM1 + DATA);
  ioapicenable(IRQ_COM1, 0);
  for (p = "xv6 serial console\n"; *p; p++)
    uartputc(*p);
}

static void put(ushort base, int c) {
  int i;
  // Bounded wait: a missing or stuck UART must not hang the kernel.
  for (i = 0; i < 100000 && !(inb(base + LSR) & LSR_TX_EMPTY); i++)
    ;
  outb(base + DATA, c);
}

void uartputc(int c) {
  if (com1_present)
    put(COM1, c);
}

static int uartgetc(void) {
  if (!com1_present || !(inb(COM1 + LSR) & LSR_RX_READY))
    return -1;
  return inb(COM1 + DATA);
}

void uartintr(void) {
  consoleintr(uartgetc);
}

void com2init(void) {
  com2_present = uart_setup(COM2, 0);
}

#define FIFO_DEPTH 16  // a 16550's transmit FIFO

// Send n bytes on COM2 (the trace port). Each port access is a costly
// exit to the emulator, so instead of polling before every byte we wait
// for the transmit FIFO to drain and then fill it: one status read per
// 16 bytes.
void com2write(const uchar *buf, int n) {
  int i, j;
  if (!com2_present)
    return;
  for (i = 0; i < n; i += FIFO_DEPTH) {
    for (j = 0; j < 100000 && !(inb(COM2 + LSR) & LSR_TX_EMPTY); j++)
      ;
    outsb(COM2 + DATA, buf + i, n - i < FIFO_DEPTH ? n - i : FIFO_DEPTH);
  }
}
