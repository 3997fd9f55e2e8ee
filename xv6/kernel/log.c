// Write-ahead log: makes each file system operation atomic with respect to
// crashes.
//
// A system call brackets its changes with begin_op() and end_op(), and
// changes blocks only through bread / log_write / brelse. log_write merely
// records the block number and pins the buffer (B_DIRTY) in the cache.
// When the last outstanding operation ends, the whole group commits:
//
//   1. copy every modified block to its slot in the log area;
//   2. write the log header with the count: this is the commit point;
//   3. copy the blocks from the log to their home locations;
//   4. write the header with count 0: the log is empty again.
//
// A crash before step 2 loses the group; a crash after it is repaired at
// boot by initlog(), which replays step 3 and 4. Replaying twice is
// harmless, so a crash during recovery is fine too.
//
// On disk, block sb.logstart holds the header, the next blocks the logged
// copies:
//   [ header: n, block[0..n-1] | copy of block[0] | copy of block[1] | ... ]

#include "types.h"
#include "defs.h"
#include "param.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "buf.h"

// The header as stored in block sb.logstart (and mirrored in memory).
struct logheader {
  int n;                 // blocks in the committed group; 0 = empty log
  int block[LOGSIZE];    // home block number of each logged copy
};

// Does not compile if the header outgrows its block.
typedef char logheader_fits_in_a_block[sizeof(struct logheader) <= BSIZE ? 1 : -1];

static struct {
  struct spinlock lock;  // protects everything below
  uint dev;
  uint start;            // block of the header
  int capacity;          // how many blocks a group may log
  int outstanding;       // operations between begin_op and end_op
  int committing;        // a commit is in progress; new ops must wait
  struct logheader lh;   // blocks the current group has modified
} log;

static void recover(struct superblock *sb);
static void commit(void);

void initlog(int dev) {
  struct superblock sb;

  initlock(&log.lock, "log");
  readsb(dev, &sb);
  log.dev = dev;
  log.start = sb.logstart;

  // One log block holds the header; the rest hold copies.
  log.capacity = sb.nlog - 1;
  if (log.capacity > LOGSIZE)
    log.capacity = LOGSIZE;
  if (log.capacity < MAXOPBLOCKS)
    panic("initlog: log area too small");

  recover(&sb);
}

// Copy the logged blocks to their home locations.
static void install(void) {
  struct buf *from, *to;
  int i;

  for (i = 0; i < log.lh.n; i++) {
    from = bread(log.dev, log.start + 1 + i);
    to = bread(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);  // also clears B_DIRTY, unpinning the cached copy
    brelse(from);
    brelse(to);
  }
}

// Load the on-disk header into log.lh.
static void read_head(void) {
  struct buf *b;

  b = bread(log.dev, log.start);
  memmove(&log.lh, b->data, sizeof(log.lh));
  brelse(b);
}

// Store log.lh on disk. Writing a non-zero count commits the group.
static void write_head(void) {
  struct buf *b;

  b = bread(log.dev, log.start);
  memmove(b->data, &log.lh, sizeof(log.lh));
  bwrite(b);
  brelse(b);
}

// Finish a commit that a crash interrupted, if any. A header that names
// blocks outside the inode, bitmap and data areas is not ours to replay.
static void recover(struct superblock *sb) {
  uint bno;
  int i;

  read_head();
  if (log.lh.n < 0 || log.lh.n > log.capacity)
    panic("initlog: corrupt log header");
  for (i = 0; i < log.lh.n; i++) {
    bno = log.lh.block[i];
    if (bno < sb->logstart + sb->nlog || bno >= sb->size)
      panic("initlog: corrupt log header");
  }
  install();
  log.lh.n = 0;
  write_head();
}

// Start a file system operation. Waits while a commit runs, and while the
// log could not hold this operation's worst case (MAXOPBLOCKS) on top of
// what the group has logged and what the other operations may still add.
void begin_op(void) {
  acquire(&log.lock);
  for (;;) {
    if (log.committing ||
       log.lh.n + (log.outstanding + 1) * MAXOPBLOCKS > log.capacity) {
      sleep(&log, &log.lock);
    } else {
      log.outstanding++;
      break;
    }
  }
  release(&log.lock);
}

// Finish a file system operation; the last one out commits the group.
void end_op(void) {
  int docommit = 0;

  acquire(&log.lock);
  if (log.outstanding < 1)
    panic("end_op: no operation in progress");
  if (log.committing)
    panic("end_op: commit in progress");
  log.outstanding--;
  if (log.outstanding == 0) {
    docommit = 1;
    log.committing = 1;
  } else {
    // This operation's reservation is released; a waiter may now fit.
    wakeup(&log);
  }
  release(&log.lock);

  // commit() sleeps on disk I/O, so it runs without log.lock;
  // log.committing keeps everyone else out meanwhile.
  if (docommit) {
    commit();
    acquire(&log.lock);
    log.committing = 0;
    wakeup(&log);
    release(&log.lock);
  }
}

// Copy the modified blocks from the cache into the log area.
static void write_log(void) {
  struct buf *from, *to;
  int i;

  for (i = 0; i < log.lh.n; i++) {
    from = bread(log.dev, log.lh.block[i]);
    to = bread(log.dev, log.start + 1 + i);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    brelse(from);
    brelse(to);
  }
}

// Caller must be the only user of the log (log.committing set).
static void commit(void) {
  if (log.lh.n == 0)
    return;
  write_log();
  write_head();   // commit point
  install();
  log.lh.n = 0;
  write_head();   // the group is on disk; empty the log
}

// Record that b, modified by the current operation, must reach disk with
// the group. Replaces bwrite() inside an operation. The buffer stays pinned
// in the cache until the commit installs it. A block written several times
// in one group takes one log slot (absorption).
// Caller must hold b->lock and be between begin_op and end_op.
void log_write(struct buf *b) {
  int i;

  acquire(&log.lock);
  if (log.outstanding < 1)
    panic("log_write: outside of an operation");
  for (i = 0; i < log.lh.n; i++)
    if (log.lh.block[i] == b->blockno)
      break;
  if (i == log.lh.n) {
    if (log.lh.n >= log.capacity)
      panic("log_write: operation too big for the log");
    log.lh.block[log.lh.n++] = b->blockno;
  }
  b->flags |= B_DIRTY;
  release(&log.lock);
}
