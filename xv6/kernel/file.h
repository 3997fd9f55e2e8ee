// Open files, in-memory inodes and the device switch.
#ifndef XV6_FILE_H
#define XV6_FILE_H
struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE } type;
  int ref;            // reference count, protected by ftable.lock
  char readable;
  char writable;
  struct pipe *pipe;
  struct inode *ip;
  uint off;
  char name[DIRSIZ];  // last element of the path it was opened by (FD_INODE)
};

// In-memory copy of an inode.
struct inode {
  uint dev;
  uint inum;
  int ref;                // protected by icache.lock
  struct sleeplock lock;  // protects everything below
  int valid;              // has the on-disk copy been read?

  short type;             // copy of struct dinode
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT + 1];
  struct pagecache *pcache;  // pages mapped by mmap regions (pagecache.c), or 0
};

// Read/write functions for a major device number. The buffer is a user
// address when user is set (move its bytes with either_copyout/in).
struct devsw {
  int (*read)(struct inode *, int user, char *dst, int n);
  int (*write)(struct inode *, int user, char *src, int n);
};

extern struct devsw devsw[];

#define CONSOLE 1
#endif
