// Buffer cache: NBUF in-memory copies of disk blocks.
//
// The cache keeps at most one copy of each block, so that all users of a
// block see the same bytes, and it serialises them with a sleep lock per
// buffer. Buffers live on a doubly-linked list in order of last release:
// lookups start at the most recently used end, recycling starts at the
// least recently used end.
//
// Interface:
//   bread(dev, blockno)  returns a locked buffer holding the block;
//   bwrite(b)            writes it to disk (caller holds the lock);
//   brelse(b)            unlocks it; the caller must not touch it after.
//
// A B_DIRTY buffer is one the log has changed but not yet installed; it is
// never recycled, which is how the log keeps its blocks in memory.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "buf.h"

static struct {
  // Protects refcnt, dev, blockno, the list links and nwaiting.
  // Lock order: bcache.lock is never held while sleeping on a buf lock.
  struct spinlock lock;
  struct buf buf[NBUF];

  // Sentinel of the LRU list: head.next is the most recently released.
  struct buf head;

  int nwaiting;  // processes sleeping in bget for a free buffer
} bcache;

void binit(void) {
  struct buf *b;

  initlock(&bcache.lock, "bcache");
  bcache.head.next = &bcache.head;
  bcache.head.prev = &bcache.head;
  for (b = bcache.buf; b < bcache.buf + NBUF; b++) {
    initsleeplock(&b->lock, "buffer");
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
}

// Find a cached copy of (dev, blockno). Caller must hold bcache.lock.
static struct buf *bfind(uint dev, uint blockno) {
  struct buf *b;

  for (b = bcache.head.next; b != &bcache.head; b = b->next)
    if (b->dev == dev && b->blockno == blockno)
      return b;
  return 0;
}

// Find the least recently used buffer nobody holds and the log does not
// need. Caller must hold bcache.lock.
static struct buf *bvictim(void) {
  struct buf *b;

  for (b = bcache.head.prev; b != &bcache.head; b = b->prev)
    if (b->refcnt == 0 && (b->flags & B_DIRTY) == 0)
      return b;
  return 0;
}

// Is any buffer held by someone who will eventually brelse it?
// Caller must hold bcache.lock.
static int banyheld(void) {
  struct buf *b;

  for (b = bcache.buf; b < bcache.buf + NBUF; b++)
    if (b->refcnt > 0)
      return 1;
  return 0;
}

// Return a locked buffer for (dev, blockno), cached or recycled.
// When every buffer is in use, wait for one to be released.
static struct buf *bget(uint dev, uint blockno) {
  struct buf *b;

  acquire(&bcache.lock);
  for (;;) {
    if ((b = bfind(dev, blockno)) != 0) {
      b->refcnt++;
      break;
    }
    if ((b = bvictim()) != 0) {
      b->dev = dev;
      b->blockno = blockno;
      b->flags = 0;
      b->refcnt = 1;
      break;
    }
    // Only dirty buffers left and nobody to release one: the log is
    // larger than the cache allows.
    if (!banyheld())
      panic("bget: every buffer pinned by the log");
    bcache.nwaiting++;
    sleep(&bcache, &bcache.lock);
    bcache.nwaiting--;
  }
  release(&bcache.lock);
  acquiresleep(&b->lock);
  return b;
}

// Return a locked buffer holding the contents of the block.
struct buf *bread(uint dev, uint blockno) {
  struct buf *b;

  b = bget(dev, blockno);
  if ((b->flags & B_VALID) == 0)
    iderw(b);
  return b;
}

// Write b's contents to disk now. Caller must hold b->lock.
void bwrite(struct buf *b) {
  if (!holdingsleep(&b->lock))
    panic("bwrite: buf not locked");
  b->flags |= B_DIRTY;
  iderw(b);
}

// Release a locked buffer. When no one holds it any more it becomes the
// most recently used, and anyone waiting in bget may now recycle it.
void brelse(struct buf *b) {
  if (!holdingsleep(&b->lock))
    panic("brelse: buf not locked");
  releasesleep(&b->lock);

  acquire(&bcache.lock);
  b->refcnt--;
  if (b->refcnt == 0) {
    b->next->prev = b->prev;
    b->prev->next = b->next;
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
    if (bcache.nwaiting > 0)
      wakeup(&bcache);
  }
  release(&bcache.lock);
}
