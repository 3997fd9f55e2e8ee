// fsck: check a file system image built by mkfs and written by the kernel.
//
//   fsck [-v] IMAGE         check; one line per problem, then a summary
//   fsck --ls IMAGE         list every path: inode, type, nlink, size, path
//   fsck --cat IMAGE PATH   write the contents of the file at PATH to stdout
//
// Exit status: 0 clean, 1 problems found (or --cat/--ls could not do it),
// 2 unusable input (missing, truncated, not an xv6 file system).
//
// The conventions checked are the kernel's (fs.c, log.c, sysfile.c):
//  - A committed log (header count n > 0) is replayed by initlog at boot,
//    so the image is judged as recovery will leave it: the logged copies
//    are laid over their home blocks in memory. The file is never written.
//  - Blocks 0 .. size - nblocks - 1 are metadata (boot, super, log, inodes,
//    bitmap); mkfs marks them in the bitmap and balloc relies on that.
//  - A directory's nlink counts the entries that name it except its own
//    ".": its name in the parent plus each subdirectory's "..". The root
//    has no name in a parent; its own ".." stands in for it.
//  - Every block below a file's size is allocated (writei never leaves a
//    hole), and none beyond it; devices have no blocks.

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "param.h"
#include "stat.h"
#include "fs.h"
#include "le.h"

_Static_assert(sizeof(uint) == 4, "on-disk uint must be 32 bits");
_Static_assert(sizeof(struct dinode) == 64, "dinode layout differs from the kernel's");
_Static_assert(sizeof(struct dirent) == 16, "dirent layout differs from the kernel's");

#define MAXPATHLEN 512  // longest path printed; deeper paths are cut short

static const char *imagepath;
static uint8_t *image;      // the whole file, with a committed log laid over it
static size_t imagesize;
static struct superblock sb;
static uint32_t datastart;  // first data block: size - nblocks
static int quiet;           // --ls and --cat: no problem lines
static int problems;

// What the walk learns about each inode (arrays of sb.ninodes entries).
static uint32_t *owner;     // per block: the inode using it, 0 if none
static uint8_t *reached;    // reached from the root through directory entries
static uint32_t *parent;    // directory where the inode was first reached
static char (*firstname)[DIRSIZ + 1];  // the entry name it was first reached by
static uint32_t *refs;      // entries naming it ("." excepted)

static void __attribute__((noreturn, format(printf, 1, 2)))
unusable(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, "fsck: %s: ", imagepath);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  exit(2);
}

static void __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
  va_list ap;

  problems++;
  if(quiet)
    return;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static uint8_t*
block(uint32_t bno)
{
  return image + (size_t)bno * BSIZE;
}

static uint32_t
word(uint32_t bno, uint32_t i)
{
  uint32_t w;

  memcpy(&w, block(bno) + 4 * i, 4);
  return le32(w);
}

// ---- the image and its superblock ----

static void
load(const char *path)
{
  FILE *f;
  long n;

  imagepath = path;
  if((f = fopen(path, "rb")) == 0)
    unusable("cannot open");
  if(fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    unusable("cannot find the size");
  imagesize = n;
  if(imagesize < 2 * BSIZE)
    unusable("truncated: %zu bytes, too short to hold a superblock", imagesize);
  if((image = malloc(imagesize)) == 0)
    unusable("out of memory");
  if(fread(image, 1, imagesize, f) != imagesize)
    unusable("read error");
  fclose(f);
}

static const char*
layouterror(void)
{
  uint64_t end = (uint64_t)sb.size;

  if(sb.size < 3 || sb.nblocks >= sb.size)
    return "size and data block count make no sense";
  datastart = sb.size - sb.nblocks;
  if(sb.logstart < 2 || (uint64_t)sb.logstart + sb.nlog > sb.inodestart)
    return "the log does not lie between the superblock and the inodes";
  if(sb.ninodes <= ROOTINO)
    return "no room for the root inode";
  if((uint64_t)sb.inodestart + (sb.ninodes - 1) / IPB + 1 > sb.bmapstart)
    return "the inodes do not fit before the bitmap";
  if((uint64_t)sb.bmapstart + (end + BPB - 1) / BPB > datastart)
    return "the bitmap does not fit before the data blocks";
  return 0;
}

// Read the superblock; exit 2 if the layout cannot be used at all, report
// a problem for anything mkfs would not have written but the kernel copes with.
static void
readsuper(void)
{
  const char *why;
  uint32_t *fields[] = { &sb.size, &sb.nblocks, &sb.ninodes, &sb.nlog,
                         &sb.logstart, &sb.inodestart, &sb.bmapstart };
  unsigned i;

  for(i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    *fields[i] = word(1, i);
  if((why = layouterror()) != 0)
    unusable("not an xv6 file system (superblock: %s)", why);
  if((uint64_t)sb.size * BSIZE > imagesize)
    unusable("truncated: %zu bytes, the superblock says %u blocks (%llu bytes)",
             imagesize, sb.size, (unsigned long long)sb.size * BSIZE);
  if((uint64_t)sb.size * BSIZE < imagesize)
    problem("superblock: %u blocks, but the image holds %zu bytes", sb.size, imagesize);
  if(sb.logstart != 2)
    problem("superblock: log starts at block %u, not 2", sb.logstart);
  if(sb.inodestart != sb.logstart + sb.nlog)
    problem("superblock: gap between the log (ends at %u) and the inodes (%u)",
            sb.logstart + sb.nlog, sb.inodestart);
  if(sb.bmapstart > sb.inodestart + sb.ninodes / IPB + 1)
    problem("superblock: gap between the inodes and the bitmap (%u)", sb.bmapstart);
  if(datastart > sb.bmapstart + sb.size / BPB + 1)
    problem("superblock: gap between the bitmap and the data blocks (%u)", datastart);
  if(sb.nlog < MAXOPBLOCKS + 1)
    problem("superblock: log of %u blocks is smaller than the kernel needs (%d)",
            sb.nlog, MAXOPBLOCKS + 1);
}

// ---- the log ----

// Lay a committed transaction over its home blocks, as initlog's recovery
// would. Returns the number of blocks laid over (0 for an empty log).
static int
overlaylog(void)
{
  int32_t n = (int32_t)word(sb.logstart, 0);
  int32_t capacity = sb.nlog - 1;
  uint32_t i, bno;

  if(capacity > LOGSIZE)
    capacity = LOGSIZE;
  if(n < 0 || n > capacity){
    problem("log: header count %d out of range 0..%d", n, capacity);
    return 0;
  }
  for(i = 0; i < (uint32_t)n; i++){
    bno = word(sb.logstart, 1 + i);
    if(bno < sb.logstart + sb.nlog || bno >= sb.size){
      problem("log: entry %u names block %u, outside the inode, bitmap and data areas", i, bno);
      return 0;
    }
  }
  for(i = 0; i < (uint32_t)n; i++)
    memcpy(block(word(sb.logstart, 1 + i)), block(sb.logstart + 1 + i), BSIZE);
  return n;
}

// ---- inodes and their blocks ----

static void
getinode(uint32_t inum, struct dinode *ip)
{
  int i;

  memcpy(ip, block(IBLOCK(inum, sb)) + (inum % IPB) * sizeof(*ip), sizeof(*ip));
  ip->type = le16(ip->type);
  ip->major = le16(ip->major);
  ip->minor = le16(ip->minor);
  ip->nlink = le16(ip->nlink);
  ip->size = le32(ip->size);
  for(i = 0; i <= NDIRECT; i++)
    ip->addrs[i] = le32(ip->addrs[i]);
}

static int
validtype(int type)
{
  return type == T_DIR || type == T_FILE || type == T_DEV;
}

static const char*
typename(int type)
{
  switch(type){
  case T_DIR: return "dir";
  case T_FILE: return "file";
  case T_DEV: return "dev";
  }
  return "bad";
}

static int
isdata(uint32_t bno)
{
  return bno >= datastart && bno < sb.size;
}

// The disk block holding block bn of a file, or 0 if there is none (or
// the pointer leads outside the data area).
static uint32_t
bmap(struct dinode *ip, uint32_t bn)
{
  uint32_t addr;

  if(bn < NDIRECT)
    addr = ip->addrs[bn];
  else if(bn < MAXFILE && isdata(ip->addrs[NDIRECT]))
    addr = word(ip->addrs[NDIRECT], bn - NDIRECT);
  else
    addr = 0;
  return isdata(addr) ? addr : 0;
}

// Path of a reached inode, built from the parent links.
static const char*
pathof(uint32_t inum)
{
  static char buf[MAXPATHLEN];
  char *p = buf + sizeof(buf) - 1;
  size_t len;
  uint32_t depth;

  *p = 0;
  if(inum == ROOTINO)
    return "/";
  if(!reached[inum])
    return "(unreachable)";
  for(depth = 0; inum != ROOTINO && depth < sb.ninodes; depth++, inum = parent[inum]){
    len = strlen(firstname[inum]);
    if((size_t)(p - buf) < len + 1 + 4){
      p -= 3;
      memcpy(p, "...", 3);
      break;
    }
    p -= len;
    memcpy(p, firstname[inum], len);
    *--p = '/';
  }
  return p;
}

// Record that inode inum uses block bno. Returns 1 if the block is a data
// block (whether or not someone else had it already).
static int
claim(uint32_t inum, uint32_t bno, const char *what)
{
  if(!isdata(bno)){
    problem("inode %u: %s block pointer %u is outside the data area (%u..%u)",
            inum, what, bno, datastart, sb.size - 1);
    return 0;
  }
  if(owner[bno] != 0)
    problem("block %u used twice: by inode %u and inode %u", bno, owner[bno], inum);
  else
    owner[bno] = inum;
  return 1;
}

// One block pointer of inode inum: file block bn, needed if below the
// size. Only the first missing and the first extra block are reported.
static void
checkpointer(uint32_t inum, struct dinode *ip, uint32_t bn, uint32_t addr,
             int *missing, int *extra)
{
  uint64_t need = ((uint64_t)ip->size + BSIZE - 1) / BSIZE;

  if(addr == 0){
    if(bn < need && (*missing)++ == 0)
      problem("inode %u: size %u, but no block for offset %u", inum, ip->size, bn * BSIZE);
    return;
  }
  if(bn >= need && (*extra)++ == 0)
    problem("inode %u: size %u, but a block pointer for offset %u, past the end",
            inum, ip->size, bn * BSIZE);
  claim(inum, addr, bn < NDIRECT ? "direct" : "indirect-table");
}

// Claim inode inum's blocks and check them against its size.
static void
checkblocks(uint32_t inum, struct dinode *ip)
{
  uint32_t bn, ind;
  int missing = 0, extra = 0;

  if(ip->type == T_DEV){
    for(bn = 0; bn <= NDIRECT; bn++)
      if(ip->addrs[bn] != 0){
        problem("inode %u: a device, but it has block pointers", inum);
        break;
      }
    return;
  }
  if(ip->size > MAXFILE * BSIZE)
    problem("inode %u: size %u is beyond the largest file (%u bytes)",
            inum, ip->size, (unsigned)(MAXFILE * BSIZE));
  for(bn = 0; bn < NDIRECT; bn++)
    checkpointer(inum, ip, bn, ip->addrs[bn], &missing, &extra);

  ind = ip->addrs[NDIRECT];
  if(ind == 0){
    if((uint64_t)ip->size > (uint64_t)NDIRECT * BSIZE && missing++ == 0)
      problem("inode %u: size %u, but no block for offset %u", inum, ip->size, NDIRECT * BSIZE);
    return;
  }
  if((uint64_t)ip->size <= (uint64_t)NDIRECT * BSIZE && extra++ == 0)
    problem("inode %u: size %u, but it has an indirect block, past the end", inum, ip->size);
  if(!claim(inum, ind, "indirect"))
    return;
  for(bn = 0; bn < NINDIRECT; bn++)
    checkpointer(inum, ip, NDIRECT + bn, word(ind, bn), &missing, &extra);
}

// Every allocated inode's blocks, whether or not a directory names it.
static void
checkinodes(void)
{
  struct dinode di;
  uint32_t inum;

  getinode(0, &di);
  if(di.type != 0)
    problem("inode 0 is allocated (type %d); inode numbers start at 1", di.type);
  for(inum = 1; inum < sb.ninodes; inum++){
    getinode(inum, &di);
    if(di.type == 0)
      continue;
    if(!validtype(di.type)){
      problem("inode %u: bad type %d", inum, di.type);
      continue;
    }
    checkblocks(inum, &di);
  }
}

// ---- directories, from the root down ----

static uint32_t *queue;  // directories reached but not yet read
static uint32_t queued;

// One line of --ls: the entry name in directory dir (dir 0: the root itself).
static void
listentry(uint32_t inum, uint32_t dir, const char *name)
{
  struct dinode di;

  getinode(inum, &di);
  printf("%u %s %d %u ", inum, typename(di.type), di.nlink, di.size);
  if(dir == 0)
    printf("/\n");
  else
    printf("%s/%s\n", dir == ROOTINO ? "" : pathof(dir), name);
}

// The entry's name, checked: non-empty and NUL-padded. Returns 0 if bad.
static int
entryname(uint32_t dir, const struct dirent *de, uint32_t off, char *name)
{
  int i, len;

  memcpy(name, de->name, DIRSIZ);
  name[DIRSIZ] = 0;
  len = strlen(name);
  if(len == 0){
    problem("directory %s: entry at offset %u (inode %u) has an empty name",
            pathof(dir), off, le16(de->inum));
    return 0;
  }
  for(i = len; i < DIRSIZ; i++)
    if(de->name[i] != 0){
      problem("directory %s: name '%s' at offset %u is not NUL-padded", pathof(dir), name, off);
      return 1;
    }
  return 1;
}

// Follow entry name -> inum found in directory dir.
static void
follow(uint32_t dir, const char *name, uint32_t inum, int listing)
{
  struct dinode di;

  getinode(inum, &di);
  if(strcmp(name, ".") == 0){
    if(inum != dir)
      problem("directory %s: '.' names inode %u, not itself (%u)", pathof(dir), inum, dir);
    return;
  }
  refs[inum]++;
  if(strcmp(name, "..") == 0){
    if(inum != parent[dir])
      problem("directory %s: '..' names inode %u, not its parent (%u)",
              pathof(dir), inum, parent[dir]);
    return;
  }
  if(listing)
    listentry(inum, dir, name);
  if(reached[inum]){
    if(di.type == T_DIR)
      problem("directory %s: entry '%s' names directory %u, already named %s",
              pathof(dir), name, inum, pathof(inum));
    return;
  }
  reached[inum] = 1;
  parent[inum] = dir;
  strcpy(firstname[inum], name);
  if(di.type == T_DIR)
    queue[queued++] = inum;
}

static void
checkdir(uint32_t dir, int listing)
{
  struct dinode dp, target;
  struct dirent de;
  char name[DIRSIZ + 1];
  char (*names)[DIRSIZ + 1];
  uint32_t off, end, addr, inum, n = 0, i;
  int dots = 0, dotdots = 0;

  getinode(dir, &dp);
  if(dp.size % sizeof(de) != 0)
    problem("directory %s: size %u is not a multiple of %zu", pathof(dir), dp.size, sizeof(de));
  end = dp.size > MAXFILE * BSIZE ? MAXFILE * BSIZE : dp.size;
  end -= end % sizeof(de);
  if((names = malloc((end / sizeof(de) + 1) * sizeof(*names))) == 0)
    unusable("out of memory");
  for(off = 0; off < end; off += sizeof(de)){
    if((addr = bmap(&dp, off / BSIZE)) == 0)
      continue;  // reported with the directory's blocks
    memcpy(&de, block(addr) + off % BSIZE, sizeof(de));
    inum = le16(de.inum);
    if(inum == 0 || !entryname(dir, &de, off, name))
      continue;
    for(i = 0; i < n; i++)
      if(strcmp(names[i], name) == 0)
        break;
    if(i < n)
      problem("directory %s: duplicate name '%s'", pathof(dir), name);
    else
      strcpy(names[n++], name);
    dots += strcmp(name, ".") == 0;
    dotdots += strcmp(name, "..") == 0;
    if(inum >= sb.ninodes){
      problem("directory %s: entry '%s' names inode %u, out of range (%u inodes)",
              pathof(dir), name, inum, sb.ninodes);
      continue;
    }
    getinode(inum, &target);
    if(target.type == 0){
      problem("directory %s: entry '%s' names free inode %u", pathof(dir), name, inum);
      continue;
    }
    if(!validtype(target.type))
      continue;  // reported with the inodes
    follow(dir, name, inum, listing);
  }
  if(dots == 0)
    problem("directory %s: no '.' entry", pathof(dir));
  if(dotdots == 0)
    problem("directory %s: no '..' entry", pathof(dir));
  free(names);
}

// Walk the tree breadth-first from the root, each directory once.
static void
walk(int listing)
{
  struct dinode root;
  uint32_t head;

  getinode(ROOTINO, &root);
  if(root.type != T_DIR){
    problem("root inode %d is not a directory (type %d)", ROOTINO, root.type);
    return;
  }
  reached[ROOTINO] = 1;
  parent[ROOTINO] = ROOTINO;
  if(listing)
    listentry(ROOTINO, 0, "/");
  queue[queued++] = ROOTINO;
  for(head = 0; head < queued; head++)
    checkdir(queue[head], listing);
}

// Link counts against the entries found, and allocated inodes never reached.
static void
checklinks(void)
{
  struct dinode di;
  uint32_t inum;

  for(inum = 1; inum < sb.ninodes; inum++){
    getinode(inum, &di);
    if(!validtype(di.type))
      continue;
    if(!reached[inum])
      problem("inode %u (%s, nlink %d, size %u) is allocated but not reachable from / (lost)",
              inum, typename(di.type), di.nlink, di.size);
    else if(di.nlink != (int)refs[inum])
      problem("inode %u (%s): link count %d, but %u %s it", inum, pathof(inum), di.nlink,
              refs[inum], refs[inum] == 1 ? "entry names" : "entries name");
  }
}

// ---- the free-block bitmap ----

static int
marked(uint32_t bno)
{
  return (block(BBLOCK(bno, sb))[(bno % BPB) / 8] >> (bno % 8)) & 1;
}

// Returns the number of free data blocks.
static uint32_t
checkbitmap(void)
{
  uint32_t b, nfree = 0;

  for(b = 0; b < sb.size; b++){
    if(b < datastart){
      if(!marked(b))
        problem("block %u (metadata) is not marked in the bitmap", b);
    } else if(owner[b] != 0){
      if(!marked(b))
        problem("block %u is used by inode %u (%s) but free in the bitmap",
                b, owner[b], pathof(owner[b]));
    } else if(marked(b)){
      problem("block %u is marked in the bitmap but not used (leaked)", b);
    } else {
      nfree++;
    }
  }
  return nfree;
}

// ---- commands ----

static void
setup(const char *path, int silent)
{
  int n;

  load(path);
  quiet = silent;
  readsuper();
  if((n = overlaylog()) > 0 && !silent)
    printf("log: committed transaction of %d block%s; checking the image as recovery leaves it\n",
           n, n == 1 ? "" : "s");
  owner = calloc(sb.size, sizeof(*owner));
  reached = calloc(sb.ninodes, sizeof(*reached));
  parent = calloc(sb.ninodes, sizeof(*parent));
  firstname = calloc(sb.ninodes, sizeof(*firstname));
  refs = calloc(sb.ninodes, sizeof(*refs));
  queue = calloc(sb.ninodes, sizeof(*queue));
  if(!owner || !reached || !parent || !firstname || !refs || !queue)
    unusable("out of memory");
}

static void
summary(uint32_t nfree)
{
  struct dinode di;
  uint32_t inum, count[4] = {0}, used = 0, b;

  for(b = datastart; b < sb.size; b++)
    used += owner[b] != 0;
  for(inum = 1; inum < sb.ninodes; inum++){
    getinode(inum, &di);
    if(validtype(di.type))
      count[di.type]++;
  }
  printf("fsck: %u of %u inodes in use (%u directories, %u files, %u devices); "
         "%u of %u data blocks used, %u free\n",
         count[T_DIR] + count[T_FILE] + count[T_DEV], sb.ninodes - 1, count[T_DIR],
         count[T_FILE], count[T_DEV], used, sb.nblocks, nfree);
}

static int
check(const char *path, int verbose)
{
  uint32_t nfree;

  setup(path, 0);
  checkinodes();
  walk(0);
  checklinks();
  nfree = checkbitmap();
  if(verbose)
    summary(nfree);
  if(problems)
    printf("fsck: %s: %d problem%s\n", path, problems, problems == 1 ? "" : "s");
  else
    printf("fsck: %s: clean\n", path);
  return problems ? 1 : 0;
}

// Look path up from the root, as namei would. Returns 0 if absent.
static uint32_t
lookup(const char *path)
{
  struct dinode dp;
  struct dirent de;
  char elem[DIRSIZ + 1];
  uint32_t inum = ROOTINO, off, addr;
  size_t len;

  for(;;){
    while(*path == '/')
      path++;
    if(*path == 0)
      return inum;
    len = strcspn(path, "/");
    if(len > DIRSIZ)
      return 0;
    memcpy(elem, path, len);
    elem[len] = 0;
    path += len;
    getinode(inum, &dp);
    if(dp.type != T_DIR)
      return 0;
    for(off = 0; off + sizeof(de) <= dp.size && off < MAXFILE * BSIZE; off += sizeof(de)){
      if((addr = bmap(&dp, off / BSIZE)) == 0)
        continue;
      memcpy(&de, block(addr) + off % BSIZE, sizeof(de));
      if(de.inum != 0 && strncmp(de.name, elem, DIRSIZ) == 0)
        break;
    }
    if(off + sizeof(de) > dp.size || off >= MAXFILE * BSIZE)
      return 0;
    inum = le16(de.inum);
    if(inum == 0 || inum >= sb.ninodes)
      return 0;
  }
}

static int
cat(const char *image, const char *path)
{
  struct dinode di;
  uint32_t inum, off, addr, n;

  setup(image, 1);
  if((inum = lookup(path)) == 0){
    fprintf(stderr, "fsck: %s: no such file\n", path);
    return 1;
  }
  getinode(inum, &di);
  if(di.type != T_FILE){
    fprintf(stderr, "fsck: %s: not a file (type %d)\n", path, di.type);
    return 1;
  }
  for(off = 0; off < di.size; off += n){
    n = BSIZE - off % BSIZE;
    if(n > di.size - off)
      n = di.size - off;
    if((addr = bmap(&di, off / BSIZE)) == 0){
      fprintf(stderr, "fsck: %s: no block for offset %u\n", path, off);
      return 1;
    }
    fwrite(block(addr) + off % BSIZE, 1, n, stdout);
  }
  return 0;
}

static int
list(const char *image)
{
  setup(image, 1);
  walk(1);
  return 0;
}

static void
usage(void)
{
  fprintf(stderr, "usage: fsck [-v] IMAGE | fsck --ls IMAGE | fsck --cat IMAGE PATH\n");
  exit(2);
}

int
main(int argc, char *argv[])
{
  if(argc == 2 && argv[1][0] != '-')
    return check(argv[1], 0);
  if(argc == 3 && strcmp(argv[1], "-v") == 0)
    return check(argv[2], 1);
  if(argc == 3 && strcmp(argv[1], "--ls") == 0)
    return list(argv[2]);
  if(argc == 4 && strcmp(argv[1], "--cat") == 0)
    return cat(argv[2], argv[3]);
  usage();
}
