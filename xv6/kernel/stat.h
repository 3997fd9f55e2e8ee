// struct stat as returned by fstat(): part of the user ABI.
#ifndef XV6_STAT_H
#define XV6_STAT_H
#define T_DIR  1   // directory
#define T_FILE 2   // regular file
#define T_DEV  3   // device

struct stat {
  short type;   // T_DIR, T_FILE or T_DEV
  int dev;      // device number of the file system
  uint ino;     // inode number
  short nlink;  // number of directory entries naming the inode
  uint size;    // size in bytes
};
#endif
