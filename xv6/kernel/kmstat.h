// The kmalloc allocator's user-visible numbers: limits of the kmalloc()
// system call and struct kmstat, filled by the kmstat() system call.
// Shared by the kernel (kmalloc.c), user programs and the host benchmark.
// The design is in docs/kmalloc.md.
#ifndef XV6_KMSTAT_H
#define XV6_KMSTAT_H

#define KM_NCLASS        11     // size classes, smallest first
#define KMALLOC_MAX      4056   // largest request: what fits beside a slab header
#define KM_QUOTA_OBJECTS 64     // live kmalloc() handles one process may hold
#define KM_QUOTA_BYTES   65536  // bytes those handles may have requested in all

// One size class. Requests of (previous class's size, size] bytes land here.
struct kmclassstat {
  uint size;       // object size in bytes
  uint perslab;    // objects per slab page (0 until the class is first used)
  uint objects;    // live objects
  uint bytes;      // bytes requested by the live objects
  uint pages;      // slab pages held, including a cached empty one
  uint emptypages; // of those, pages with no live object (at most 1 + CPUs)
  uint allocs;     // objects handed out since boot
  uint frees;      // objects given back since boot
};

struct kmstat {
  uint nclass;                         // KM_NCLASS
  uint maxsize;                        // KMALLOC_MAX
  struct kmclassstat cls[KM_NCLASS];
  uint objects;                        // sums over the classes
  uint bytes;
  uint pages;
  uint myobjects;                      // live handles of the calling process
  uint mybytes;                        // bytes they requested
};
#endif
