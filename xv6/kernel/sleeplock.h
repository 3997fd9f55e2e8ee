// Long-term lock: the holder may sleep while holding it.
#ifndef XV6_SLEEPLOCK_H
#define XV6_SLEEPLOCK_H
struct sleeplock {
  uint locked;
  struct spinlock lk;  // protects this structure
  char *name;
  int pid;             // holder
};
#endif
