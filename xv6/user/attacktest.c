// attacktest: regression cases for kernel crashes and lost data that a
// user program could cause, one case per bug class. Each case states at
// its top what the kernel did before the fix.
//
//   attacktest [case...]
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN attacktest N          N = number of cases that will run
//   PASS name | FAIL name: why  one line per case
//   END attacktest
// Anything else this program prints starts with "# ". The runner is
// suite.c. Several cases race two processes and need 2 CPUs to bite.
//
// The program also serves as its own exec target: with "-eflags" it
// prints the eflags it started with, with "-getmaps-child" it runs the
// child side of getmaps-race (see attack_main).
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "mmu.h"
#include "param.h"
#include "memlayout.h"
#include "mman.h"
#include "syscall.h"
#include "sysinfo.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 6000  // ticks a case may run before it is killed
#define PG      PGSIZE
#define MB      (1024 * 1024)
#define RW      (PROT_READ | PROT_WRITE)
#define PRIV    (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED  (MAP_SHARED | MAP_ANONYMOUS)
#define SELF    "/attacktest"

// ---- the entry point --------------------------------------------------

// eflags exactly as exec left them: read by the first instructions of the
// program, before any compiled code can change a flag.
uint entry_eflags;
int attack_main(int argc, char *argv[]);

asm(".text\n"
    ".globl main\n"
    "main:\n"
    "  pushfl\n"
    "  popl entry_eflags\n"
    "  cld\n"                 // compiled code assumes DF clear
    "  jmp attack_main\n");   // same stack: argc, argv where main wants them

// ---- small helpers ------------------------------------------------------

static char out[512];


static int nproc(void) {
  struct sysinfo si;
  check(sysinfo(&si) == 0, "sysinfo failed");
  return si.nproc;
}

static uint map(uint addr, uint len, int prot, int flags) {
  return (uint)mmap((void *)addr, (int)len, prot, flags, -1, 0);
}

static uint xmap(uint addr, uint len, int prot, int flags) {
  uint a = map(addr, len, prot, flags);
  check(a != (uint)MAP_FAILED, "mmap(%x, %x) failed", addr, len);
  return a;
}

static void xmunmap(uint addr, uint len) {
  check(munmap((void *)addr, len) == 0, "munmap(%x, %x) failed", addr, len);
}

// Read fd to end of file into buf (nul-terminated); returns the count.
static int read_all(int fd, char *buf, int max) {
  int n, total = 0;
  while (total < max - 1 && (n = read(fd, buf + total, max - 1 - total)) > 0)
    total += n;
  buf[total] = 0;
  return total;
}

// Fork a child whose standard output is the write end of a new pipe;
// returns the child's pid (0 in the child) and the read end in *rfd.
static int fork_piped(int *rfd) {
  int p[2], pid;
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    return 0;
  }
  close(p[1]);
  *rfd = p[0];
  return pid;
}

// Collect what child pid printed on the pipe rfd, then reap it.
static void collect(int pid, int rfd) {
  read_all(rfd, out, sizeof(out));
  close(rfd);
  xwait(pid);
}

static void write_file(char *path, char *data, int n) {
  int fd = open(path, O_CREATE | O_RDWR);
  check(fd >= 0, "cannot create %s", path);
  check(write(fd, data, n) == n, "write to %s failed", path);
  close(fd);
}

static int nlink_of(int fd) {
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat failed");
  return st.nlink;
}

// Decimal digits of v appended at s; returns the end.
static char *put_uint(char *s, uint v) {
  char tmp[12];
  int n = 0;
  do
    tmp[n++] = '0' + v % 10;
  while ((v /= 10) != 0);
  while (n > 0)
    *s++ = tmp[--n];
  *s = 0;
  return s;
}

// ---- 1. exec-path-in-mmap -------------------------------------------------

// Old kernel: panic "trap" (kernel page fault at the page after the
// strings). exec freed the old image's regions, then read the path for
// the process name from them: through a stale TLB entry, the freed page's
// junk, which runs on into the unmapped page above.
static void test_exec_path_in_mmap(void) {
  uint m = xmap(0, 2 * PG, RW, PRIV);
  char *path = (char *)(m + 64), *arg = (char *)(m + 128), **argv = (char **)(m + 256);
  int pid, rfd;
  xmunmap(m + PG, PG);  // nothing mapped after the strings' page
  strcpy(path, "/echo");
  strcpy(arg, "mapped-argument");
  argv[0] = path;
  argv[1] = arg;
  argv[2] = 0;
  if ((pid = fork_piped(&rfd)) == 0) {
    exec(path, argv);
    printf(1, "exec returned");
    exit();
  }
  collect(pid, rfd);
  check(strcmp(out, "mapped-argument\n") == 0, "echo from mapped strings printed '%s'", out);
  xmunmap(m, PG);
}

// ---- 2. shared-path-race --------------------------------------------------

#define RACE_ROUNDS 300    // rounds of the six calls
#define RACE_TICKS  1000   // ... or this many ticks, whichever ends first
#define RACE_PATH   "/srd/xa"

// Flip the path's last letter and terminator until *stop is set (or, if
// the case died, for a while longer than it may run).
static void flip_path(volatile char *letter, volatile char *stop) {
  uint i, t0 = uptime();
  for (i = 0; !*stop; i++) {
    letter[1] = (i & 1) ? 0 : 'z';     // the terminator, at the mapping's last byte
    letter[0] = (i & 2) ? 'a' : 'b';
    if (i % 65536 == 0 && uptime() - t0 > 2 * RACE_TICKS)
      break;
  }
  exit();
}

// Old kernel: panic "trap" (kernel page fault at the page after the
// mapping). argstr checked the string in place; namei read it again
// after the other process had overwritten its terminator.
static void test_shared_path_race(void) {
  static char *argv[] = {"xa", 0};
  uint page = xmap(0, 2 * PG, RW, SHARED), t0;
  char *path = (char *)(page + PG - sizeof(RACE_PATH)), *stop = (char *)page;
  int pid, round, fd;

  xmunmap(page + PG, PG);  // nothing may follow the path's page
  strcpy(path, RACE_PATH);
  check(mkdir("/srd") == 0, "mkdir /srd failed");
  write_file("/srd-file", "x", 1);
  if ((pid = xfork()) == 0)
    flip_path(path + sizeof(RACE_PATH) - 2, stop);

  t0 = uptime();
  for (round = 0; round < RACE_ROUNDS && uptime() - t0 < RACE_TICKS; round++) {
    if ((fd = open(path, O_CREATE | O_RDWR)) >= 0)
      close(fd);
    if ((fd = open(path, O_RDONLY)) >= 0)
      close(fd);
    unlink(path);
    mkdir(path);
    if (chdir(path) == 0)
      check(chdir("/") == 0, "chdir / failed");
    unlink(path);
    link("/srd-file", path);
    check(exec(path, argv) < 0, "exec of a non-program succeeded");
    unlink(path);
  }
  *stop = 1;
  xwait(pid);
  unlink("/srd/xa");
  unlink("/srd/xb");
  check(unlink("/srd") == 0, "unlink /srd failed (not empty?)");
  check(unlink("/srd-file") == 0, "unlink /srd-file failed");
  xmunmap(page, PG);
}

// ---- 3. create-in-deleted-dir, deleted-dotdot ----------------------------

// Old kernel: all four calls succeeded, adding entries to a directory
// whose inode is freed when the last reference goes; the new inodes (and
// the extra link on the target) were lost on disk.
static void test_create_in_deleted_dir(void) {
  char *problem = 0;
  int fd;

  write_file("/cdd-target", "t", 1);
  check(mkdir("/cdd") == 0, "mkdir /cdd failed");
  check(chdir("/cdd") == 0, "chdir /cdd failed");
  check(unlink("/cdd") == 0, "unlink of the empty cwd failed");
  if ((fd = open("f", O_CREATE | O_RDWR)) >= 0) {
    close(fd);
    problem = "open(O_CREATE) in a deleted directory succeeded";
  }
  if (mkdir("s") == 0 && !problem)
    problem = "mkdir in a deleted directory succeeded";
  if (mknod("n", 1, 1) == 0 && !problem)
    problem = "mknod in a deleted directory succeeded";
  if (link("/cdd-target", "l") == 0 && !problem)
    problem = "link into a deleted directory succeeded";
  // Take back whatever got in, while the directory can still be named.
  unlink("f");
  unlink("s");
  unlink("n");
  unlink("l");
  check(chdir("/") == 0, "chdir / failed");
  check(unlink("/cdd-target") == 0, "unlink /cdd-target failed");
  check(problem == 0, "%s", problem);
}

// Old kernel: panic "ilock: inode is free on disk". The deleted
// directory still held "..", naming its freed parent.
static void test_deleted_dotdot(void) {
  int fd;
  check(mkdir("/dda") == 0 && mkdir("/dda/b") == 0, "mkdir /dda/b failed");
  check(chdir("/dda/b") == 0, "chdir /dda/b failed");
  check(unlink("/dda/b") == 0, "unlink /dda/b failed");
  check(unlink("/dda") == 0, "unlink /dda failed");
  if (chdir("..") == 0) {
    chdir("/");
    fail("chdir(\"..\") in a deleted directory succeeded");
  }
  if ((fd = open("..", O_RDONLY)) >= 0) {
    chdir("/");
    fail("open(\"..\") in a deleted directory succeeded");
  }
  fd = open(".", O_RDONLY);
  check(chdir("/") == 0, "chdir / failed");
  check(fd >= 0, "open(\".\") in a deleted directory failed");
  close(fd);
}

// ---- 4. link-limit --------------------------------------------------------

#define LINKDIRS   10
#define PERDIR     ((MAXLINK + LINKDIRS - 1) / LINKDIRS)  // names per directory

// Name i of the links: /lkD/N with D = i / PERDIR.
static char *link_name(int i) {
  static char name[32];
  char *s = name;
  strcpy(s, "/lk");
  s = put_uint(s + 3, i / PERDIR);
  *s++ = '/';
  put_uint(s, i % PERDIR);
  return name;
}

static void link_cleanup(int made) {
  char dir[8];
  int i;
  for (i = 0; i < made; i++)
    unlink(link_name(i));
  for (i = 0; i < LINKDIRS; i++) {
    strcpy(dir, "/lk");
    put_uint(dir + 3, i);
    unlink(dir);
  }
}

// Old kernel: no limit; link number MAXLINK succeeded (nlink is a short,
// so enough links wrap it).
static void test_link_limit(void) {
  char dir[8];
  int fd, i, made;

  write_file("/lk-file", "l", 1);
  for (i = 0; i < LINKDIRS; i++) {
    strcpy(dir, "/lk");
    put_uint(dir + 3, i);
    check(mkdir(dir) == 0, "mkdir %s failed", dir);
  }
  for (made = 0; made < MAXLINK - 1; made++)
    if (link("/lk-file", link_name(made)) < 0)
      break;
  fd = open("/lk-file", O_RDONLY);
  check(fd >= 0, "open /lk-file failed");
  if (made < MAXLINK - 1 || link("/lk-file", link_name(made)) == 0) {
    link_cleanup(made + 1);
    unlink("/lk-file");
    check(made == MAXLINK - 1, "link %d failed, expected %d to succeed", made + 1, MAXLINK - 1);
    fail("link %d succeeded, MAXLINK is %d", MAXLINK, MAXLINK);
  }
  check(nlink_of(fd) == MAXLINK, "nlink %d after %d links", nlink_of(fd), made);
  for (i = 0; i < made; i++)
    check(unlink(link_name(i)) == 0, "unlink %s failed", link_name(i));
  check(nlink_of(fd) == 1, "nlink %d after unlinking the links", nlink_of(fd));
  close(fd);
  link_cleanup(0);
  check(unlink("/lk-file") == 0, "unlink /lk-file failed");
}

// ---- 5. fixed-populate-failure --------------------------------------------

#define FPF_BASE  0x10000000u  // the region under test (the heap is far below)
#define FPF_PAGES 16
#define FPF_CUT   4            // the failing mmap starts at this page of it
#define MAXMAPS   32

static struct mapinfo maps_before[MAXMAPS], maps_after[MAXMAPS];

// MAP_FIXED|MAP_POPULATE over part of a region, larger than free memory,
// must fail and leave everything as it was.
static void fixed_populate_fails(int flags) {
  uint start = FPF_BASE + FPF_CUT * PG, len, before, i;
  int n;
  struct sysinfo si;

  xmap(FPF_BASE, FPF_PAGES * PG, RW, flags | MAP_FIXED);
  for (i = 0; i < FPF_PAGES; i += 2)
    *(volatile uint *)(FPF_BASE + i * PG) = 0xfa11 + i;
  check(sysinfo(&si) == 0, "sysinfo failed");
  len = (si.freepages + si.kmalloc_pages + 4096) * PG;
  check(start + len < MMAPTOP, "too much memory for this test: %d pages", si.freepages);
  n = getmaps(0, maps_before, MAXMAPS);
  before = free_pages();
  check(map(start, len, RW, flags | MAP_FIXED | MAP_POPULATE) == (uint)MAP_FAILED,
        "populated %x bytes", len);
  check(getmaps(0, maps_after, MAXMAPS) == n &&
        same_bytes(maps_before, maps_after, n * sizeof(struct mapinfo)),
        "the failed MAP_FIXED mmap changed the regions");
  check(free_pages() == before, "the failed mmap kept %d pages", before - free_pages());
  for (i = 0; i < FPF_PAGES; i += 2)
    check(*(volatile uint *)(FPF_BASE + i * PG) == 0xfa11 + i, "page %d lost its data", i);
  xmunmap(FPF_BASE, FPF_PAGES * PG);
}

// Old kernel: the old pages were unmapped before populating, so the
// failed call returned -1 with the overlapped part of the region gone
// (getmaps differed; touching it killed the process).
static void test_fixed_populate_failure(void) {
  fixed_populate_fails(PRIV);
  fixed_populate_fails(SHARED);
}

// ---- 6. fork-fail-killed --------------------------------------------------

#define FFK_ROUNDS       6
#define FFK_KILLER_TICKS 4000
#define FFK_LEFT         48    // pages the filler leaves free: enough for small forks

struct ffk_shared {
  volatile int target;  // pid the killer kills, 0: none
  volatile int hits;    // kills that returned 0
  volatile int stop;
};

// Kill the target pid until told to stop (or, if the case died, for at
// most FFK_KILLER_TICKS).
static void ffk_killer(struct ffk_shared *sh) {
  int t, t0 = uptime();
  while (!sh->stop && uptime() - t0 < FFK_KILLER_TICKS)
    if ((t = sh->target) > 0 && kill(t) == 0)
      sh->hits++;
  exit();
}

// Hold pct percent of free memory (sbrk maps and zeroes it eagerly).
static void ffk_hold(int pct) {
  uint grow = free_pages() / 100 * pct * PG;
  check(sbrk(grow) != (char *)-1, "sbrk(%x) failed", grow);
}

// Hold all free memory but about left pages (and the page tables that
// map what is held).
static void ffk_hold_all_but(int left) {
  struct sysinfo si;
  uint pages;
  check(sysinfo(&si) == 0, "sysinfo failed");
  pages = (si.freepages - left) * 1024 / 1025;  // and one page table per 1024
  check(sbrk(pages * PG) != (char *)-1, "sbrk(%d pages) failed", pages);
}

// Hold most of memory, then fork once per token from rfd and send back
// fork's result on wfd. Fork shares pages copy-on-write but needs page
// tables for them all: about one per 4 MiB held, more than the filler
// leaves free, so it runs out of memory midway.
static void ffk_big(int rfd, int wfd) {
  char c;
  int r;
  ffk_hold(75);
  check(write(wfd, &c, 1) == 1, "ready write failed");
  while (read(rfd, &c, 1) == 1) {
    if ((r = fork()) == 0)
      exit();
    if (r > 0)
      wait();
    check(write(wfd, &r, sizeof(r)) == sizeof(r), "result write failed");
  }
  exit();
}

// Old kernel: the killer's kill() of the embryo returned 0 and set
// killed; the failed fork left it set in the free slot, so the next
// process made there died at its first system call, before it could
// report.
static void test_fork_fail_killed(void) {
  struct ffk_shared *sh = (struct ffk_shared *)xmap(0, PG, RW, SHARED);
  int go[2], res[2], rep[2], hold[2], ready[2], filler, killer, big, probe, child, round, r;
  int failed = 0;
  char c;

  xpipe(go);
  xpipe(res);
  if ((big = xfork()) == 0) {
    close(go[1]);
    close(res[0]);
    ffk_big(go[0], res[1]);
  }
  close(go[0]);
  close(res[1]);
  check(read(res[0], &c, 1) == 1, "the big process died");
  xpipe(hold);
  xpipe(ready);
  if ((filler = xfork()) == 0) {
    close(hold[1]);
    close(ready[0]);
    ffk_hold_all_but(FFK_LEFT);
    check(write(ready[1], "r", 1) == 1, "ready write failed");
    read(hold[0], &c, 1);  // until the case closes the pipe
    exit();
  }
  close(hold[0]);
  close(ready[1]);
  check(read(ready[0], &c, 1) == 1, "the filler died");
  close(ready[0]);
  if ((killer = xfork()) == 0)
    ffk_killer(sh);
  for (round = 0; round < FFK_ROUNDS; round++) {
    // Pids are handed out in order: big's fork gets the one after probe.
    if ((probe = xfork()) == 0)
      exit();
    xwait(probe);
    sh->hits = 0;
    sh->target = probe + 1;
    check(write(go[1], "f", 1) == 1, "token write failed");
    check(read(res[0], &r, sizeof(r)) == sizeof(r), "the big process died");
    sh->target = 0;
    failed += r < 0;
    xpipe(rep);
    if ((child = xfork()) == 0) {
      close(rep[0]);
      check(write(rep[1], "k", 1) == 1, "report write failed");
      exit();
    }
    close(rep[1]);
    c = 0;
    read(rep[0], &c, 1);
    close(rep[0]);
    xwait(child);
    check(c == 'k', "round %d: a new child died before it ran (killed left set)", round);
    check(r >= 0 || sh->hits == 0, "kill of pid %d, a process being created, returned 0",
          probe + 1);
  }
  close(go[1]);
  close(res[0]);
  close(hold[1]);
  sh->stop = 1;
  for (round = 0; round < 3; round++) {  // big, filler and killer
    r = wait();
    check(r == big || r == filler || r == killer, "wait returned %d", r);
  }
  check(failed > 0, "no fork of the big process failed");
  xmunmap((uint)sh, PG);
}

// ---- 7. exec-clean-flags --------------------------------------------------

// exec(path, argv) entered with the direction and carry flags set.
static int exec_flags_set(char *path, char **argv) {
  int r;
  asm volatile("pushl %2; pushl %1; pushl $0; std; stc; int $64; cld; addl $12, %%esp"
               : "=a"(r)
               : "r"(path), "r"(argv), "0"(SYS_exec)
               : "memory", "cc");
  return r;
}

// Old kernel: the new image started with the caller's eflags (0x603 here:
// DF and CF still set).
static void test_exec_clean_flags(void) {
  static char *argv[] = {"attacktest", "-eflags", 0};
  int pid, rfd;
  if ((pid = fork_piped(&rfd)) == 0) {
    exec_flags_set(SELF, argv);
    printf(1, "exec returned");
    exit();
  }
  collect(pid, rfd);
  if (out[0] && out[strlen(out) - 1] == '\n')
    out[strlen(out) - 1] = 0;
  check(strcmp(out, "eflags 202") == 0, "new image started with '%s' (expected eflags 202)", out);
}

// ---- 8. kill-init ---------------------------------------------------------

// Old kernel: kill(1) returned 0 and init, woken in wait(), exited:
// panic "init exiting".
static void test_kill_init(void) {
  int pid, n, t;
  check(kill(1) == -1, "kill(1) returned 0");
  // init still reaps orphans: a grandchild outlives its parent.
  n = nproc();
  if ((pid = xfork()) == 0) {
    if (xfork() == 0) {
      sleep(5);
      exit();
    }
    exit();
  }
  xwait(pid);
  for (t = 0; nproc() > n && t < 300; t++)
    sleep(1);
  check(nproc() <= n, "an orphan was not reaped");
}

// ---- 9. getmaps-race ------------------------------------------------------

#define GMR_IMAGES   4            // images the child goes through (exec)
#define GMR_CYCLES   4000         // heap grow/shrink cycles per image
#define GMR_EDGE     (4 * MB)     // the heap's top crosses this 4 MiB boundary
#define GMR_REGION   (GMR_EDGE + 16 * PG)  // a never-touched region above it
#define GMR_RLEN     (GMR_EDGE - 16 * PG)  // ... to the end of the same page table
#define GMR_GONE     20           // ticks of getmaps failing that mean the child exited

// The child: put the heap's top just below GMR_EDGE and an untouched
// region in the page table above it; then grow the heap across the edge
// and shrink it back, which allocates and frees that page table each
// time; then exec again, left more times.
static void gmr_child(int left) {
  static char *argv[] = {"attacktest", "-getmaps-child", 0, 0};
  char arg[12];
  int c;
  if (sbrk(GMR_EDGE - PG - (uint)sbrk(0)) == (char *)-1 ||
      map(GMR_REGION, GMR_RLEN, RW, PRIV | MAP_FIXED) != GMR_REGION)
    exit();
  for (c = 0; c < GMR_CYCLES; c++) {
    sbrk(2 * PG);
    sbrk(-2 * PG);
  }
  if (left > 0) {
    put_uint(arg, left - 1);
    argv[2] = arg;
    exec(SELF, argv);
  }
  exit();
}

// Is record m of another process's getmaps sane? Its untouched region
// must show no resident page.
static int gmr_sane(struct mapinfo *m) {
  if (m->end < m->start || m->resident > (m->end - m->start) / PG)
    return 0;
  return m->kind != MAPKIND_REGION || m->resident == 0;
}

// Old kernel: getmaps walked the child's page tables while sbrk freed
// them (no lock in common): it read a freed page table's junk as
// present entries and reported resident pages in the untouched region.
// (Nothing checks exec's free of the old page directory: its window is
// too short to hit.)
static void test_getmaps_race(void) {
  static struct mapinfo m[MAXMAPS];
  int pid, n, i, calls = 0, gone = 0;
  if ((pid = xfork()) == 0)
    gmr_child(GMR_IMAGES - 1);
  // The child is gone once getmaps keeps failing (a zombie has no maps).
  while (gone < GMR_GONE) {
    if ((n = getmaps(pid, m, MAXMAPS)) == -1) {
      gone++;
      sleep(1);
      continue;
    }
    gone = 0;
    calls++;
    if (n < 3 || n > 5) {
      kill(pid);
      xwait(pid);
      fail("getmaps of the child returned %d records", n);
    }
    for (i = 0; i < n; i++) {
      if (!gmr_sane(&m[i])) {
        kill(pid);
        xwait(pid);
        fail("getmaps record %d: %x-%x, %d pages resident", i, m[i].start, m[i].end,
             m[i].resident);
      }
    }
  }
  xwait(pid);
  check(calls > 0, "getmaps never saw the child");
}

// ---- 10. lazy-buffer ------------------------------------------------------

#define BIGBUF (64 * MB)

static uint resident_of(uint start) {
  static struct mapinfo m[MAXMAPS];
  int n = getmaps(0, m, MAXMAPS), i;
  for (i = 0; i < n; i++)
    if (m[i].kind == MAPKIND_REGION && m[i].start == start)
      return m[i].resident;
  fail("no region at %x", start);
}

// Old kernel: the buffer check faulted in every page of the range first:
// the 64 MiB read of a 10-byte file made 16384 pages resident.
static void test_lazy_buffer(void) {
  uint a = xmap(0, BIGBUF, RW, PRIV), b, c;
  char small[16];
  int fd, wfd;

  write_file("/lb-file", "0123456789", 10);
  fd = open("/lb-file", O_RDONLY);
  wfd = open("/lb-out", O_CREATE | O_RDWR);
  check(fd >= 0 && wfd >= 0, "open failed");
  check(write(wfd, (char *)a, 1) == 1, "write of 1 byte failed");
  check(read(fd, (char *)a, 1) == 1, "read of 1 byte failed");
  check(resident_of(a) == 1, "1-byte write and read: %d pages resident", resident_of(a));
  close(fd);

  b = xmap(0, BIGBUF, RW | PROT_EXEC, PRIV);  // unlike a, so that the two do not merge
  fd = open("/lb-file", O_RDONLY);
  check(read(fd, (char *)b, BIGBUF) == 10, "64 MiB read of a 10-byte file did not return 10");
  check(resident_of(b) == 1, "64 MiB read of 10 bytes: %d pages resident", resident_of(b));
  check(same_bytes((char *)b, "0123456789", 10), "read the wrong bytes");
  close(fd);

  // A buffer that runs off its region fails as a whole.
  c = xmap(0, 2 * PG, RW, PRIV);
  xmunmap(c + PG, PG);
  *(char *)c = 'u';
  fd = open("/lb-file", O_RDONLY);
  check(read(fd, (char *)c, 2 * PG) == -1, "read into a partly unmapped buffer succeeded");
  check(*(char *)c == 'u', "a failed read wrote into the buffer");
  check(read(fd, small, 10) == 10 && same_bytes(small, "0123456789", 10),
        "a failed read moved the file offset");
  check(write(wfd, (char *)c, 2 * PG) == -1, "write from a partly unmapped buffer succeeded");
  close(fd);
  close(wfd);
  check(unlink("/lb-file") == 0 && unlink("/lb-out") == 0, "unlink failed");
  xmunmap(a, BIGBUF);
  xmunmap(b, BIGBUF);
  xmunmap(c, PG);
}

// ---- 11. shm-many-regions -------------------------------------------------

#define SMR_CHILDREN 3
#define SMR_NBUF     (NREGION + 16)

static uint region_count(struct mapinfo *buf) {
  int n = getmaps(0, buf, SMR_NBUF), i, regions = 0;
  for (i = 0; i < n; i++)
    regions += buf[i].kind == MAPKIND_REGION;
  return regions;
}

// Old kernel: passes, slowly (each region detached from the object walks
// the object's list of every region of every process: quadratic).
static void test_shm_many_regions(void) {
  struct mapinfo *buf = (struct mapinfo *)xmap(0, SMR_NBUF * sizeof(struct mapinfo), RW, PRIV);
  uint have, npages, before, s, i;
  int k;

  memset(buf, 0, SMR_NBUF * sizeof(struct mapinfo));  // its pages count as used from now on
  have = region_count(buf);
  npages = NREGION - have;
  before = free_pages();

  s = xmap(0, npages * PG, RW, SHARED);
  for (i = 0; i < npages; i++)
    *(volatile uint *)(s + i * PG) = i;
  for (i = 1; i < npages; i += 2)
    check(mprotect((void *)(s + i * PG), PG, PROT_READ) == 0, "mprotect of page %d failed", i);
  check(region_count(buf) == NREGION, "%d regions, expected %d", region_count(buf), NREGION);
  // The children run at once; each drops half of its copies of the
  // regions, which must not take pages the parent still maps.
  for (k = 0; k < SMR_CHILDREN; k++) {
    if (xfork() == 0) {
      for (i = 0; i < npages; i += 97)
        check(*(volatile uint *)(s + i * PG) == i, "child sees %x in page %d",
              *(volatile uint *)(s + i * PG), i);
      *(volatile uint *)(s + 2 * k * PG + 4) = 0xc0de + k;  // word 0 is checked
      xmunmap(s + (k % 2) * (npages / 2) * PG, npages / 2 * PG);
      exit();
    }
  }
  for (k = 0; k < SMR_CHILDREN; k++)
    check(wait() > 0, "wait failed");
  for (k = 0; k < SMR_CHILDREN; k++) {
    check(*(volatile uint *)(s + 2 * k * PG + 4) == 0xc0de + k, "child %d's write was lost", k);
  }
  for (i = 0; i < npages; i++)
    check(*(volatile uint *)(s + i * PG) == i, "page %d holds %x", i,
          *(volatile uint *)(s + i * PG));
  xmunmap(s, npages * PG);
  check(region_count(buf) == have, "regions left after munmap");
  check(free_pages() == before, "%d pages not given back", before - free_pages());
  xmunmap((uint)buf, SMR_NBUF * sizeof(struct mapinfo));
}

// ---- the runner -----------------------------------------------------------

static struct testcase cases[] = {
  {"exec-path-in-mmap", test_exec_path_in_mmap},
  {"shared-path-race", test_shared_path_race},
  {"create-in-deleted-dir", test_create_in_deleted_dir},
  {"deleted-dotdot", test_deleted_dotdot},
  {"link-limit", test_link_limit},
  {"fixed-populate-failure", test_fixed_populate_failure},
  {"fork-fail-killed", test_fork_fail_killed},
  {"exec-clean-flags", test_exec_clean_flags},
  {"kill-init", test_kill_init},
  {"getmaps-race", test_getmaps_race},
  {"lazy-buffer", test_lazy_buffer},
  {"shm-many-regions", test_shm_many_regions},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct suite suite = {"attacktest", CASE_TIMEOUT, cases, NCASES};

int attack_main(int argc, char *argv[]) {
  if (argc == 2 && strcmp(argv[1], "-eflags") == 0) {
    printf(1, "eflags %x\n", entry_eflags);
    exit();
  }
  if (argc == 3 && strcmp(argv[1], "-getmaps-child") == 0)
    gmr_child(atoi(argv[2]));
  run_suite(&suite, argc, argv);
  exit();
}
