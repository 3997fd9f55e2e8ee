// struct sysinfo, filled by the sysinfo() system call. Tests compare it
// before and after a run to prove nothing leaked.
#ifndef XV6_SYSINFO_H
#define XV6_SYSINFO_H
struct sysinfo {
  int  ncpu;             // CPUs that started
  int  nproc;            // processes in use (any state but UNUSED)
  uint freepages;        // pages on kalloc's free list
  uint totalpages;       // pages kalloc manages
  uint kmalloc_objects;  // live kmalloc objects
  uint kmalloc_bytes;    // bytes requested by live kmalloc objects
  uint kmalloc_pages;    // pages held by the kmalloc allocator
  uint ticks;            // timer ticks since boot
  uint freeblocks;       // free data blocks of the root file system
};
#endif
