// Pipes: a bounded byte queue between a read end and a write end, each an
// open file. The struct pipe and its buffer share one kalloc'd page, which
// is freed when both ends have been closed.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"

#define PIPESIZE 2048  // a power of two, so the counters may wrap around
#define PIPECHUNK 256  // bytes moved between user memory and the pipe at a time

struct pipe {
  struct spinlock lock;  // protects everything below
  uint nread;            // bytes read so far
  uint nwrite;           // bytes written so far; nread <= nwrite <= nread + PIPESIZE
  int readopen;          // read end still open?
  int writeopen;         // write end still open?
  char data[PIPESIZE];   // byte i of the stream is at data[i % PIPESIZE]
};

// Does not compile if struct pipe outgrows its page.
typedef char pipe_fits_in_a_page[sizeof(struct pipe) <= PGSIZE ? 1 : -1];

// Create a pipe and its two ends: *rf for reading, *wf for writing.
// Returns 0, or -1 with nothing allocated.
int
pipealloc(struct file **rf, struct file **wf)
{
  struct pipe *p = 0;

  *rf = *wf = 0;
  if((*rf = filealloc()) == 0 || (*wf = filealloc()) == 0)
    goto fail;
  if((p = (struct pipe*)kalloc_as(OWNER_PIPE)) == 0)
    goto fail;

  initlock(&p->lock, "pipe");
  p->nread = 0;
  p->nwrite = 0;
  p->readopen = 1;
  p->writeopen = 1;

  (*rf)->type = FD_PIPE;
  (*rf)->readable = 1;
  (*rf)->writable = 0;
  (*rf)->pipe = p;
  (*wf)->type = FD_PIPE;
  (*wf)->readable = 0;
  (*wf)->writable = 1;
  (*wf)->pipe = p;
  return 0;

fail:
  // The files are still FD_NONE, so closing them only frees the slots.
  if(*rf)
    fileclose(*rf);
  if(*wf)
    fileclose(*wf);
  *rf = *wf = 0;
  return -1;
}

// Close one end, waking whoever waits on the other. The last close frees
// the page.
void
pipeclose(struct pipe *p, int writable)
{
  int unused;

  acquire(&p->lock);
  if(writable){
    p->writeopen = 0;
    wakeup(&p->nread);
  } else {
    p->readopen = 0;
    wakeup(&p->nwrite);
  }
  unused = !p->readopen && !p->writeopen;
  release(&p->lock);
  if(unused)
    kfree((char*)p);
}

// Write all n bytes from user memory at uva, sleeping while the pipe is
// full. The bytes are copied in a chunk at a time, without the lock held.
// Returns n, or -1 if the read end is closed, the writer is killed or uva
// cannot be read.
int
pipewrite(struct pipe *p, uint uva, int n)
{
  char chunk[PIPECHUNK];
  int done, m, i;

  for(done = 0; done < n; done += m){
    m = n - done < PIPECHUNK ? n - done : PIPECHUNK;
    if(copy_from_user(chunk, uva + done, m) < 0)
      return -1;
    acquire(&p->lock);
    for(i = 0; i < m; i++){
      while(p->nwrite == p->nread + PIPESIZE){
        if(!p->readopen || myproc()->killed){
          release(&p->lock);
          return syserr(p->readopen ? ERR_KILLED : ERR_PIPE, 0);
        }
        wakeup(&p->nread);
        sleep(&p->nwrite, &p->lock);
      }
      if(!p->readopen){
        release(&p->lock);
        return syserr(ERR_PIPE, 0);
      }
      p->data[p->nwrite++ % PIPESIZE] = chunk[i];
    }
    wakeup(&p->nread);
    release(&p->lock);
  }
  return n;
}

// Read up to n bytes into user memory at uva, sleeping while the pipe is
// empty and a writer remains. The bytes are taken a chunk at a time under
// the lock and copied out without it. Returns the count, 0 at end of
// stream, or -1 if killed or uva cannot be written.
int
piperead(struct pipe *p, uint uva, int n)
{
  char chunk[PIPECHUNK];
  int done, m;

  acquire(&p->lock);
  while(p->nread == p->nwrite && p->writeopen){
    if(myproc()->killed){
      release(&p->lock);
      return syserr(ERR_KILLED, 0);
    }
    sleep(&p->nread, &p->lock);
  }
  for(done = 0; done < n && p->nread != p->nwrite; done += m){
    for(m = 0; m < PIPECHUNK && done + m < n && p->nread != p->nwrite; m++)
      chunk[m] = p->data[p->nread++ % PIPESIZE];
    release(&p->lock);
    if(copy_to_user(uva + done, chunk, m) < 0)
      return -1;
    acquire(&p->lock);
  }
  wakeup(&p->nwrite);
  release(&p->lock);
  return done;
}
