// A buffer-cache entry: one disk block in memory.
#ifndef XV6_BUF_H
#define XV6_BUF_H
struct buf {
  int flags;
  uint dev;
  uint blockno;
  struct sleeplock lock;  // held while a caller uses data[]
  uint refcnt;            // protected by bcache.lock
  struct buf *prev;       // LRU list, most recent first
  struct buf *next;
  struct buf *qnext;      // disk queue
  uchar data[BSIZE];
};
#define B_VALID 0x2  // data[] holds the block's contents
#define B_DIRTY 0x4  // data[] must be written to disk
#endif
