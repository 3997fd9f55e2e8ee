// Spin locks, and the interrupt-disable nesting they rely on.
//
// A CPU holding a spin lock must not take an interrupt whose handler
// might want the same lock, so acquire() turns interrupts off (pushcli)
// and release() restores them when the last lock is dropped (popcli).
#include "types.h"
#include "defs.h"
#include "param.h"
#include "x86.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"

void initlock(struct spinlock *lk, char *name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

void acquire(struct spinlock *lk) {
  pushcli();
  if (holding(lk)) {
    cprintf("lock %s\n", lk->name);
    panic("acquire: already held");
  }
  while (xchg(&lk->locked, 1) != 0)
    ;
  // Loads and stores of the critical section stay after the xchg.
  __sync_synchronize();
  lk->cpu = mycpu();
  getcallerpcs(&lk, lk->pcs);
}

void release(struct spinlock *lk) {
  if (!holding(lk))
    panic("release: not held");
  lk->pcs[0] = 0;
  lk->cpu = 0;
  // Everything written in the critical section is visible before the
  // lock is seen free.
  __sync_synchronize();
  asm volatile("movl $0, %0" : "+m"(lk->locked) :);
  popcli();
}

// Record the return addresses on the stack above v (by following the
// %ebp chain) into pcs[0..9]; unused slots get 0.
void getcallerpcs(void *v, uint pcs[]) {
  uint *ebp = (uint *)v - 2;
  int i;
  for (i = 0; i < 10; i++) {
    if (ebp == 0 || ebp < (uint *)KERNBASE || ebp == (uint *)0xffffffff)
      break;
    pcs[i] = ebp[1];
    ebp = (uint *)ebp[0];
  }
  for (; i < 10; i++)
    pcs[i] = 0;
}

// Does this CPU hold lk?
int holding(struct spinlock *lk) {
  int r;
  pushcli();
  r = lk->locked && lk->cpu == mycpu();
  popcli();
  return r;
}

// pushcli/popcli are like cli/sti but nest: two pushcli need two popcli,
// and interrupts come back only if they were on at the first pushcli.
void pushcli(void) {
  int eflags = readeflags();
  struct cpu *c;
  cli();
  c = mycpu();
  if (c->ncli == 0)
    c->intena = eflags & FL_IF;
  c->ncli += 1;
}

void popcli(void) {
  struct cpu *c = mycpu();  // panics if interrupts are on
  if (--c->ncli < 0)
    panic("popcli: unbalanced");
  if (c->ncli == 0 && c->intena)
    sti();
}
