// Disk driver for the first IDE disk (primary channel, drive 0), which holds
// the file system image. It moves data by programmed I/O, one 512-byte sector
// per block, and learns of completion from the IDE interrupt.
//
// Requests wait in a FIFO queue; the request at the head is the one the
// controller is working on. iderw() queues a buffer and sleeps on it;
// ideintr() finishes the head request and starts the next one.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "traps.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "buf.h"

#define SECTOR_SIZE 512

// Command-block registers of the primary channel.
#define IDE_DATA     0x1F0  // 16/32-bit data port
#define IDE_NSECT    0x1F2  // sector count
#define IDE_LBA_LO   0x1F3  // LBA bits 0..7
#define IDE_LBA_MID  0x1F4  // LBA bits 8..15
#define IDE_LBA_HI   0x1F5  // LBA bits 16..23
#define IDE_SELECT   0x1F6  // drive select + LBA bits 24..27
#define IDE_STATUS   0x1F7  // read: status
#define IDE_COMMAND  0x1F7  // write: command
#define IDE_CONTROL  0x3F6  // device control; 0 = interrupts on

// Status bits.
#define IDE_BSY  0x80  // controller busy
#define IDE_DRDY 0x40  // drive ready
#define IDE_DF   0x20  // drive fault
#define IDE_ERR  0x01  // error

// Commands.
#define IDE_CMD_READ  0x20  // read sectors (PIO)
#define IDE_CMD_WRITE 0x30  // write sectors (PIO)

// Drive select: LBA addressing, drive 0.
#define IDE_SELECT_DRIVE0 0xE0

#if BSIZE != SECTOR_SIZE
#error "ide.c assumes one disk block is one sector"
#endif

static struct spinlock idelock;  // protects idequeue and the controller
static struct buf *idequeue;     // pending requests; head is in flight

// Spin until the controller is not busy and the drive is ready.
// Returns -1 if the drive reports a fault or an error, 0 otherwise.
static int idewait(void) {
  int status;

  while (((status = inb(IDE_STATUS)) & (IDE_BSY | IDE_DRDY)) != IDE_DRDY)
    ;
  if (status & (IDE_DF | IDE_ERR))
    return -1;
  return 0;
}

void ideinit(void) {
  initlock(&idelock, "ide");
  ioapicenable(IRQ_IDE, ncpu - 1);

  // With nothing attached the bus floats high and reads as 0xFF;
  // waiting for "ready" would then spin forever.
  outb(IDE_SELECT, IDE_SELECT_DRIVE0);
  if (inb(IDE_STATUS) == 0xFF)
    panic("ideinit: no disk (attach fs.img as IDE drive 0)");
  idewait();
}

// Program the controller for b's block. Caller must hold idelock,
// and b must be at the head of idequeue.
static void idestart(struct buf *b) {
  uint sector = b->blockno;

  if (sector >= FSSIZE)
    panic("idestart: block number out of range");

  idewait();
  outb(IDE_CONTROL, 0);
  outb(IDE_NSECT, 1);
  outb(IDE_LBA_LO, sector & 0xFF);
  outb(IDE_LBA_MID, (sector >> 8) & 0xFF);
  outb(IDE_LBA_HI, (sector >> 16) & 0xFF);
  outb(IDE_SELECT, IDE_SELECT_DRIVE0 | ((sector >> 24) & 0x0F));
  if (b->flags & B_DIRTY) {
    outb(IDE_COMMAND, IDE_CMD_WRITE);
    outsl(IDE_DATA, b->data, BSIZE / 4);
  } else {
    outb(IDE_COMMAND, IDE_CMD_READ);
  }
}

// Interrupt handler: the head request has finished.
void ideintr(void) {
  struct buf *b;

  acquire(&idelock);
  b = idequeue;
  if (b == 0) {
    // Spurious or left over from before a request was queued.
    release(&idelock);
    return;
  }
  idequeue = b->qnext;

  if (!(b->flags & B_DIRTY)) {
    if (idewait() < 0)
      panic("ideintr: disk read error");
    insl(IDE_DATA, b->data, BSIZE / 4);
  }

  // The buffer now matches the disk.
  b->flags |= B_VALID;
  b->flags &= ~B_DIRTY;
  wakeup(b);

  if (idequeue)
    idestart(idequeue);
  release(&idelock);
}

// Bring b up to date with the disk: write it if B_DIRTY, else read it if
// not B_VALID. Caller must hold b->lock. Every device number maps to
// drive 0, the only disk.
void iderw(struct buf *b) {
  struct buf **pp;

  if (!holdingsleep(&b->lock))
    panic("iderw: buf not locked");
  if ((b->flags & (B_VALID | B_DIRTY)) == B_VALID)
    panic("iderw: nothing to do");

  acquire(&idelock);

  b->qnext = 0;
  for (pp = &idequeue; *pp; pp = &(*pp)->qnext)
    ;
  *pp = b;

  // An idle controller does not interrupt, so start it here.
  if (idequeue == b)
    idestart(b);

  while ((b->flags & (B_VALID | B_DIRTY)) != B_VALID)
    sleep(b, &idelock);

  release(&idelock);
}
