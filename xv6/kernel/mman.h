// Memory mapping: mmap/munmap/mprotect flags and the getmaps() records.
// Shared by the kernel and user programs. Values are Linux's.
#ifndef XV6_MMAN_H
#define XV6_MMAN_H
#define PROT_NONE  0x0
#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4   // accepted; 32-bit x86 paging cannot forbid execution

#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON      MAP_ANONYMOUS
#define MAP_POPULATE  0x8000

#define MAP_FAILED ((void *)-1)

#define MS_ASYNC      1  // msync: schedule the write-back (a no-op here)
#define MS_INVALIDATE 2  // msync: accepted; mappings always see the file
#define MS_SYNC       4  // msync: write dirty pages back before returning

#define NREGION 8192     // most regions one process may have

// What a getmaps() record describes.
#define MAPKIND_TEXT   1  // program text and data
#define MAPKIND_GUARD  2  // inaccessible page below the stack
#define MAPKIND_STACK  3
#define MAPKIND_HEAP   4  // sbrk memory (may be empty)
#define MAPKIND_REGION 5  // an mmap region

// One entry of a process's address space, as getmaps() reports it.
struct mapinfo {
  uint start;      // first address
  uint end;        // one past the last address
  int kind;        // MAPKIND_*
  int prot;        // PROT_* bits
  int flags;       // a region's kind: MAP_SHARED or MAP_PRIVATE, MAP_ANONYMOUS (regions only;
                   // MAP_FIXED, MAP_POPULATE are requests, not kept)
  uint resident;   // pages present in the page table
  uint inum;       // a file region: the file's inode number, else 0
  uint offset;     // a file region: file offset of start
  char name[14];   // a file region: the name it was opened by (NUL padded)
};

#define MAP_FIXED_NOREPLACE 0x100000  // at addr exactly, or fail if anything is there

#define MREMAP_MAYMOVE 1  // mremap: the region may move to grow
#define MREMAP_FIXED   2  // mremap: move to newaddr (needs MREMAP_MAYMOVE)

#define MADV_NORMAL   0  // madvise: no special treatment (accepted, does nothing)
#define MADV_WILLNEED 3  // madvise: fault the range in now
#define MADV_DONTNEED 4  // madvise: drop the range's pages; the next touch refills them
#endif
