// Mutual-exclusion spin lock.
#ifndef XV6_SPINLOCK_H
#define XV6_SPINLOCK_H
struct spinlock {
  uint locked;       // 1 while held
  char *name;        // for debugging
  struct cpu *cpu;   // holder
  uint pcs[10];      // call stack that took it
};
#endif
