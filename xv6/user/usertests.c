// usertests: stress and regression tests for the kernel's system calls.
//
//   usertests [ncpu=N] [case...]
//
// Output, parsed by the host harness:
//   BEGIN usertests N          N = number of cases that will run
//   PASS name | FAIL name: why one line per case
//   END usertests
// Anything else the suite prints starts with "# ". ncpu=N adds a case,
// "ncpu", that checks N CPUs started. The runner is suite.c.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "fs.h"
#include "mmu.h"
#include "param.h"
#include "sysinfo.h"
#include "syscall.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT  2000  // ticks a case may run before it is killed
#define MB            (1024 * 1024)

// Shared scratch memory. Static, because the stack is a single page.
static char buf[8192];
static char buf2[8192];

// ---- helpers for the cases ------------------------------------------

// A byte pattern that differs between blocks, files and offsets.
static uchar pattern(uint off, uint seed) {
  return (uchar)(off * 7 + off / BSIZE * 13 + seed * 101);
}

// Wait for every child of this process; returns how many were reaped.
static int reap_all(void) {
  int n = 0;
  while (wait() >= 0)
    n++;
  return n;
}

// Read from fd until end of file into out (at most max-1 bytes, then
// nul-terminated); returns the byte count.
static int read_all(int fd, char *out, int max) {
  int n, total = 0;
  while (total < max - 1 && (n = read(fd, out + total, max - 1 - total)) > 0)
    total += n;
  out[total] = 0;
  return total;
}

// Run path with argv in a child whose standard output is a pipe, and
// collect that output in out. If exec returns, the child writes "\1" and
// exec's return value instead, so "\1-1" means exec failed properly.
static int run_capture(char *path, char **argv, char *out, int max) {
  int p[2], pid, n;
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    n = exec(path, argv);
    printf(1, "\001%d", n);
    exit();
  }
  close(p[1]);
  n = read_all(p[0], out, max);
  close(p[0]);
  xwait(pid);
  return n;
}

// exec(path, argv) must return -1; what names the attempt.
static void expect_exec_fails(char *path, char **argv, const char *what) {
  run_capture(path, argv, buf, sizeof(buf));
  check(strcmp(buf, "\001-1") == 0, "exec %s did not return -1", what);
}

static int file_size(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0)
    return -1;
  return st.size;
}

// Write len bytes of pattern(seed) to a new file, chunk bytes per write.
static void write_pattern_file(const char *path, int len, int chunk, uint seed) {
  int fd, off, i, n;
  fd = open(path, O_CREATE | O_RDWR);
  check(fd >= 0, "create %s failed", path);
  for (off = 0; off < len; off += n) {
    n = len - off < chunk ? len - off : chunk;
    for (i = 0; i < n; i++)
      buf[i] = pattern(off + i, seed);
    check(write(fd, buf, n) == n, "write to %s at %d failed", path, off);
  }
  close(fd);
}

// Read the file back chunk bytes at a time and compare with the pattern.
static void verify_pattern_file(const char *path, int len, int chunk, uint seed) {
  int fd, off = 0, i, n;
  fd = open(path, O_RDONLY);
  check(fd >= 0, "open %s failed", path);
  while ((n = read(fd, buf2, chunk)) > 0) {
    for (i = 0; i < n; i++)
      check((uchar)buf2[i] == pattern(off + i, seed), "%s: wrong byte at %d", path, off + i);
    off += n;
  }
  check(n == 0, "read of %s failed at %d", path, off);
  check(off == len, "%s: read back %d bytes, wrote %d", path, off, len);
  close(fd);
}

// ---- the cases --------------------------------------------------------

static int expected_ncpu;  // from ncpu=N

static void test_ncpu(void) {
  struct sysinfo si;
  check(sysinfo(&si) == 0, "sysinfo failed");
  check(si.ncpu == expected_ncpu, "%d CPUs started, expected %d", si.ncpu, expected_ncpu);
}

#define NFORK 40

static void test_fork(void) {
  static int pids[NFORK];
  int i, j, pid;
  for (i = 0; i < NFORK; i++) {
    pid = xfork();
    if (pid == 0)
      exit();
    pids[i] = pid;
  }
  for (i = 0; i < NFORK; i++) {
    pid = wait();
    check(pid > 0, "wait returned %d with %d children left", pid, NFORK - i);
    for (j = 0; j < NFORK && pids[j] != pid; j++)
      ;
    check(j < NFORK, "wait returned %d: not a child, or returned twice", pid);
    pids[j] = 0;
  }
  check(wait() == -1, "wait with no children did not return -1");
}

// Several children at once each build short chains of processes.
static void test_forkfork(void) {
  int i, r, pid, inner;
  for (i = 0; i < 4; i++) {
    pid = xfork();
    if (pid > 0)
      continue;
    for (r = 0; r < 20; r++) {
      pid = xfork();
      if (pid == 0) {
        inner = xfork();
        if (inner == 0)
          exit();
        xwait(inner);
        exit();
      }
      xwait(pid);
    }
    exit();
  }
  check(reap_all() == 4, "did not reap all 4 children");
}

// Each child sends its pid; the parent sees the same pid from fork, from
// the pipe and from wait, also when it waits only after the child is gone.
static void test_exitwait(void) {
  int p[2], i, pid, sent;
  xpipe(p);
  for (i = 0; i < 50; i++) {
    pid = xfork();
    if (pid == 0) {
      sent = getpid();
      write(p[1], &sent, sizeof(sent));
      exit();
    }
    check(read(p[0], &sent, sizeof(sent)) == sizeof(sent), "read from child failed");
    check(sent == pid, "child says pid %d, fork said %d", sent, pid);
    if (i % 10 == 0)
      sleep(1);  // let the child become a zombie first
    xwait(pid);
  }
  close(p[0]);
  close(p[1]);
}

static void test_exec(void) {
  static char *echo_argv[] = {"echo", "hello", "exec", "world", 0};
  static char *bad_string_argv[] = {"echo", (char *)0x80000000, 0};
  static char *missing_argv[] = {"no-such-program", 0};
  int fd;

  run_capture("/echo", echo_argv, buf, sizeof(buf));
  check(strcmp(buf, "hello exec world\n") == 0, "echo printed the wrong output");
  expect_exec_fails("/no-such-program", missing_argv, "of a missing file");
  expect_exec_fails("/echo", (char **)0xffffffff, "with argv at 0xffffffff");
  expect_exec_fails("/echo", bad_string_argv, "with a kernel-address argument");

  fd = open("ut-notelf", O_CREATE | O_RDWR);
  check(fd >= 0, "create ut-notelf failed");
  check(write(fd, "#!not an ELF file\n", 18) == 18, "write ut-notelf failed");
  close(fd);
  expect_exec_fails("ut-notelf", missing_argv, "of a non-ELF file");
  check(unlink("ut-notelf") == 0, "unlink ut-notelf failed");
}

#define PIPEBYTES (100 * 1024)

static uint checksum_step(uint sum, uchar c) {
  return sum * 31 + c;
}

// 100 KB from a child in irregular chunks; every byte and a checksum the
// writer computed on its side are compared.
static void test_pipe(void) {
  int data[2], sums[2], pid, sent, n, i, total = 0, chunk = 0;
  uint sum = 0, theirs = 0;

  xpipe(data);
  xpipe(sums);
  pid = xfork();
  if (pid == 0) {
    close(data[0]);
    for (sent = 0; sent < PIPEBYTES; sent += n) {
      n = (chunk++ * 37) % 1500 + 1;
      if (n > PIPEBYTES - sent)
        n = PIPEBYTES - sent;
      for (i = 0; i < n; i++) {
        buf[i] = pattern(sent + i, 5);
        sum = checksum_step(sum, buf[i]);
      }
      check(write(data[1], buf, n) == n, "pipe write failed at %d", sent);
    }
    write(sums[1], &sum, sizeof(sum));
    exit();
  }
  close(data[1]);
  close(sums[1]);
  while ((n = read(data[0], buf2, (total % 7 + 1) * 300)) > 0) {
    for (i = 0; i < n; i++) {
      check((uchar)buf2[i] == pattern(total + i, 5), "wrong byte at offset %d", total + i);
      sum = checksum_step(sum, buf2[i]);
    }
    total += n;
  }
  check(n == 0, "pipe read failed");
  check(total == PIPEBYTES, "received %d bytes, sent %d", total, PIPEBYTES);
  check(read(sums[0], &theirs, sizeof(theirs)) == sizeof(theirs), "no checksum from writer");
  check(sum == theirs, "checksum mismatch");
  xwait(pid);
  close(data[0]);
  close(sums[0]);

  // Reader sees what was left, then end of file once the writer closed.
  xpipe(data);
  check(write(data[1], "ab", 2) == 2, "write failed");
  close(data[1]);
  check(read(data[0], buf, 10) == 2, "read did not return the 2 buffered bytes");
  check(read(data[0], buf, 10) == 0, "read after writer closed did not return 0");
  close(data[0]);

  // Writing with no reader left is an error, not a hang.
  xpipe(data);
  close(data[0]);
  check(write(data[1], "x", 1) == -1, "write to a pipe with no reader did not return -1");
  close(data[1]);
}

static void test_files(void) {
  struct stat st;
  int fd, i;

  unlink("ut-file");
  for (i = 0; i < 1500; i++)
    buf[i] = pattern(i, 1);

  fd = open("ut-file", O_CREATE | O_RDWR);
  check(fd >= 0, "create failed");
  check(write(fd, buf, 1000) == 1000, "write failed");
  close(fd);

  fd = open("ut-file", O_RDONLY);
  check(fd >= 0, "open for reading failed");
  check(read(fd, buf2, sizeof(buf2)) == 1000, "did not read back 1000 bytes");
  check(same_bytes(buf, buf2, 1000), "read back different bytes");
  check(read(fd, buf2, 10) == 0, "read at end of file did not return 0");
  check(write(fd, buf, 1) == -1, "write to an O_RDONLY fd succeeded");
  close(fd);

  fd = open("ut-file", O_WRONLY);
  check(fd >= 0, "open for writing failed");
  check(read(fd, buf2, 10) == -1, "read from an O_WRONLY fd succeeded");
  close(fd);

  // No O_APPEND: reading to the end moves the offset there, then write.
  fd = open("ut-file", O_RDWR);
  check(fd >= 0, "open for update failed");
  check(read(fd, buf2, 1000) == 1000, "read before append failed");
  check(write(fd, buf + 1000, 500) == 500, "append failed");
  close(fd);

  check(stat("ut-file", &st) == 0, "stat failed");
  check(st.type == T_FILE, "type %d, not T_FILE", st.type);
  check(st.size == 1500, "size %d after append, expected 1500", st.size);
  check(st.nlink == 1, "nlink %d, expected 1", st.nlink);
  fd = open("ut-file", O_RDONLY);
  check(read(fd, buf2, sizeof(buf2)) == 1500, "did not read back 1500 bytes");
  check(same_bytes(buf, buf2, 1500), "appended file has wrong contents");
  close(fd);

  check(unlink("ut-file") == 0, "unlink failed");
  check(open("ut-file", O_RDONLY) == -1, "open after unlink succeeded");
  check(unlink("ut-file") == -1, "second unlink succeeded");
  check(open("ut-missing", O_RDONLY) == -1, "open of a missing file succeeded");
  check(open(".", O_WRONLY) == -1, "open of a directory for writing succeeded");
}

#define BIGBYTES (MAXFILE * BSIZE)

// The largest file the inode can describe: direct and indirect blocks.
static void test_bigfile(void) {
  int fd;
  unlink("ut-big");
  write_pattern_file("ut-big", BIGBYTES, 1024, 3);
  check(file_size("ut-big") == BIGBYTES, "size %d, expected %d", file_size("ut-big"), BIGBYTES);
  // Appending past MAXFILE blocks must fail.
  fd = open("ut-big", O_RDWR);
  check(fd >= 0, "reopen failed");
  while (read(fd, buf2, sizeof(buf2)) > 0)
    ;
  check(write(fd, "x", 1) != 1, "write past the largest file size succeeded");
  close(fd);
  verify_pattern_file("ut-big", BIGBYTES, 700, 3);
  check(unlink("ut-big") == 0, "unlink failed");
}

static void dirs_cleanup(void) {
  unlink("ut-dir/sub/f");
  unlink("ut-dir/f2");
  unlink("ut-dir/sub");
  unlink("ut-dir");
}

static void test_dirs(void) {
  struct stat st;
  int fd;

  dirs_cleanup();
  check(mkdir("ut-dir") == 0, "mkdir ut-dir failed");
  check(mkdir("ut-dir") == -1, "mkdir of an existing name succeeded");
  check(chdir("ut-dir") == 0, "chdir ut-dir failed");
  check(mkdir("sub") == 0, "mkdir sub failed");
  fd = open("sub/f", O_CREATE | O_RDWR);
  check(fd >= 0, "create sub/f failed");
  check(write(fd, "hello", 5) == 5, "write sub/f failed");
  close(fd);
  check(chdir("sub") == 0, "chdir sub failed");
  fd = open("../sub/f", O_RDONLY);
  check(fd >= 0, "open ../sub/f failed");
  check(read(fd, buf, 10) == 5 && same_bytes(buf, "hello", 5), "../sub/f has wrong contents");
  close(fd);
  check(chdir("../..") == 0, "chdir ../.. failed");
  check(stat("ut-dir/sub/../sub/./f", &st) == 0 && st.size == 5, "nested path lookup failed");
  check(stat("ut-dir", &st) == 0 && st.type == T_DIR, "ut-dir is not a directory");

  check(unlink("ut-dir") == -1, "unlink of a non-empty directory succeeded");
  check(unlink("ut-dir/sub") == -1, "unlink of a non-empty subdirectory succeeded");
  check(unlink("ut-dir/.") == -1, "unlink of . succeeded");
  check(unlink("ut-dir/..") == -1, "unlink of .. succeeded");
  check(unlink(".") == -1, "unlink . succeeded");
  check(mkdir("ut-nodir/x") == -1, "mkdir under a missing directory succeeded");
  check(open("ut-nodir/x", O_CREATE | O_RDWR) == -1, "create under a missing directory succeeded");
  check(open("ut-dir/sub/f/x", O_CREATE | O_RDWR) == -1, "create under a file succeeded");

  // Two names for one inode: nlink follows link and unlink.
  check(link("ut-dir/sub/f", "ut-dir/f2") == 0, "link failed");
  check(link("ut-dir/sub/f", "ut-dir/f2") == -1, "link onto an existing name succeeded");
  check(link("ut-dir/sub", "ut-dir/sublink") == -1, "link of a directory succeeded");
  fd = open("ut-dir/f2", O_RDONLY);
  check(fd >= 0, "open through the new link failed");
  check(fstat(fd, &st) == 0 && st.nlink == 2, "nlink %d after link, expected 2", st.nlink);
  check(unlink("ut-dir/sub/f") == 0, "unlink of the first name failed");
  check(fstat(fd, &st) == 0 && st.nlink == 1, "nlink %d after unlink, expected 1", st.nlink);
  check(read(fd, buf, 10) == 5 && same_bytes(buf, "hello", 5), "contents lost after unlink of one name");
  close(fd);
  check(unlink("ut-dir/f2") == 0, "unlink of the second name failed");

  // Emptied directories can go.
  check(unlink("ut-dir/sub") == 0, "unlink of the emptied subdirectory failed");
  check(unlink("ut-dir") == 0, "unlink of the emptied directory failed");
  check(chdir("ut-dir") == -1, "chdir into a removed directory succeeded");
}

#define NCONC    4
#define CONCSIZE (8 * 1024)

static void test_concfiles(void) {
  static char name[] = "ut-cf0";
  int i, pid;
  for (i = 0; i < NCONC; i++) {
    name[5] = '0' + i;
    unlink(name);
    pid = xfork();
    if (pid == 0) {
      write_pattern_file(name, CONCSIZE, BSIZE, 10 + i);
      exit();
    }
  }
  check(reap_all() == NCONC, "did not reap all writers");
  for (i = 0; i < NCONC; i++) {
    name[5] = '0' + i;
    verify_pattern_file(name, CONCSIZE, 1000, 10 + i);
    check(unlink(name) == 0, "unlink %s failed", name);
  }
}

// Touch one byte per page of [p, p+len).
static void touch(char *p, int len) {
  int off;
  for (off = 0; off < len; off += PGSIZE)
    ((volatile char *)p)[off] = 1;
}

static void test_sbrk(void) {
  char *a, *b, *p;
  int i, pid;

  a = sbrk(0);
  check(sbrk(PGSIZE) == a, "sbrk(PGSIZE) did not return the old break");
  check(sbrk(0) == a + PGSIZE, "break did not move by a page");
  memset(a, 0xab, PGSIZE);
  check(sbrk(1) == a + PGSIZE, "sbrk(1) did not return the old break");
  a[PGSIZE] = 1;
  check(sbrk(0) == a + PGSIZE + 1, "break did not move by one byte");
  b = sbrk(10 * PGSIZE);
  check(b == a + PGSIZE + 1, "sbrk(10 pages) did not return the old break");
  for (i = 0; i < 10 * PGSIZE; i++)
    check(b[i] == 0, "new heap memory is not zero at +%d", i);
  memset(b, 0x5a, 10 * PGSIZE);
  check(a[0] == (char)0xab && a[PGSIZE] == 1, "growing the heap changed old contents");

  check(sbrk(-(11 * PGSIZE + 1)) == b + 10 * PGSIZE, "shrinking sbrk did not return the old break");
  check(sbrk(0) == a, "break not back at the start after shrinking");

  // Memory given back is gone: touching it must kill the process.
  pid = xfork();
  if (pid == 0) {
    touch(a + 5 * PGSIZE, 1);
    fail("memory freed by sbrk is still usable");
  }
  xwait(pid);

  p = sbrk(0x7ff00000);
  check(p == (char *)-1, "sbrk of almost 2 GiB succeeded");
  check(sbrk(0) == a, "failed sbrk moved the break");
  check(sbrk(-0x10000000) == (char *)-1, "shrinking below the heap start succeeded");
  check(sbrk(0) == a, "failed shrink moved the break");
}

// A child takes memory until sbrk refuses; exiting must give it all back
// (the runner checks the free page count afterwards).
static void test_oom(void) {
  int p[2], pid, mbytes = 0, done = 0, n;
  char *top, *m, c;

  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(p[0]);
    for (;;) {
      top = sbrk(0);
      m = sbrk(MB);
      if (m == (char *)-1)
        break;
      touch(m, MB);
      write(p[1], "m", 1);
    }
    check(sbrk(0) == top, "failed sbrk moved the break");
    write(p[1], "d", 1);
    exit();
  }
  close(p[1]);
  while ((n = read(p[0], &c, 1)) == 1) {
    if (c == 'm')
      mbytes++;
    else if (c == 'd')
      done = 1;
  }
  close(p[0]);
  xwait(pid);
  check(done, "the child died after %d MiB instead of seeing sbrk fail", mbytes);
  check(mbytes >= 1, "not even 1 MiB could be allocated");
  m = sbrk(MB);
  check(m != (char *)-1, "memory was not given back after the child exited");
  touch(m, MB);
  sbrk(-MB);
}

// Every system call that takes a pointer must refuse a bad one with -1
// and leave the caller alive.
static void test_badptr(void) {
  static char *argv[] = {"echo", 0};
  char *bad[4], *top;
  int fd, i, local;

  top = sbrk(0);
  if ((uint)top % PGSIZE)
    sbrk(PGROUNDUP((uint)top) - (uint)top);  // so nothing past the break is mapped
  top = sbrk(0);
  bad[0] = (char *)0x80000000;
  bad[1] = (char *)0xffffffff;
  bad[2] = top;
  bad[3] = (char *)(PGROUNDDOWN((uint)&local) - PGSIZE + 64);  // the guard page

  fd = open("ut-badptr", O_CREATE | O_RDWR);
  check(fd >= 0, "create failed");
  check(write(fd, buf, 100) == 100, "write failed");
  close(fd);
  fd = open("ut-badptr", O_RDWR);
  check(fd >= 0, "open failed");

  for (i = 0; i < 4; i++) {
    char *p = bad[i];
    check(read(fd, p, 10) == -1, "read into %p succeeded", p);
    check(write(fd, p, 10) == -1, "write from %p succeeded", p);
    check(open(p, O_RDONLY) == -1, "open of path %p succeeded", p);
    check(open(p, O_CREATE | O_RDWR) == -1, "create of path %p succeeded", p);
    check(fstat(fd, (struct stat *)p) == -1, "fstat into %p succeeded", p);
    check(pipe((int *)p) == -1, "pipe into %p succeeded", p);
    check(exec(p, argv) == -1, "exec of path %p succeeded", p);
    check(unlink(p) == -1, "unlink of path %p succeeded", p);
    check(mkdir(p) == -1, "mkdir of path %p succeeded", p);
    check(chdir(p) == -1, "chdir to path %p succeeded", p);
    check(link(p, "ut-badptr2") == -1, "link from path %p succeeded", p);
    check(link("ut-badptr", p) == -1, "link to path %p succeeded", p);
    check(sysinfo((struct sysinfo *)p) == -1, "sysinfo into %p succeeded", p);
  }
  // Buffers that start in valid memory but run past the break.
  check(read(fd, top - 4, 10) == -1, "read across the break succeeded");
  check(write(fd, top - 4, 10) == -1, "write across the break succeeded");
  close(fd);
  check(unlink("ut-badptr") == 0, "unlink failed");
}

static int start_child(int kind, int rfd) {
  char c;
  int pid = xfork();
  if (pid == 0) {
    if (kind == 0)
      for (;;)
        ;
    if (kind == 1)
      sleep(1000000);
    if (kind == 2)
      read(rfd, &c, 1);
    exit();
  }
  return pid;
}

// kill stops a spinning, a sleeping and a blocked child; wait reaps them.
static void test_kill(void) {
  static const char *what[] = {"spinning", "sleeping", "blocked in read"};
  int p[2], kind, pid;
  xpipe(p);
  for (kind = 0; kind < 3; kind++) {
    pid = start_child(kind, p[0]);
    sleep(2);
    check(kill(pid) == 0, "kill of a %s child failed", what[kind]);
    check(wait() == pid, "wait did not return the killed %s child", what[kind]);
    check(kill(pid) == -1, "kill of a reaped pid succeeded");
  }
  close(p[0]);
  close(p[1]);
  check(kill(99999) == -1, "kill of a nonexistent pid succeeded");
}

// Fill the process table: fork must fail cleanly when it is full.
static void test_manyproc(void) {
  struct sysinfo si;
  int p[2], n = 0, pid;
  char c;

  xpipe(p);
  for (;;) {
    pid = fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      close(p[1]);
      read(p[0], &c, 1);  // until the parent closes the pipe
      exit();
    }
    n++;
    if (n > NPROC) {
      close(p[1]);
      fail("fork succeeded more than NPROC times");
    }
  }
  check(sysinfo(&si) == 0, "sysinfo failed");
  close(p[1]);
  close(p[0]);
  check(si.nproc == NPROC, "fork failed with %d processes in use, NPROC is %d", si.nproc, NPROC);
  check(reap_all() == n, "did not reap all %d children", n);
  pid = xfork();
  if (pid == 0)
    exit();
  xwait(pid);
}

// Several processes grow and shrink their heaps and fork at the same time;
// every copy must hold exactly what its owner wrote.
static void test_sbrkfork(void) {
  int k, r, pid, i;
  char *p, v;
  for (k = 0; k < 3; k++) {
    pid = xfork();
    if (pid > 0)
      continue;
    for (r = 0; r < 16; r++) {
      v = k * 16 + r;
      p = sbrk(2 * PGSIZE);
      check(p != (char *)-1, "sbrk failed");
      memset(p, v, 2 * PGSIZE);
      pid = xfork();
      if (pid == 0) {
        for (i = 0; i < 2 * PGSIZE; i++)
          check(p[i] == v, "forked copy of the heap is wrong");
        memset(p, 0xff, 2 * PGSIZE);
        p = sbrk(PGSIZE);
        check(p != (char *)-1, "sbrk in the forked copy failed");
        touch(p, PGSIZE);
        exit();
      }
      xwait(pid);
      for (i = 0; i < 2 * PGSIZE; i++)
        check(p[i] == v, "a child's writes showed up in the parent");
      if (r % 2)
        check(sbrk(-2 * PGSIZE) == p + 2 * PGSIZE && sbrk(0) == p, "shrink failed");
    }
    exit();
  }
  check(reap_all() == 3, "did not reap all 3 children");
}

// Two processes write through one file descriptor: its offset is shared,
// so neither overwrites the other.
static void test_sharedfd(void) {
  int fd, pid, i, n, mine = 0, theirs = 0;
  char c;

  unlink("ut-shared");
  fd = open("ut-shared", O_CREATE | O_RDWR);
  check(fd >= 0, "create failed");
  pid = xfork();
  c = pid == 0 ? 'c' : 'p';
  memset(buf, c, 10);
  for (i = 0; i < 100; i++)
    check(write(fd, buf, 10) == 10, "write failed");
  if (pid == 0)
    exit();
  xwait(pid);
  close(fd);

  fd = open("ut-shared", O_RDONLY);
  while ((n = read(fd, buf2, sizeof(buf2))) > 0) {
    for (i = 0; i < n; i++) {
      if (buf2[i] == 'p')
        mine++;
      else if (buf2[i] == 'c')
        theirs++;
    }
  }
  close(fd);
  check(mine == 1000 && theirs == 1000, "found %d and %d bytes, expected 1000 each", mine, theirs);
  check(unlink("ut-shared") == 0, "unlink failed");
}

// exec takes up to MAXARG arguments (argv[0] included), not one more, and
// refuses arguments that do not fit on the stack page.
static void test_bigargs(void) {
  static char *args[MAXARG + 2];
  static char names[MAXARG + 1][4];
  static char expect[MAXARG * 4 + 2];
  static char huge[PGSIZE + 100];
  int i, len = 0;

  args[0] = "echo";
  for (i = 1; i <= MAXARG; i++) {
    names[i][0] = 'a';
    names[i][1] = '0' + i / 10;
    names[i][2] = '0' + i % 10;
    args[i] = names[i];
  }
  for (i = 1; i < MAXARG; i++) {
    memmove(expect + len, names[i], 3);
    len += 3;
    expect[len++] = i + 1 < MAXARG ? ' ' : '\n';
  }
  args[MAXARG] = 0;
  run_capture("/echo", args, buf, sizeof(buf));
  check(strcmp(buf, expect) == 0, "echo with %d arguments printed the wrong output", MAXARG);

  args[MAXARG] = names[MAXARG];
  args[MAXARG + 1] = 0;
  expect_exec_fails("/echo", args, "with MAXARG+1 arguments");

  memset(huge, 'h', sizeof(huge) - 1);
  args[1] = huge;
  args[2] = 0;
  expect_exec_fails("/echo", args, "with an argument larger than a page");
}

// Many references to one inode, and more directories than the inode
// cache holds, entered and left one by one.
static void test_iref(void) {
  static int fds[NOFILE];
  struct stat st, st2;
  int fd, n, i, round;

  unlink("ut-iref");
  fd = open("ut-iref", O_CREATE | O_RDWR);
  check(fd >= 0, "create failed");
  check(write(fd, "abc", 3) == 3, "write failed");
  check(fstat(fd, &st) == 0, "fstat failed");
  for (n = 0; n < NOFILE; n++)
    if ((fds[n] = open("ut-iref", O_RDONLY)) < 0)
      break;
  check(n < NOFILE && n >= NOFILE - 6, "opened the file %d times, NOFILE is %d", n, NOFILE);
  for (i = 0; i < n; i++) {
    check(fstat(fds[i], &st2) == 0 && st2.ino == st.ino, "fd %d names another inode", fds[i]);
    check(read(fds[i], buf, 10) == 3 && same_bytes(buf, "abc", 3), "fd %d read wrong data", fds[i]);
    close(fds[i]);
  }
  close(fd);
  for (round = 0; round < 100; round++) {
    fd = open("ut-iref", O_RDONLY);
    check(fd >= 0, "open %d of the same file failed", round);
    close(fd);
  }
  check(unlink("ut-iref") == 0, "unlink failed");

  for (i = 0; i < NINODE + 5; i++) {
    check(mkdir("ut-irefd") == 0, "mkdir at depth %d failed", i);
    check(chdir("ut-irefd") == 0, "chdir at depth %d failed", i);
  }
  for (i = 0; i < NINODE + 5; i++) {
    check(chdir("..") == 0, "chdir .. failed");
    check(unlink("ut-irefd") == 0, "unlink at depth %d failed", NINODE + 4 - i);
  }
}

// Two spinning children must not keep the parent from running.
static void test_preempt(void) {
  int p[2], spin1, spin2, t0;
  char c;

  xpipe(p);
  spin1 = xfork();
  if (spin1 == 0) {
    close(p[0]);
    write(p[1], "x", 1);
    for (;;)
      ;
  }
  spin2 = xfork();
  if (spin2 == 0)
    for (;;)
      ;
  close(p[1]);
  check(read(p[0], &c, 1) == 1, "no word from the first child");
  close(p[0]);
  t0 = uptime();
  sleep(2);
  check(uptime() >= t0 + 2, "sleep(2) returned early");
  check(kill(spin1) == 0 && kill(spin2) == 0, "kill failed");
  check(reap_all() == 2, "did not reap both children");
}

// System call num(a, b, c) made with the direction flag set, as a
// program may leave it (our memmove sets it for a backward copy). The
// kernel must clear it: its own copies assume it clear.
static int syscall_df(int num, int a, int b, int c) {
  int r;
  asm volatile("pushl %4; pushl %3; pushl %2; pushl $0; std; int $64; cld; addl $16, %%esp"
               : "=a"(r)
               : "0"(num), "r"(a), "r"(b), "r"(c)
               : "memory", "cc");
  return r;
}

// Spin with the direction flag set until a few timer interrupts have
// hit the loop, then copy data through a file and a pipe with it set.
static void test_dirflag(void) {
  int fd, p[2], i, t0 = uptime();
  uint spins;

  while (uptime() < t0 + 5) {
    spins = 2000000;
    asm volatile("std; 1: decl %0; jnz 1b; cld" : "+r"(spins) : : "cc");
  }
  for (i = 0; i < 1000; i++)
    buf[i] = pattern(i, 5);
  fd = open("ut-df", O_CREATE | O_RDWR);
  check(fd >= 0, "cannot create ut-df");
  check(syscall_df(SYS_write, fd, (int)buf, 1000) == 1000, "write with DF set failed");
  close(fd);
  memset(buf2, 0, 1000);
  fd = open("ut-df", O_RDONLY);
  check(syscall_df(SYS_read, fd, (int)buf2, 1000) == 1000, "read with DF set failed");
  close(fd);
  check(same_bytes(buf, buf2, 1000), "file data garbled with DF set");
  check(unlink("ut-df") == 0, "unlink ut-df failed");

  xpipe(p);
  check(syscall_df(SYS_write, p[1], (int)buf, 300) == 300, "pipe write with DF set failed");
  memset(buf2, 0, 300);
  check(syscall_df(SYS_read, p[0], (int)buf2, 300) == 300, "pipe read with DF set failed");
  check(same_bytes(buf, buf2, 300), "pipe data garbled with DF set");
  close(p[0]);
  close(p[1]);
}

// ---- the runner -------------------------------------------------------

static struct testcase cases[] = {
  {"fork", test_fork},
  {"forkfork", test_forkfork},
  {"exitwait", test_exitwait},
  {"exec", test_exec},
  {"pipe", test_pipe},
  {"files", test_files},
  {"bigfile", test_bigfile},
  {"dirs", test_dirs},
  {"concfiles", test_concfiles},
  {"sbrk", test_sbrk},
  {"oom", test_oom},
  {"badptr", test_badptr},
  {"killtest", test_kill},
  {"manyproc", test_manyproc},
  {"sbrkfork", test_sbrkfork},
  {"sharedfd", test_sharedfd},
  {"bigargs", test_bigargs},
  {"iref", test_iref},
  {"preempt", test_preempt},
  {"dirflag", test_dirflag},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct suite suite = {"usertests", CASE_TIMEOUT, cases, NCASES};

int main(int argc, char *argv[]) {
  int i, n = 1, want_ncpu = 0;
  char *v;

  // Take ncpu=N out of argv; what is left names cases.
  for (i = 1; i < argc; i++) {
    if ((v = suite_option(argv[i], "ncpu=")) != 0) {
      expected_ncpu = atoi(v);
      want_ncpu = 1;
    } else {
      argv[n++] = argv[i];
    }
  }
  suite_begin(&suite, want_ncpu + suite_count(&suite, n));
  if (want_ncpu)
    run_case(&suite, "ncpu", test_ncpu);
  run_named(&suite, n, argv);
  suite_end(&suite);
  exit();
}
