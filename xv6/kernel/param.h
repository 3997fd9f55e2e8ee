// Kernel-wide limits. Also used by mkfs (FSSIZE, LOGSIZE).
#ifndef XV6_PARAM_H
#define XV6_PARAM_H
#define NPROC        64    // processes
#define KSTACKSIZE   4096  // per-process kernel stack
#define NCPU         8     // CPUs
#define NOFILE       16    // open files per process
#define NFILE        100   // open files in the system
#define NINODE       50    // in-memory inodes
#define NDEV         10    // major device numbers
#define ROOTDEV      1     // device number of the root file system
#define MAXARG       32    // exec arguments
#define MAXLINK      1000  // links (names) one inode may have; keeps directories small
#define MAXOPBLOCKS  10    // blocks one file system operation may write
#define LOGSIZE      (MAXOPBLOCKS * 3)  // blocks in the on-disk log
#define NBUF         (MAXOPBLOCKS * 3)  // buffer cache entries
#define FSSIZE       4000  // file system size in blocks
#endif
