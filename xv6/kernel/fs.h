// On-disk file system format, shared by the kernel and mkfs.
//
// Disk layout, in BSIZE blocks:
//   [ boot | super | log ... | inodes ... | free bitmap ... | data ... ]
//   block 0 is unused, block 1 holds the superblock; mkfs writes the rest.
#ifndef XV6_FS_H
#define XV6_FS_H
#define ROOTINO 1    // inode number of "/"
#define BSIZE   512  // block size in bytes

struct superblock {
  uint size;        // total blocks in the image
  uint nblocks;     // number of data blocks
  uint ninodes;     // number of inodes
  uint nlog;        // number of log blocks
  uint logstart;    // first log block
  uint inodestart;  // first inode block
  uint bmapstart;   // first free-bitmap block
};

#define NDIRECT   12
#define NINDIRECT (BSIZE / sizeof(uint))
#define MAXFILE   (NDIRECT + NINDIRECT)

// An inode as stored on disk.
struct dinode {
  short type;               // 0 = free, else T_DIR, T_FILE or T_DEV
  short major;              // device numbers (T_DEV only)
  short minor;
  short nlink;              // directory entries that name this inode
  uint size;                // bytes of content
  uint addrs[NDIRECT + 1];  // data blocks; the last one is the indirect block
};

#define IPB           (BSIZE / sizeof(struct dinode))    // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)      // block holding inode i
#define BPB           (BSIZE * 8)                        // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)       // bitmap block for block b

#define DIRSIZ 14

// A directory is a file holding a sequence of these; inum 0 marks a free slot.
struct dirent {
  ushort inum;
  char name[DIRSIZ];
};
#endif
