// filetest: file-backed mmap, the page cache and msync, case by case
// against docs/mmap.md.
//
//   filetest [case...]
//
// Output as every suite's (suite.h): BEGIN, one PASS or FAIL line per
// case, END. Besides the runner's checks of pages and kmalloc objects,
// every case checks that the disk has as many free blocks after it as
// before (its files are removed, and a mapped file's blocks go with its
// last mapping).
#include "types.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "stat.h"
#include "fcntl.h"
#include "sysinfo.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 6000
#define PG      PGSIZE
#define RW      (PROT_READ | PROT_WRITE)

// ---- helpers ----------------------------------------------------------

static uint free_blocks(void) {
  struct sysinfo si;
  check(sysinfo(&si) == 0, "sysinfo failed");
  return si.freeblocks;
}

// Byte i of the test pattern with seed s.
static char pat(uint i, uint s) {
  return (char)('a' + (i * 7 + s) % 26);
}

// Create name with n bytes of pattern s. Returns an O_RDWR descriptor.
static int make_file(char *name, uint n, uint s) {
  static char buf[512];
  uint done, i, chunk;
  int fd;
  unlink(name);
  fd = open(name, O_CREATE | O_RDWR);
  check(fd >= 0, "cannot create %s", name);
  for (done = 0; done < n; done += chunk) {
    chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);
    for (i = 0; i < chunk; i++)
      buf[i] = pat(done + i, s);
    check(write(fd, buf, chunk) == chunk, "write to %s failed", name);
  }
  return fd;
}

static int xopen(char *name, int mode) {
  int fd = open(name, mode);
  check(fd >= 0, "cannot open %s", name);
  return fd;
}

static char *xmmap(uint len, int prot, int flags, int fd, int off) {
  char *a = mmap(0, len, prot, flags, fd, off);
  check(a != MAP_FAILED, "mmap of %d bytes at offset %d failed", len, off);
  return a;
}

// Byte off of file name, read with read().
static char file_byte(char *name, uint off) {
  static char buf[PG];
  char c;
  int fd = xopen(name, O_RDONLY);
  while (off >= PG) {
    check(read(fd, buf, PG) == PG, "short read of %s", name);
    off -= PG;
  }
  check(read(fd, buf, off + 1) == off + 1, "short read of %s", name);
  c = buf[off];
  close(fd);
  return c;
}

// Does [a, a+n) hold pattern s from file offset off?
static void expect_pat(char *a, uint off, uint n, uint s, char *who) {
  uint i;
  for (i = 0; i < n; i++)
    check(a[i] == pat(off + i, s), "%s: byte %d is %d, not %d", who, off + i, a[i],
          pat(off + i, s));
}

static int size_of(char *name) {
  struct stat st;
  check(stat(name, &st) == 0, "stat %s failed", name);
  return st.size;
}

// Run body in a child and check that the disk's free blocks are back. A
// directory never shrinks, so the root first gets enough free entries
// for every file a case makes.
static void blocks_kept(void (*body)(void)) {
  char name[8] = "ft_sA";
  uint before, after, i;
  for (i = 0; i < 16; i++) {
    name[4] = 'A' + i;
    close(make_file(name, 0, 0));
  }
  for (i = 0; i < 16; i++) {
    name[4] = 'A' + i;
    unlink(name);
  }
  before = free_blocks();
  i = xfork();
  if (i == 0) {
    body();
    exit();
  }
  xwait(i);
  after = free_blocks();
  check(after == before, "free disk blocks %d before, %d after", before, after);
}

// Does fn(arg) run in a child get killed (not reach its end)?
static int killed_in_child(void (*fn)(char *), char *arg) {
  int p[2], pid;
  char c = 0;
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(p[0]);
    fn(arg);
    write(p[1], "x", 1);
    exit();
  }
  close(p[1]);
  xwait(pid);
  read(p[0], &c, 1);
  close(p[0]);
  return c != 'x';
}

// ---- cases -------------------------------------------------------------

static void private_read_body(void) {
  int fd = make_file("ft_half", PG + PG / 2, 1), i;
  char *a = xmmap(2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
  expect_pat(a, 0, PG + PG / 2, 1, "mapping");
  for (i = PG + PG / 2; i < 2 * PG; i++)
    check(a[i] == 0, "byte %d past the end of the file is %d", i, a[i]);
  check(munmap(a, 2 * PG) == 0, "munmap failed");
  close(fd);
  check(size_of("ft_half") == PG + PG / 2, "the size changed");
  unlink("ft_half");
}

// A private read of 1.5 pages: the file's bytes, then zeros.
static void test_private_read(void) {
  blocks_kept(private_read_body);
}

static void private_write_body(void) {
  int fd = make_file("ft_priv", 2 * PG, 2);
  close(fd);
  fd = xopen("ft_priv", O_RDONLY);
  char *a = xmmap(2 * PG, RW, MAP_PRIVATE, fd, 0);
  check(a[5] == pat(5, 2), "first read wrong");
  a[5] = 'Z';
  a[PG + 1] = 'Y';
  check(a[5] == 'Z' && a[PG + 1] == 'Y', "private stores are not seen");
  check(file_byte("ft_priv", 5) == pat(5, 2), "read() sees a private store");
  check(msync(a, 2 * PG, MS_SYNC) == 0, "msync of a private mapping failed");
  check(munmap(a, 2 * PG) == 0, "munmap failed");
  close(fd);
  check(file_byte("ft_priv", 5) == pat(5, 2), "the file changed");
  check(file_byte("ft_priv", PG + 1) == pat(PG + 1, 2), "the file changed");
  unlink("ft_priv");
}

// MAP_PRIVATE with PROT_WRITE on a read-only descriptor: the stores stay
// private.
static void test_private_write(void) {
  blocks_kept(private_write_body);
}

static void perm_body(void) {
  int fd = make_file("ft_perm", PG, 3), ro, wo;
  char *a;
  close(fd);
  ro = xopen("ft_perm", O_RDONLY);
  wo = xopen("ft_perm", O_WRONLY);
  check(mmap(0, PG, RW, MAP_SHARED, ro, 0) == MAP_FAILED, "shared write on O_RDONLY worked");
  check(mmap(0, PG, PROT_READ, MAP_SHARED, wo, 0) == MAP_FAILED, "mmap of O_WRONLY worked");
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED, "mmap of O_WRONLY worked");
  a = xmmap(PG, PROT_READ, MAP_SHARED, ro, 0);
  check(mprotect(a, PG, RW) < 0, "mprotect to write a shared O_RDONLY mapping worked");
  check(a[0] == pat(0, 3), "read-only shared mapping reads wrong");
  check(munmap(a, PG) == 0, "munmap failed");
  fd = xopen("ft_perm", O_RDWR);
  a = xmmap(PG, RW, MAP_SHARED, fd, 0);
  a[0] = 'Q';
  check(munmap(a, PG) == 0, "munmap failed");
  check(file_byte("ft_perm", 0) == 'Q', "shared store on O_RDWR not in the file");
  close(fd);
  close(ro);
  close(wo);
  unlink("ft_perm");
}

// Shared writable mappings need O_RDWR; O_WRONLY cannot be mapped at all.
static void test_shared_needs_rdwr(void) {
  blocks_kept(perm_body);
}

// Only regular files, page-aligned offsets, real descriptors.
static void test_bad_files(void) {
  int p[2], fd;
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, 13, 0) == MAP_FAILED, "a closed fd mapped");
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, -5, 0) == MAP_FAILED, "fd -5 mapped");
  fd = xopen("/", O_RDONLY);
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED, "a directory mapped");
  close(fd);
  fd = xopen("console", O_RDWR);
  check(mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED, "a device mapped");
  close(fd);
  xpipe(p);
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, p[0], 0) == MAP_FAILED, "a pipe mapped");
  close(p[0]);
  close(p[1]);
  fd = make_file("ft_bad", PG, 4);
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED, "offset 100 mapped");
  check(mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, -PG) == MAP_FAILED, "offset -4096 mapped");
  check(mmap(0, PG, PROT_READ, 0, fd, 0) == MAP_FAILED, "legacy flags 0 with an fd mapped");
  close(fd);
  unlink("ft_bad");
}

static void close_early_body(void) {
  int fd = make_file("ft_close", 3 * PG, 5);
  char *a = xmmap(3 * PG, RW, MAP_SHARED, fd, 0);
  close(fd);
  a[10] = '1';
  a[2 * PG + 10] = '2';
  check(munmap(a, 3 * PG) == 0, "munmap failed");
  check(file_byte("ft_close", 10) == '1', "store to page 0 lost");
  check(file_byte("ft_close", 2 * PG + 10) == '2', "store to page 2 lost");
  check(file_byte("ft_close", PG) == pat(PG, 5), "page 1 changed");
  unlink("ft_close");
}

// Close right after mmap, write, munmap, re-read the file.
static void test_close_early(void) {
  blocks_kept(close_early_body);
}

static void msync_body(void) {
  int fd = make_file("ft_sync", 2 * PG, 6), other;
  char *a = xmmap(2 * PG, RW, MAP_SHARED, fd, 0);
  char buf[4];
  a[100] = '#';
  check(msync(a, 2 * PG, MS_SYNC) == 0, "msync failed");
  other = xopen("ft_sync", O_RDONLY);
  check(read(other, buf, 4) == 4, "read failed");
  check(file_byte("ft_sync", 100) == '#', "the store is not in the file after msync");
  a[101] = '$';  // read() sees a dirty page before any msync
  check(file_byte("ft_sync", 101) == '$', "read() does not see a mapped store");
  check(msync(a + 1, PG, MS_SYNC) < 0, "unaligned msync worked");
  check(msync(a, PG, MS_SYNC | MS_ASYNC) < 0, "MS_SYNC|MS_ASYNC worked");
  check(msync(a, PG, 8) < 0, "an unknown msync flag worked");
  check(msync(a, PG, MS_ASYNC) == 0, "MS_ASYNC failed");
  check(msync(a, PG, MS_INVALIDATE) == 0, "MS_INVALIDATE failed");
  check(msync(a, 3 * PG, MS_SYNC) < 0, "msync past the mapping worked");
  check(munmap(a, 2 * PG) == 0, "munmap failed");
  close(other);
  close(fd);
  unlink("ft_sync");
}

// msync, then read() through another descriptor without unmapping; and
// msync's argument rules.
static void test_msync(void) {
  blocks_kept(msync_body);
}

static void write_shows_body(void) {
  int fd = make_file("ft_wr", PG + PG / 2, 7);
  char *a, *b, *p;
  close(fd);
  fd = xopen("ft_wr", O_RDWR);
  a = xmmap(2 * PG, PROT_READ, MAP_SHARED, fd, 0);
  b = xmmap(2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
  // Before the first touch.
  check(write(fd, "hello", 5) == 5, "write failed");
  check(a[0] == 'h' && a[4] == 'o', "a write() before the touch is not seen");
  // After it: the cached page itself changes.
  check(write(fd, "XY", 2) == 2, "write failed");
  check(a[5] == 'X' && a[6] == 'Y', "a write() to a mapped page is not seen");
  check(b[5] == 'X', "an untouched private page does not see the file");
  // Growing the file into the mapped last page shows up in the mapping.
  check(a[PG + PG / 2] == 0, "past the end is not zero");
  p = malloc(PG + PG / 2);
  check(read(fd, p, PG + PG / 2 - 7) == PG + PG / 2 - 7, "read failed");
  check(write(fd, "tail", 4) == 4, "append failed");
  check(a[PG + PG / 2] == 't' && a[PG + PG / 2 + 3] == 'l', "appended bytes not seen");
  free(p);
  close(fd);
  check(munmap(a, 2 * PG) == 0 && munmap(b, 2 * PG) == 0, "munmap failed");
  unlink("ft_wr");
}

// write() to the file shows in the mapping, before and after the touch.
static void test_write_shows(void) {
  blocks_kept(write_shows_body);
}

static void two_procs_body(void) {
  int fd = make_file("ft_two", PG, 8), p[2], q[2], pid, cfd;
  char c, *a = xmmap(PG, RW, MAP_SHARED, fd, 0), *b;
  xpipe(p);
  xpipe(q);
  pid = xfork();
  if (pid == 0) {
    cfd = xopen("ft_two", O_RDWR);  // its own open and its own mapping
    b = xmmap(PG, RW, MAP_SHARED, cfd, 0);
    b[0] = 'C';
    write(p[1], "1", 1);
    read(q[0], &c, 1);
    check(b[1] == 'P', "the child does not see the parent's store");
    munmap(b, PG);
    exit();
  }
  read(p[0], &c, 1);
  check(a[0] == 'C', "the parent does not see the child's store");
  a[1] = 'P';
  write(q[1], "1", 1);
  xwait(pid);
  munmap(a, PG);
  check(file_byte("ft_two", 0) == 'C' && file_byte("ft_two", 1) == 'P', "stores not in the file");
  close(p[0]); close(p[1]); close(q[0]); close(q[1]);
  close(fd);
  unlink("ft_two");
}

// Two processes mapping the same file see each other's stores at once.
static void test_two_processes(void) {
  blocks_kept(two_procs_body);
}

static void fork_body(void) {
  int fd = make_file("ft_fork", 3 * PG, 9), pid;
  char *a = xmmap(3 * PG, RW, MAP_SHARED, fd, 0);
  a[0] = 'p';
  pid = xfork();
  if (pid == 0) {
    check(a[0] == 'p', "the child does not see the parent's store");
    check(munmap(a + PG, PG) == 0, "munmap of one page failed");
    a[1] = 'c';
    a[2 * PG] = 'd';
    exit();
  }
  xwait(pid);
  check(a[1] == 'c' && a[2 * PG] == 'd', "the child's stores are not seen");
  a[PG] = 'm';  // the parent still has the middle page
  munmap(a, 3 * PG);
  check(file_byte("ft_fork", PG) == 'm', "the middle page's store is lost");
  check(file_byte("ft_fork", 2 * PG) == 'd', "the child's store is lost");
  close(fd);
  unlink("ft_fork");
}

// fork with a shared file mapping; the child unmaps one page.
static void test_fork_shared(void) {
  blocks_kept(fork_body);
}

static void fork_private_body(void) {
  int fd = make_file("ft_fp", PG, 10), pid;
  char *a = xmmap(PG, RW, MAP_PRIVATE, fd, 0);
  a[0] = 'p';
  pid = xfork();
  if (pid == 0) {
    check(a[0] == 'p', "the child does not see the parent's private page");
    a[0] = 'c';
    a[1] = 'c';
    exit();
  }
  xwait(pid);
  check(a[0] == 'p' && a[1] == pat(1, 10), "a private page changed under the parent");
  munmap(a, PG);
  check(file_byte("ft_fp", 0) == pat(0, 10), "a private store reached the file");
  close(fd);
  unlink("ft_fp");
}

// fork with a private file mapping: copies stay private on both sides.
static void test_fork_private(void) {
  blocks_kept(fork_private_body);
}

static void offsets_body(void) {
  int fd = make_file("ft_off", 4 * PG, 11);
  char *a = xmmap(2 * PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
  char *b = xmmap(PG, RW, MAP_SHARED, fd, 3 * PG);
  expect_pat(a, 2 * PG, 2 * PG, 11, "offset 2 pages");
  b[7] = '!';
  check(a[PG + 7] == '!', "two mappings at different offsets do not share the page");
  check(munmap(a, PG) == 0, "munmap of the first page failed");
  check(a[PG + 7] == '!', "the second page is gone");
  munmap(a + PG, PG);
  munmap(b, PG);
  check(file_byte("ft_off", 3 * PG + 7) == '!', "store at an offset lost");
  close(fd);
  unlink("ft_off");
}

// Offsets: a mapping starts where it is told, and pages are shared by
// file offset.
static void test_offsets(void) {
  blocks_kept(offsets_body);
}

static void touch(char *a) {
  volatile char c = *a;
  (void)c;
}

static void eof_body(void) {
  int fd = make_file("ft_eof", 100, 12);
  char *a = xmmap(3 * PG, RW, MAP_SHARED, fd, 0);
  char buf[8];
  check(a[99] == pat(99, 12) && a[100] == 0 && a[PG - 1] == 0, "the last page is wrong");
  a[200] = 'z';  // past the end: not written back
  check(!killed_in_child(touch, a + PG - 1), "a touch in the last page killed");
  check(killed_in_child(touch, a + PG), "a touch past the end of the file did not kill");
  check(killed_in_child(touch, a + 2 * PG + 5), "a touch past the end of the file did not kill");
  check(read(fd, a + PG, 1) < 0, "read() into a page past the end worked");
  munmap(a, 3 * PG);
  check(size_of("ft_eof") == 100, "mapping changed the size");
  fd = xopen("ft_eof", O_RDONLY);
  check(read(fd, buf, 8) == 8, "read failed");
  close(fd);
  unlink("ft_eof");
}

// A page wholly past the end of the file kills; the rest of the last page
// reads as zero and never reaches the file.
static void test_beyond_eof(void) {
  blocks_kept(eof_body);
}

static void unlink_body(void) {
  int fd = make_file("ft_unl", 2 * PG, 13);
  char *a = xmmap(2 * PG, RW, MAP_SHARED, fd, 0);
  close(fd);
  check(unlink("ft_unl") == 0, "unlink failed");
  check(open("ft_unl", O_RDONLY) < 0, "the name is still there");
  expect_pat(a, 0, 2 * PG, 13, "after unlink");
  a[0] = 'u';
  check(a[0] == 'u', "store after unlink lost");
  check(msync(a, 2 * PG, MS_SYNC) == 0, "msync of an unlinked file failed");
  munmap(a, 2 * PG);  // the blocks go now (blocks_kept checks)
}

// Unlink while mapped: the mapping goes on; the blocks go with it.
static void test_unlink_mapped(void) {
  blocks_kept(unlink_body);
}

static void exit_body(void) {
  int fd = make_file("ft_exit", 2 * PG, 14), pid;
  close(fd);
  pid = xfork();
  if (pid == 0) {
    fd = xopen("ft_exit", O_RDWR);
    char *a = xmmap(2 * PG, RW, MAP_SHARED, fd, 0);
    a[3] = 'e';
    a[PG + 3] = 'f';
    exit();  // no munmap, no close
  }
  xwait(pid);
  check(file_byte("ft_exit", 3) == 'e' && file_byte("ft_exit", PG + 3) == 'f',
        "stores are not in the file after exit");
  unlink("ft_exit");
}

// Writes are back after exit without munmap.
static void test_exit_writes_back(void) {
  blocks_kept(exit_body);
}

#define NMANY 12

static void many_body(void) {
  char name[8] = "ft_m0", *a[NMANY];
  int fd[NMANY], i;
  for (i = 0; i < NMANY; i++) {
    name[4] = 'a' + i;
    fd[i] = make_file(name, PG + 100 * (i + 1), 20 + i);
    a[i] = xmmap(2 * PG, RW, MAP_SHARED, fd[i], 0);
  }
  for (i = 0; i < NMANY; i++) {
    expect_pat(a[i], 0, PG + 100 * (i + 1), 20 + i, "many");
    a[i][PG + 50] = 'A' + i;
  }
  for (i = 0; i < NMANY; i++) {
    check(munmap(a[i], 2 * PG) == 0, "munmap failed");
    close(fd[i]);
    name[4] = 'a' + i;
    check(file_byte(name, PG + 50) == 'A' + i, "store to file %d lost", i);
    unlink(name);
  }
}

// Many files mapped at once, each with its own cache.
static void test_many_files(void) {
  blocks_kept(many_body);
}

static void populate_body(void) {
  int fd = make_file("ft_pop", PG + 10, 15), n, i;
  struct mapinfo m[16];
  char *a = xmmap(4 * PG, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  n = getmaps(0, m, 16);
  for (i = 0; i < n && m[i].start != (uint)a; i++)
    ;
  check(i < n, "getmaps does not list the mapping");
  check(m[i].resident == 2, "MAP_POPULATE made %d pages resident, not 2", m[i].resident);
  check(m[i].inum != 0 && strcmp(m[i].name, "ft_pop") == 0, "getmaps names %s", m[i].name);
  check(m[i].offset == 0, "offset %d", m[i].offset);
  munmap(a, 4 * PG);
  a = xmmap(PG, PROT_READ, MAP_SHARED, fd, PG);
  n = getmaps(0, m, 16);
  for (i = 0; i < n && m[i].start != (uint)a; i++)
    ;
  check(i < n && m[i].offset == PG, "getmaps gives the wrong offset");
  munmap(a, PG);
  close(fd);
  unlink("ft_pop");
}

// MAP_POPULATE reads the file in (up to its end); getmaps names the file.
static void test_populate_getmaps(void) {
  blocks_kept(populate_body);
}

static void fixed_body(void) {
  int fd = make_file("ft_fix", 2 * PG, 16);
  char *a = xmmap(2 * PG, RW, MAP_SHARED, fd, 0);
  char *b;
  a[0] = 'F';
  // Replacing a dirty shared page with MAP_FIXED writes it back first.
  b = mmap(a, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check(b == a && b[0] == 0, "MAP_FIXED did not replace the page");
  check(file_byte("ft_fix", 0) == 'F', "the replaced page's store was lost");
  munmap(a, 2 * PG);
  close(fd);
  unlink("ft_fix");
}

// MAP_FIXED over a file mapping.
static void test_fixed_over_file(void) {
  blocks_kept(fixed_body);
}

static void self_body(void) {
  int fd = make_file("ft_self", 3 * PG, 17), rfd;
  char *a = xmmap(3 * PG, RW, MAP_SHARED, fd, 0);
  char *b = xmmap(3 * PG, RW, MAP_PRIVATE, fd, 0);
  // read() of the file into a shared mapping of itself, pages untouched:
  // the pages are faulted in before the file is locked.
  rfd = xopen("ft_self", O_RDONLY);
  check(read(rfd, a + PG, PG) == PG, "read() into a mapping of the same file failed");
  expect_pat(a + PG, 0, PG, 17, "page 1 after reading page 0 into it");
  // ... and into a private mapping of it: the page is copied.
  check(read(rfd, b + 2 * PG, PG) == PG, "read() into a private mapping of the file failed");
  expect_pat(b + 2 * PG, 0, PG, 17, "the private page (file page 1 holds page 0 now)");
  close(rfd);
  // write() to the file from a mapping of itself.
  rfd = xopen("ft_self", O_RDWR);
  check(write(rfd, a + 2 * PG, 100) == 100, "write() from a mapping of the same file failed");
  expect_pat(a, 2 * PG, 100, 17, "page 0 after writing page 2's bytes over it");
  close(rfd);
  check(file_byte("ft_self", PG + 5) == pat(5, 17), "read() into the shared mapping lost");
  check(file_byte("ft_self", 2 * PG + 5) == pat(2 * PG + 5, 17), "a private read() reached the file");
  munmap(a, 3 * PG);
  munmap(b, 3 * PG);
  close(fd);
  unlink("ft_self");
}

// read() and write() of a file with a buffer in a mapping of that same
// file (its inode lock must not be wanted twice).
static void test_self_buffer(void) {
  blocks_kept(self_body);
}

static struct testcase cases[] = {
  {"private-read", test_private_read},
  {"private-write", test_private_write},
  {"shared-needs-rdwr", test_shared_needs_rdwr},
  {"bad-files", test_bad_files},
  {"close-early", test_close_early},
  {"msync", test_msync},
  {"write-shows", test_write_shows},
  {"two-processes", test_two_processes},
  {"fork-shared", test_fork_shared},
  {"fork-private", test_fork_private},
  {"offsets", test_offsets},
  {"beyond-eof", test_beyond_eof},
  {"unlink-mapped", test_unlink_mapped},
  {"exit-writes-back", test_exit_writes_back},
  {"many-files", test_many_files},
  {"populate-getmaps", test_populate_getmaps},
  {"fixed-over-file", test_fixed_over_file},
  {"self-buffer", test_self_buffer},
};

static struct suite suite = {"filetest", CASE_TIMEOUT, cases, sizeof(cases) / sizeof(cases[0])};

int main(int argc, char *argv[]) {
  run_suite(&suite, argc, argv);
  exit();
}
