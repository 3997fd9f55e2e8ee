// exec: replace the current process's user memory with a program loaded
// from an ELF32 file, then return to user mode at its entry point.
//
// The new image is built in a fresh page directory; the old one is freed
// only once nothing can fail any more, so a failed exec returns -1 to the
// unchanged old program. Layout of the new image (docs/design.md):
//
//   heapbase = sz   ┌─────────────────┐
//                   │ stack (1 page)  │  argument strings, argv[], argc, fake pc
//   stackbase       ├─────────────────┤
//                   │ guard (no PTE_U)│  catches stack overflow
//   textend         ├─────────────────┤
//                   │ ELF segments    │
//   0               └─────────────────┘

#include "types.h"
#include "defs.h"
#include "param.h"
#include "stat.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"
#include "elf.h"

#define MAXPHNUM 64  // more program headers than any of our programs need

// Read and check the ELF header. Caller must hold ip->lock.
static int
readelfhdr(struct inode *ip, struct elfhdr *elf)
{
  uint tablesz;

  // Reading a device would call its driver (the console waits for input).
  if(ip->type != T_FILE)
    return -1;
  if(readi(ip, 0, (char*)elf, 0, sizeof(*elf)) != sizeof(*elf))
    return -1;
  if(elf->magic != ELF_MAGIC)
    return -1;
  if(elf->phentsize != sizeof(struct proghdr) || elf->phnum > MAXPHNUM)
    return -1;
  tablesz = elf->phnum * sizeof(struct proghdr);
  if(elf->phoff + tablesz < elf->phoff || elf->phoff + tablesz > ip->size)
    return -1;
  return 0;
}

// Is this loadable segment one we are willing to map?
static int
segmentok(struct proghdr *ph)
{
  if(ph->memsz < ph->filesz)
    return 0;
  if(ph->vaddr + ph->memsz < ph->vaddr)          // wraps around
    return 0;
  if(ph->vaddr + ph->memsz >= KERNBASE)
    return 0;
  if(ph->vaddr % PGSIZE != 0)                   // loaduvm needs this
    return 0;
  return 1;
}

// Map and fill every loadable segment of ip into pgdir. Sets *szp to the
// end of the highest segment. Returns 0, or -1 on a bad file or when out
// of memory. Caller must hold ip->lock.
static int
loadsegments(pde_t *pgdir, struct inode *ip, struct elfhdr *elf, uint *szp)
{
  struct proghdr ph;
  uint off, end, sz = 0;
  int i;

  for(i = 0, off = elf->phoff; i < elf->phnum; i++, off += sizeof(ph)){
    if(readi(ip, 0, (char*)&ph, off, sizeof(ph)) != sizeof(ph))
      return -1;
    if(ph.type != ELF_PROG_LOAD || ph.memsz == 0)
      continue;
    if(!segmentok(&ph))
      return -1;
    end = ph.vaddr + ph.memsz;
    if(end > sz){
      if(allocuvm(pgdir, sz, end) == 0)
        return syserr(ERR_NOMEM, 0);
      sz = end;
    }
    if(loaduvm(pgdir, (char*)ph.vaddr, ip, ph.off, ph.filesz) < 0)
      return -1;
  }
  *szp = sz;
  return 0;
}

// Build the initial stack in the page [stackbase, stackbase + PGSIZE):
// the argument strings at the top, below them the frame main(argc, argv)
// expects, as if called by a function at address 0xffffffff:
//
//   sp -> 0xffffffff, argc, argv, argv[0], ..., argv[argc-1], 0, strings
//
// Sets *spp. Returns 0, or -1 if the arguments do not fit in the page.
static int
pushargs(pde_t *pgdir, uint stackbase, char **argv, uint *spp)
{
  uint frame[3 + MAXARG + 1];
  uint sp = stackbase + PGSIZE;
  uint len, framesz;
  int argc;

  for(argc = 0; argv[argc]; argc++){
    if(argc >= MAXARG)
      return -1;
    len = strlen(argv[argc]) + 1;
    if(len > sp - stackbase)
      return -1;
    sp = (sp - len) & ~3;  // stackbase is page aligned, so still >= stackbase
    if(copyout(pgdir, sp, argv[argc], len) < 0)
      return -1;
    frame[3 + argc] = sp;
  }
  frame[3 + argc] = 0;

  frame[0] = 0xffffffff;           // fake return pc
  frame[1] = argc;
  frame[2] = sp - (argc + 1) * 4;  // where frame[3] lands
  framesz = (3 + argc + 1) * 4;
  if(framesz > sp - stackbase)
    return -1;
  sp -= framesz;
  if(copyout(pgdir, sp, frame, framesz) < 0)
    return -1;
  *spp = sp;
  return 0;
}

// The last element of path, for the process name.
static char*
lastelem(char *path)
{
  char *s, *last = path;

  for(s = path; *s; s++)
    if(*s == '/')
      last = s + 1;
  return last;
}

// The new image starts in a defined state, whatever the old one left in
// its registers: only the interrupt flag set (the direction flag clear,
// as the C calling convention expects), general registers zero.
static void
startregs(struct trapframe *tf, uint eip, uint esp)
{
  tf->edi = tf->esi = tf->ebp = tf->ebx = tf->edx = tf->ecx = tf->eax = 0;
  tf->eflags = FL_IF;
  tf->eip = eip;
  tf->esp = esp;
}

// Replace the current image with the program at path. path and argv (a
// null-terminated array of at most MAXARG strings) are in kernel memory. Returns -1 on failure; on success it does not
// return to the old program.
int
exec(char *path, char **argv)
{
  struct proc *p = myproc();
  struct inode *ip;
  struct elfhdr elf;
  pde_t *pgdir = 0, *oldpgdir;
  uint sz = 0, textend, sp;

  begin_op();
  if((ip = namei(path)) == 0){
    end_op();
    return syserr(ERR_NOENT, 0);
  }
  ilock(ip);
  if(readelfhdr(ip, &elf) < 0){
    syserr(ERR_BADEXEC, 0);
    goto bad;
  }
  if((pgdir = setupkvm()) == 0){
    syserr(ERR_NOMEM, 0);
    goto bad;
  }
  if(loadsegments(pgdir, ip, &elf, &sz) < 0 || sz == 0){
    syserr(ERR_BADEXEC, 0);  // unless loadsegments ran out of memory
    goto bad;
  }
  iunlockput(ip);
  end_op();
  ip = 0;

  // Guard page, then stack page, right after the image.
  textend = PGROUNDUP(sz);
  if(allocuvm(pgdir, textend, textend + 2 * PGSIZE) == 0){
    syserr(ERR_NOMEM, 0);
    goto bad;
  }
  clearpteu(pgdir, (char*)textend);
  if(pushargs(pgdir, textend + PGSIZE, argv, &sp) < 0){
    syserr(ERR_LIMIT, 0);  // the arguments do not fit in the stack page
    goto bad;
  }

  // Nothing can fail from here on: commit to the new image. The old
  // image's regions go first, while p->pgdir is still the old one.
  regions_exit(p);
  safestrcpy(p->name, lastelem(path), sizeof(p->name));
  acquire(&p->regionlock);  // another process's getmaps reads these
  oldpgdir = p->pgdir;
  p->pgdir = pgdir;
  p->textend = textend;
  p->stackbase = textend + PGSIZE;
  p->heapbase = p->stackbase + PGSIZE;
  p->sz = p->heapbase;
  release(&p->regionlock);
  startregs(p->tf, elf.entry, sp);
  switchuvm(p);
  trace_image(p);
  freevm(oldpgdir);
  return 0;

bad:
  if(pgdir)
    freevm(pgdir);
  if(ip){
    iunlockput(ip);
    end_op();
  }
  return -1;
}
