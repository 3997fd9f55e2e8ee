// mkfs: build a file system image for the kernel on the host.
//
//   mkfs fs.img file...
//
// The image has FSSIZE blocks laid out as fs.h describes:
//
//   [ unused | super | log (LOGSIZE) | inodes | bitmap | data ... ]
//
// The root directory holds ".", ".." and one entry per file, named after
// the file's last path element with a leading '_' removed, so that
// out/user/_cat becomes "cat". The log starts out empty (a zero header).
// Everything is assembled in memory and written out in one go.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The kernel headers name their own types (uint, ushort, ...). On this
// host, uint is 32 bits, so the on-disk structs have the kernel's layout.
#include "types.h"
#include "param.h"
#include "stat.h"
#include "fs.h"
#include "le.h"

#define NINODES 200

_Static_assert(sizeof(uint) == 4, "on-disk uint must be 32 bits");
_Static_assert(sizeof(struct dinode) == 64, "dinode layout differs from the kernel's");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "inodes must tile a block");
_Static_assert(sizeof(struct dirent) == 16, "dirent layout differs from the kernel's");

// Geometry, fixed by param.h.
enum {
  NLOG = LOGSIZE,
  NINODEBLOCKS = NINODES / IPB + 1,
  NBITMAP = FSSIZE / BPB + 1,
  NMETA = 2 + NLOG + NINODEBLOCKS + NBITMAP,
  NDATA = FSSIZE - NMETA,
};

static uint8_t *image;           // FSSIZE * BSIZE bytes
static struct superblock sb;     // host byte order; see writesuper
static uint32_t nextinum = 1;    // inode 0 is never used
static uint32_t nextblock = NMETA;  // data blocks are handed out in order

static void
die(const char *msg, const char *arg)
{
  if(arg)
    fprintf(stderr, "mkfs: %s: %s\n", arg, msg);
  else
    fprintf(stderr, "mkfs: %s\n", msg);
  exit(1);
}

static uint8_t*
block(uint32_t bno)
{
  if(bno >= FSSIZE)
    die("block number out of range (internal error)", 0);
  return image + (size_t)bno * BSIZE;
}

static struct dinode*
dinode(uint32_t inum)
{
  return (struct dinode*)block(IBLOCK(inum, sb)) + inum % IPB;
}

static uint32_t
balloc(const char *what)
{
  if(nextblock >= FSSIZE)
    die("file system full", what);
  return nextblock++;
}

static uint32_t
ialloc(short type, const char *what)
{
  struct dinode *dip;
  uint32_t inum;

  if(nextinum >= NINODES)
    die("too many files (out of inodes)", what);
  inum = nextinum++;
  dip = dinode(inum);
  memset(dip, 0, sizeof(*dip));
  dip->type = le16(type);
  dip->nlink = le16(1);
  return inum;
}

// The disk block holding byte offset off of inode inum, allocating it
// (and the indirect block) on first use.
static uint32_t
bmap(uint32_t inum, uint32_t off, const char *what)
{
  struct dinode *dip = dinode(inum);
  uint32_t bn = off / BSIZE, *table;

  if(bn < NDIRECT){
    if(dip->addrs[bn] == 0)
      dip->addrs[bn] = le32(balloc(what));
    return le32(dip->addrs[bn]);
  }
  bn -= NDIRECT;
  if(bn >= NINDIRECT)
    die("file too big", what);
  if(dip->addrs[NDIRECT] == 0)
    dip->addrs[NDIRECT] = le32(balloc(what));
  table = (uint32_t*)block(le32(dip->addrs[NDIRECT]));
  if(table[bn] == 0)
    table[bn] = le32(balloc(what));
  return le32(table[bn]);
}

// Append n bytes to inode inum.
static void
iappend(uint32_t inum, const void *data, uint32_t n, const char *what)
{
  struct dinode *dip = dinode(inum);
  const uint8_t *src = data;
  uint32_t off = le32(dip->size), chunk;

  if((uint64_t)off + n > (uint64_t)MAXFILE * BSIZE)
    die("file too big", what);
  while(n > 0){
    chunk = BSIZE - off % BSIZE;
    if(chunk > n)
      chunk = n;
    memcpy(block(bmap(inum, off, what)) + off % BSIZE, src, chunk);
    off += chunk;
    src += chunk;
    n -= chunk;
  }
  dip->size = le32(off);
}

// Is name already an entry of directory dir?
static int
dirhas(uint32_t dir, const char *name)
{
  struct dinode *dip = dinode(dir);
  struct dirent *de;
  uint32_t off, size = le32(dip->size);

  for(off = 0; off < size; off += sizeof(*de)){
    de = (struct dirent*)(block(bmap(dir, off, name)) + off % BSIZE);
    if(de->inum != 0 && strncmp(de->name, name, DIRSIZ) == 0)
      return 1;
  }
  return 0;
}

static void
dirlink(uint32_t dir, const char *name, uint32_t inum)
{
  struct dirent de;

  if(strlen(name) == 0 || strlen(name) > DIRSIZ)
    die("name must be 1 to 14 characters", name);
  if(dirhas(dir, name))
    die("duplicate name", name);
  memset(&de, 0, sizeof(de));
  de.inum = le16(inum);
  memcpy(de.name, name, strlen(name));  // de is zeroed: short names end in 0
  iappend(dir, &de, sizeof(de), name);
}

// The name a host file gets in the image.
static const char*
imagename(const char *path)
{
  const char *name = strrchr(path, '/');

  name = name ? name + 1 : path;
  if(name[0] == '_')
    name++;
  return name;
}

static void
addfile(uint32_t root, const char *path)
{
  uint8_t buf[BSIZE];
  const char *name = imagename(path);
  uint32_t inum;
  size_t n;
  FILE *f;

  if((f = fopen(path, "rb")) == 0)
    die("cannot open", path);
  inum = ialloc(T_FILE, path);
  dirlink(root, name, inum);
  while((n = fread(buf, 1, sizeof(buf), f)) > 0)
    iappend(inum, buf, n, path);
  if(ferror(f))
    die("read error", path);
  fclose(f);
}

// Mark every block handed out so far, including the metadata, as in use.
static void
writebitmap(void)
{
  uint32_t b;

  if(nextblock > NBITMAP * BPB)
    die("bitmap too small (internal error)", 0);
  for(b = 0; b < nextblock; b++)
    block(sb.bmapstart + b / BPB)[(b % BPB) / 8] |= 1 << (b % 8);
}

static void
layout(void)
{
  sb.size = FSSIZE;
  sb.nblocks = NDATA;
  sb.ninodes = NINODES;
  sb.nlog = NLOG;
  sb.logstart = 2;
  sb.inodestart = 2 + NLOG;
  sb.bmapstart = 2 + NLOG + NINODEBLOCKS;
}

static void
writesuper(void)
{
  struct superblock disk;

  disk.size = le32(sb.size);
  disk.nblocks = le32(sb.nblocks);
  disk.ninodes = le32(sb.ninodes);
  disk.nlog = le32(sb.nlog);
  disk.logstart = le32(sb.logstart);
  disk.inodestart = le32(sb.inodestart);
  disk.bmapstart = le32(sb.bmapstart);
  memcpy(block(1), &disk, sizeof(disk));
}

static void
writeimage(const char *path)
{
  FILE *f;

  if((f = fopen(path, "wb")) == 0)
    die("cannot create", path);
  if(fwrite(image, BSIZE, FSSIZE, f) != FSSIZE || fclose(f) != 0)
    die("write error", path);
}

int
main(int argc, char *argv[])
{
  uint32_t root;
  int i;

  if(argc < 2){
    fprintf(stderr, "usage: mkfs fs.img file...\n");
    return 1;
  }
  if((image = calloc(FSSIZE, BSIZE)) == 0)
    die("out of memory", 0);

  layout();
  writesuper();

  root = ialloc(T_DIR, "/");
  if(root != ROOTINO)
    die("root is not inode ROOTINO (internal error)", 0);
  dirlink(root, ".", root);
  dirlink(root, "..", root);
  for(i = 2; i < argc; i++)
    addfile(root, argv[i]);

  writebitmap();
  writeimage(argv[1]);

  printf("mkfs: %d meta blocks (boot, super, log %d, inodes %d, bitmap %d), "
         "%d data blocks (%u used), %u of %d inodes used, %d blocks total\n",
         NMETA, NLOG, NINODEBLOCKS, NBITMAP, NDATA, nextblock - NMETA,
         nextinum - 1, NINODES, FSSIZE);
  return 0;
}
