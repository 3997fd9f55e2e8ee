// Open files: the system-wide table of struct file that file descriptors
// point to, and read/write/stat/close on them whether they are inodes
// (files, directories, devices) or pipe ends. Also defines devsw, the
// table of device drivers indexed by major number.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "stat.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"

struct devsw devsw[NDEV];

// A file with ref == 0 is free. ftable.lock protects every ref; the other
// fields are set while ref goes from 0 to 1 and read-only afterwards,
// except off, which fileread/filewrite update under the inode lock.
static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

// The largest write one log operation can hold (1536 bytes). Besides its
// data blocks (one more than n / BSIZE when the offset is unaligned) a
// write may dirty the inode, the indirect block and two bitmap blocks;
// taking half of what those leave is a safe bound for the data.
#define MAXWRITE (((MAXOPBLOCKS - 1 - 1 - 2) / 2) * BSIZE)

void
fileinit(void)
{
  initlock(&ftable.lock, "ftable");
}

// Allocate a file with ref 1, or return 0 if the table is full.
struct file*
filealloc(void)
{
  struct file *f;

  acquire(&ftable.lock);
  for(f = ftable.file; f < ftable.file + NFILE; f++){
    if(f->ref == 0){
      f->ref = 1;
      f->type = FD_NONE;
      f->readable = 0;
      f->writable = 0;
      f->pipe = 0;
      f->ip = 0;
      f->off = 0;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

struct file*
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("filedup: file not open");
  f->ref++;
  release(&ftable.lock);
  return f;
}

// Drop a reference; the last one releases the pipe end or inode.
void
fileclose(struct file *f)
{
  struct file copy;

  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("fileclose: file not open");
  if(--f->ref > 0){
    release(&ftable.lock);
    return;
  }
  // Free the slot now; closing the object below may sleep.
  copy = *f;
  f->type = FD_NONE;
  release(&ftable.lock);

  if(copy.type == FD_PIPE){
    pipeclose(copy.pipe, copy.writable);
  } else if(copy.type == FD_INODE){
    begin_op();
    iput(copy.ip);
    end_op();
  }
}

// Fill *st for an inode file. Returns -1 for pipes.
int
filestat(struct file *f, struct stat *st)
{
  if(f->type != FD_INODE)
    return -1;
  ilock(f->ip);
  stati(f->ip, st);
  iunlock(f->ip);
  return 0;
}

// Read up to n bytes into user memory at uva. Returns bytes read, 0 at
// end, -1 on error.
int
fileread(struct file *f, uint uva, int n)
{
  int r;

  if(!f->readable || n < 0)
    return syserr(ERR_PERM, n);
  if(f->type == FD_PIPE)
    return piperead(f->pipe, uva, n);
  if(f->type != FD_INODE)
    panic("fileread: bad file type");

  ilock(f->ip);
  if((r = readi(f->ip, 1, (char*)uva, f->off, n)) > 0)
    f->off += r;
  iunlock(f->ip);
  return r;
}

// Write n bytes from user memory at uva. Returns n, or -1 if not all of
// it was written.
int
filewrite(struct file *f, uint uva, int n)
{
  int done, chunk, r;

  if(!f->writable || n < 0)
    return syserr(ERR_PERM, n);
  if(f->type == FD_PIPE)
    return pipewrite(f->pipe, uva, n);
  if(f->type != FD_INODE)
    panic("filewrite: bad file type");

  // One log operation per chunk, so no operation outgrows the log.
  for(done = 0; done < n; done += r){
    chunk = n - done;
    if(chunk > MAXWRITE)
      chunk = MAXWRITE;

    begin_op();
    ilock(f->ip);
    if((r = writei(f->ip, 1, (char*)uva + done, f->off, chunk)) > 0)
      f->off += r;
    iunlock(f->ip);
    end_op();

    if(r != chunk)
      return -1;
  }
  return n;
}
