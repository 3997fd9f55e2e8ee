// File system: blocks, inodes, directories and path names, built on the
// buffer cache (bio.c) and the log (log.c).
//
//   blocks       balloc/bfree keep the free-block bitmap.
//   inodes       a table of in-memory inodes caches the on-disk ones; ialloc,
//                iget/idup/iput count references, ilock/iunlock guard the
//                contents, readi/writei move file data through bmap.
//   directories  a directory is a file of struct dirent; dirlookup, dirlink.
//   names        namei/nameiparent walk a path one element at a time.
//
// Every function that changes the disk must run inside a log operation
// (begin_op/end_op) and writes blocks with log_write, never bwrite.
// Running out of disk blocks, inodes or inode table slots is an error
// value (0 or -1), not a panic: user programs can cause all three.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "stat.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "buf.h"
#include "file.h"

static struct superblock sb;  // of ROOTDEV; set once by iinit

// ---- superblock and blocks ----

void readsb(int dev, struct superblock *out) {
  struct buf *bp;

  bp = bread(dev, 1);
  memmove(out, bp->data, sizeof(*out));
  brelse(bp);
}

// Fill a block with zeros, through the log.
static void bzero(int dev, uint bno) {
  struct buf *bp;

  bp = bread(dev, bno);
  memset(bp->data, 0, BSIZE);
  log_write(bp);
  brelse(bp);
}

// Allocate a zeroed data block. Returns its number, or 0 if the disk is
// full (block 0 is never a data block).
static uint balloc(uint dev) {
  struct buf *bp;
  uint base, bit, mask;

  for (base = 0; base < sb.size; base += BPB) {
    bp = bread(dev, BBLOCK(base, sb));
    for (bit = 0; bit < BPB && base + bit < sb.size; bit++) {
      mask = 1 << (bit % 8);
      if ((bp->data[bit / 8] & mask) == 0) {
        bp->data[bit / 8] |= mask;
        log_write(bp);
        brelse(bp);
        bzero(dev, base + bit);
        return base + bit;
      }
    }
    brelse(bp);
  }
  return 0;
}

// Free blocks on the disk, by the bitmap (sysinfo: tests check that
// removing what they made gives every block back).
uint bfreecount(int dev) {
  struct buf *bp;
  uint base, bit, n = 0;

  for (base = 0; base < sb.size; base += BPB) {
    bp = bread(dev, BBLOCK(base, sb));
    for (bit = 0; bit < BPB && base + bit < sb.size; bit++)
      if ((bp->data[bit / 8] & (1 << (bit % 8))) == 0)
        n++;
    brelse(bp);
  }
  return n;
}

static void bfree(int dev, uint bno) {
  struct buf *bp;
  uint bit = bno % BPB;
  uint mask = 1 << (bit % 8);

  bp = bread(dev, BBLOCK(bno, sb));
  if ((bp->data[bit / 8] & mask) == 0)
    panic("bfree: block already free");
  bp->data[bit / 8] &= ~mask;
  log_write(bp);
  brelse(bp);
}

// ---- the inode table ----
//
// An in-memory inode exists while ref > 0 (open files, current
// directories, transient users such as namei). Its fields from the disk
// are valid only when valid == 1, which ilock ensures.
//
// Locking: itable.lock protects ref, dev and inum of every entry.
// ip->lock protects valid and the copy of the dinode; it is a sleep lock
// because holders do disk I/O. ilock never runs with itable.lock held.

static struct {
  struct spinlock lock;
  struct inode inode[NINODE];
} itable;

void iinit(int dev) {
  int i;

  initlock(&itable.lock, "itable");
  for (i = 0; i < NINODE; i++)
    initsleeplock(&itable.inode[i].lock, "inode");

  readsb(dev, &sb);
  cprintf("fs: %d blocks (%d data), %d inodes, log at %d (%d), "
          "inodes at %d, bitmap at %d\n", sb.size, sb.nblocks, sb.ninodes,
          sb.logstart, sb.nlog, sb.inodestart, sb.bmapstart);
}

// Return an unlocked in-memory inode for (dev, inum), taking a reference.
// Does no disk I/O. Returns 0 if the table is full.
static struct inode *iget(uint dev, uint inum) {
  struct inode *ip, *empty = 0;

  acquire(&itable.lock);
  for (ip = itable.inode; ip < itable.inode + NINODE; ip++) {
    if (ip->ref > 0 && ip->dev == dev && ip->inum == inum) {
      ip->ref++;
      release(&itable.lock);
      return ip;
    }
    if (empty == 0 && ip->ref == 0)
      empty = ip;
  }
  if (empty) {
    empty->dev = dev;
    empty->inum = inum;
    empty->ref = 1;
    empty->valid = 0;
  }
  release(&itable.lock);
  return empty;
}

// The on-disk copy of inode inum lives in buffer bp at this address.
static struct dinode *dinode_in(struct buf *bp, uint inum) {
  return (struct dinode*)bp->data + inum % IPB;
}

// Allocate a free on-disk inode of the given type. Returns it unlocked and
// referenced, or 0 if there is no free inode or no table slot.
struct inode *ialloc(uint dev, short type) {
  struct buf *bp;
  struct dinode *dip;
  struct inode *ip;
  uint inum;

  for (inum = 1; inum < sb.ninodes; inum++) {
    bp = bread(dev, IBLOCK(inum, sb));
    dip = dinode_in(bp, inum);
    if (dip->type == 0) {
      // Take the table slot first, so that failing leaves the disk alone.
      if ((ip = iget(dev, inum)) == 0) {
        brelse(bp);
        return 0;
      }
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(bp);
      brelse(bp);
      return ip;
    }
    brelse(bp);
  }
  return 0;
}

// Write ip's in-memory fields to its on-disk inode.
// Caller must hold ip->lock and be inside a log operation.
void iupdate(struct inode *ip) {
  struct buf *bp;
  struct dinode *dip;

  bp = bread(ip->dev, IBLOCK(ip->inum, sb));
  dip = dinode_in(bp, ip->inum);
  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  dip->size = ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(bp);
  brelse(bp);
}

// Take another reference to ip, e.g. for p->cwd in fork.
struct inode *idup(struct inode *ip) {
  acquire(&itable.lock);
  ip->ref++;
  release(&itable.lock);
  return ip;
}

// Lock ip, reading it from disk the first time.
void ilock(struct inode *ip) {
  struct buf *bp;
  struct dinode *dip;

  if (ip == 0 || ip->ref < 1)
    panic("ilock: bad inode");

  acquiresleep(&ip->lock);
  if (!ip->valid) {
    bp = bread(ip->dev, IBLOCK(ip->inum, sb));
    dip = dinode_in(bp, ip->inum);
    ip->type = dip->type;
    ip->major = dip->major;
    ip->minor = dip->minor;
    ip->nlink = dip->nlink;
    ip->size = dip->size;
    memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
    brelse(bp);
    ip->valid = 1;
    if (ip->type == 0)
      panic("ilock: inode is free on disk");
  }
}

void iunlock(struct inode *ip) {
  if (ip == 0 || !holdingsleep(&ip->lock) || ip->ref < 1)
    panic("iunlock: not locked");
  releasesleep(&ip->lock);
}

static void itrunc(struct inode *ip);

// Drop a reference. Dropping the last reference to an inode no directory
// names any more frees it and its blocks, so every iput must run inside a
// log operation.
void iput(struct inode *ip) {
  int lastref;

  acquiresleep(&ip->lock);
  if (ip->valid && ip->nlink == 0) {
    acquire(&itable.lock);
    lastref = (ip->ref == 1);
    release(&itable.lock);
    // With ref == 1 nobody else can reach ip: no directory names it and
    // this caller holds the only reference, so no iget can race with us.
    if (lastref) {
      itrunc(ip);
      ip->type = 0;
      iupdate(ip);
      ip->valid = 0;
    }
  }
  releasesleep(&ip->lock);

  acquire(&itable.lock);
  ip->ref--;
  release(&itable.lock);
}

void iunlockput(struct inode *ip) {
  iunlock(ip);
  iput(ip);
}

// ---- file contents ----
//
// The first NDIRECT blocks of a file are listed in ip->addrs[0..NDIRECT-1];
// the next NINDIRECT in the block ip->addrs[NDIRECT] points to.

// Return the disk block holding block bn of the file, allocating it (and
// the indirect block) if needed. Returns 0 if the disk is full.
// Caller must hold ip->lock; allocating needs a log operation.
static uint bmap(struct inode *ip, uint bn) {
  struct buf *bp;
  uint *table, addr;

  if (bn < NDIRECT) {
    if (ip->addrs[bn] == 0)
      ip->addrs[bn] = balloc(ip->dev);
    return ip->addrs[bn];
  }
  bn -= NDIRECT;
  if (bn >= NINDIRECT)
    panic("bmap: block beyond MAXFILE");

  if (ip->addrs[NDIRECT] == 0 && (ip->addrs[NDIRECT] = balloc(ip->dev)) == 0)
    return 0;
  bp = bread(ip->dev, ip->addrs[NDIRECT]);
  table = (uint*)bp->data;
  if ((addr = table[bn]) == 0 && (addr = balloc(ip->dev)) != 0) {
    table[bn] = addr;
    log_write(bp);
  }
  brelse(bp);
  return addr;
}

// Free all of ip's data blocks and make it empty.
// Caller must hold ip->lock and be inside a log operation.
static void itrunc(struct inode *ip) {
  struct buf *bp;
  uint *table;
  int i;

  for (i = 0; i < NDIRECT; i++) {
    if (ip->addrs[i]) {
      bfree(ip->dev, ip->addrs[i]);
      ip->addrs[i] = 0;
    }
  }
  if (ip->addrs[NDIRECT]) {
    bp = bread(ip->dev, ip->addrs[NDIRECT]);
    table = (uint*)bp->data;
    for (i = 0; i < NINDIRECT; i++)
      if (table[i])
        bfree(ip->dev, table[i]);
    brelse(bp);
    bfree(ip->dev, ip->addrs[NDIRECT]);
    ip->addrs[NDIRECT] = 0;
  }
  ip->size = 0;
  iupdate(ip);
}

// Caller must hold ip->lock.
void stati(struct inode *ip, struct stat *st) {
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// Does a device inode name a driver?
static int devok(struct inode *ip, int writing) {
  if (ip->major < 0 || ip->major >= NDEV)
    return 0;
  return writing ? devsw[ip->major].write != 0 : devsw[ip->major].read != 0;
}

// Copy n bytes at offset off (within one block) to dst: from the page
// cache if a mapping has the page there (its bytes are the current
// ones), else from the block. Returns 0, or -1 if dst could not be
// written. Caller must hold ip->lock.
static int readchunk(struct inode *ip, int user, char *dst, uint off, uint n) {
  struct buf *bp;
  char *cached;
  uint addr;
  int r;

  if ((cached = pcache_peek(ip, off)) != 0)
    return either_copyout(user, dst, cached, n);
  // Every block below ip->size was allocated when it was written.
  if ((addr = bmap(ip, off / BSIZE)) == 0)
    panic("readi: hole in file");
  bp = bread(ip->dev, addr);
  r = either_copyout(user, dst, (char*)bp->data + off % BSIZE, n);
  brelse(bp);
  return r;
}

// Read up to n bytes at offset off into dst, a user address if user is
// set. Returns the number of bytes read (short at end of file or if a
// user page could not be written), or -1. Caller must hold ip->lock.
int readi(struct inode *ip, int user, char *dst, uint off, uint n) {
  uint done, chunk;

  if (ip->type == T_DEV) {
    if (!devok(ip, 0))
      return -1;
    return devsw[ip->major].read(ip, user, dst, n);
  }

  if (off > ip->size || off + n < off)
    return -1;
  if (off + n > ip->size)
    n = ip->size - off;

  for (done = 0; done < n; done += chunk, off += chunk, dst += chunk) {
    chunk = BSIZE - off % BSIZE;
    if (chunk > n - done)
      chunk = n - done;
    if (readchunk(ip, user, dst, off, chunk) < 0)
      return done > 0 ? done : -1;
  }
  return n;
}

// Write n bytes from src at offset off, growing the file if needed.
// Returns the number of bytes written, which is short if the disk fills
// up, or -1 for a bad offset or size.
// Caller must hold ip->lock and be inside a log operation.
int writei(struct inode *ip, int user, char *src, uint off, uint n) {
  struct buf *bp;
  uint done, chunk, addr;
  char *cached;

  if (ip->type == T_DEV) {
    if (!devok(ip, 1))
      return -1;
    return devsw[ip->major].write(ip, user, src, n);
  }

  // Writes may extend a file but not leave a hole in it.
  if (off > ip->size || off + n < off)
    return -1;
  if (off + n > MAXFILE * BSIZE)
    return -1;

  for (done = 0; done < n; done += chunk, off += chunk, src += chunk) {
    if ((addr = bmap(ip, off / BSIZE)) == 0)
      break;
    bp = bread(ip->dev, addr);
    chunk = BSIZE - off % BSIZE;
    if (chunk > n - done)
      chunk = n - done;
    if (either_copyin(user, (char*)bp->data + off % BSIZE, src, chunk) < 0) {
      brelse(bp);
      break;
    }
    // A cached page gets the new bytes too, unless they come from it
    // (write-back): copying them back could undo a store made meanwhile.
    if ((cached = pcache_peek(ip, off)) != 0 && cached != src)
      memmove(cached, (char*)bp->data + off % BSIZE, chunk);
    log_write(bp);
    brelse(bp);
  }

  if (off > ip->size)
    ip->size = off;
  // Even without growth, bmap may have added blocks to ip->addrs.
  iupdate(ip);
  return done;
}

// ---- directories ----

int namecmp(const char *s, const char *t) {
  return strncmp(s, t, DIRSIZ);
}

// Read the directory entry at offset off. Caller must hold dp->lock.
static void dirread(struct inode *dp, uint off, struct dirent *de) {
  if (readi(dp, 0, (char*)de, off, sizeof(*de)) != sizeof(*de))
    panic("dirread: short directory");
}

// Search directory dp for name. Returns the entry's inode number (0 if
// absent) and, if poff is not 0, its byte offset. Caller must hold dp->lock.
static uint dirfind(struct inode *dp, char *name, uint *poff) {
  struct dirent de;
  uint off;

  if (dp->type != T_DIR)
    panic("dirfind: not a directory");

  for (off = 0; off + sizeof(de) <= dp->size; off += sizeof(de)) {
    dirread(dp, off, &de);
    if (de.inum != 0 && namecmp(name, de.name) == 0) {
      if (poff)
        *poff = off;
      return de.inum;
    }
  }
  return 0;
}

// Look name up in directory dp. Returns its inode, unlocked and
// referenced, or 0 if absent (or if the inode table is full).
// Caller must hold dp->lock.
struct inode *dirlookup(struct inode *dp, char *name, uint *poff) {
  uint inum;

  if ((inum = dirfind(dp, name, poff)) == 0)
    return 0;
  return iget(dp->dev, inum);
}

// Add the entry (name, inum) to directory dp. Returns -1 if the name is
// already there or the disk is full.
// Caller must hold dp->lock and be inside a log operation.
int dirlink(struct inode *dp, char *name, uint inum) {
  struct dirent de;
  uint off;

  if (dirfind(dp, name, 0) != 0)
    return -1;

  // Reuse the first free slot, else append.
  for (off = 0; off + sizeof(de) <= dp->size; off += sizeof(de)) {
    dirread(dp, off, &de);
    if (de.inum == 0)
      break;
  }

  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  if (writei(dp, 0, (char*)&de, off, sizeof(de)) != sizeof(de))
    return -1;
  return 0;
}

// ---- path names ----

// Split off the first element of path: copy it (at most DIRSIZ bytes)
// into name and return the rest, with leading slashes skipped, so that
// the caller can test *rest == 0 for "last element". Returns 0 if path
// has no element left.
//   "a/bb/c" -> name "a",  rest "bb/c"
//   "///a//" -> name "a",  rest ""
//   "" or "/" -> 0
static char *skipelem(char *path, char *name) {
  char *start;
  int len;

  while (*path == '/')
    path++;
  if (*path == 0)
    return 0;
  start = path;
  while (*path != '/' && *path != 0)
    path++;
  len = path - start;
  if (len > DIRSIZ)
    len = DIRSIZ;
  memmove(name, start, len);
  if (len < DIRSIZ)
    name[len] = 0;
  while (*path == '/')
    path++;
  return path;
}

// Walk path. Returns the inode it names, or with parent set the inode of
// the directory holding its last element (copied into name, which must
// have room for DIRSIZ bytes). The result is unlocked and referenced;
// 0 on any failure. Caller must be inside a log operation (iput).
static struct inode *namex(char *path, int parent, char *name) {
  struct inode *ip, *next;

  if (*path == '/')
    ip = iget(ROOTDEV, ROOTINO);
  else
    ip = idup(myproc()->cwd);
  if (ip == 0)
    return 0;

  while ((path = skipelem(path, name)) != 0) {
    ilock(ip);
    if (ip->type != T_DIR) {
      iunlockput(ip);
      return 0;
    }
    if (parent && *path == 0) {
      iunlock(ip);
      return ip;
    }
    // A deleted directory is empty: only "." is still in it. Its ".."
    // may name a directory that has been freed since.
    if (ip->nlink < 1 && namecmp(name, ".") != 0) {
      iunlockput(ip);
      return 0;
    }
    next = dirlookup(ip, name, 0);
    // Unlock before locking next: for "." next is ip itself.
    iunlockput(ip);
    if (next == 0)
      return 0;
    ip = next;
  }
  if (parent) {
    // The path had no last element ("/" or "").
    iput(ip);
    return 0;
  }
  return ip;
}

struct inode *namei(char *path) {
  char name[DIRSIZ];

  return namex(path, 0, name);
}

struct inode *nameiparent(char *path, char *name) {
  return namex(path, 1, name);
}
