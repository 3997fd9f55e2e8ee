// storm: a hostile program. Several processes issue seeded random system
// calls, every call in syscall.h and numbers past the last, with edge-value
// arguments and pointers into every kind of page. The rule under test: no
// user program can crash the kernel, leak memory or see another process's
// data, and a call with a bad argument returns -1.
//
//   storm [seed=N] [procs=N] [calls=N] [case...]
//
// Cases (each in its own child, see suite.h):
//   random        procs workers, random calls over the whole system call table
//   sharedrace    a child on another CPU flips path and exec argument bytes in
//                 a MAP_SHARED page while the kernel reads them
//   deleteddirs   create/link/mknod/chdir inside removed directories, deep
//                 paths, long names, many links to one file
//   killrace      kill children while they fork and exec; kill 1, 0, -1, ...
//   forkpressure  fork while a child holds all memory and another kills the
//                 next pids; then every fresh child must run
//
// calls=N is the budget of the whole run, shared out among the cases.
// Each case prints "# <case>: C calls, E errors returned"; at the end
// "# storm: seed S procs P: C calls, E errors returned". Each worker's
// calls follow from seed, case and worker number; the interleaving of
// workers does not. Everything created lives under /storm<seed>, removed
// at the end. Never killed: processes outside the storm's own tree, except
// pid 1, which must refuse. tracectl only reads status; exec only runs
// echo or files that are not programs.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "fs.h"
#include "param.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "syscall.h"
#include "sysinfo.h"
#include "kmstat.h"
#include "traceevents.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 60000   // ticks (10 minutes at 100 Hz)
#define INT_MIN    ((int)0x80000000)
#define INT_MAX    0x7fffffff
#define PG         PGSIZE
#define MAXPROCS   8
#define MAXKIDS    4         // live children of one random worker
#define NWILD      8         // regions from random mmap calls a worker remembers
#define ARENA      0x10000000u   // each worker's fixed layout of page kinds
#define BAND       0x20000000u   // random mmap/munmap/mprotect addresses
#define BANDPAGES  1024
#define HEAPPAGES  4         // heap scratch pages
#define STACKSCRATCH 1024    // bytes at the bottom of the stack page used as scratch
#define NSYSCALLS  33        // SYS_fork .. SYS_mremap
#define NELEM(a)   ((int)(sizeof(a) / sizeof((a)[0])))


static void seed_rng(uint seed, int casenr, int worker) {
  suite_seed(seed * 7919u + casenr * 104729u + worker * 1299709u + 1);
  rnd();
}

// ---- raw system calls ----------------------------------------------------

// rawsys(num, a0..a5): int $64 with the arguments where the kernel looks
// for them (esp+4, esp+8, ...). rawsys_sp(num, sp): the same with esp set to
// sp, so the kernel fetches its arguments from there. rawsys_df: rawsys with
// the direction flag set.
int rawsys(int num, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5);
int rawsys_sp(int num, uint sp);
int rawsys_df(int num, uint a0, uint a1, uint a2);
asm(".globl rawsys\n"
    "rawsys:\n"
    "  movl 4(%esp), %eax\n"
    "  addl $4, %esp\n"
    "  int $64\n"
    "  subl $4, %esp\n"
    "  ret\n"
    ".globl rawsys_sp\n"
    "rawsys_sp:\n"
    "  movl 4(%esp), %eax\n"
    "  movl 8(%esp), %ecx\n"
    "  movl %esp, %edx\n"
    "  movl %ecx, %esp\n"
    "  int $64\n"
    "  movl %edx, %esp\n"
    "  ret\n"
    ".globl rawsys_df\n"
    "rawsys_df:\n"
    "  movl 4(%esp), %eax\n"
    "  addl $4, %esp\n"
    "  std\n"
    "  int $64\n"
    "  cld\n"
    "  subl $4, %esp\n"
    "  ret\n");

static uint read_esp(void) {
  uint esp;
  asm volatile("movl %%esp, %0" : "=r"(esp));
  return esp;
}

// ---- options, names, counting ---------------------------------------------

static uint seed = 1;
static int nprocs = 4;
static int budget = 20000;   // calls=N
static int verbose;          // verbose=1: workers name each call on the console
static int casenr;           // which case runs (its index in cases[])
static int tally_fd = -1;    // case -> main: struct tally
static char root[16];        // "/storm<seed>"

struct tally {
  int magic;   // TALLY_MAGIC, or 0 for the end marker main writes
  int calls;
  int errors;
};
#define TALLY_MAGIC 0x5707

static int ncalls, nerrors;  // this process's counts

// Build "a" + decimal n into out.
static void name_num(char *out, char *a, uint n) {
  char digits[12];
  int len = 0;
  strcpy(out, a);
  out += strlen(out);
  do {
    digits[len++] = '0' + n % 10;
  } while ((n /= 10) != 0);
  while (len > 0)
    *out++ = digits[--len];
  *out = 0;
}

// out = a + "/" + b.
// The last '/' of path, or 0.
static char *strrchr_slash(char *path) {
  char *last = 0;
  for (; *path; path++)
    if (*path == '/')
      last = path;
  return last;
}

// Is the directory entry name (DIRSIZ bytes, NUL-padded) the string s?
static int strncmp_dirsiz(char *name, char *s) {
  int i;
  for (i = 0; i < DIRSIZ; i++) {
    if (name[i] != s[i])
      return 0;
    if (s[i] == 0)
      return 1;
  }
  return s[DIRSIZ] == 0;
}

static void path_join(char *out, char *a, char *b) {
  strcpy(out, a);
  out += strlen(out);
  *out++ = '/';
  strcpy(out, b);
}

// The calls this process made, and how many returned -1.
static int sys(int num, uint a0, uint a1, uint a2, uint a3, uint a4, uint a5) {
  int r = rawsys(num, a0, a1, a2, a3, a4, a5);
  ncalls++;
  if (r == -1 || (num == SYS_kmalloc && r == 0))
    nerrors++;
  return r;
}

static int sys1(int num, uint a0) {
  return sys(num, a0, 0, 0, 0, 0, 0);
}

static int sys2(int num, uint a0, uint a1) {
  return sys(num, a0, a1, 0, 0, 0, 0);
}

static int sys3(int num, uint a0, uint a1, uint a2) {
  return sys(num, a0, a1, a2, 0, 0, 0);
}

// ---- workers ---------------------------------------------------------------

// A worker is a process of a case that makes random calls. It reports to
// the case through its own pipe, "F why" or "C calls errors", so that it
// can close every other descriptor it inherited (the console, the runner's
// result pipe) and let its random calls loose on the rest.
static int report_fd = -1;
static int worker_nr;

static void wfail(const char *fmt, uint a, uint b, uint c) __attribute__((noreturn));
static void wfail(const char *fmt, uint a, uint b, uint c) {
  printf(report_fd, "F seed %d case %d worker %d call %d: ", seed, casenr, worker_nr, ncalls);
  printf(report_fd, fmt, a, b, c);
  printf(report_fd, "\n");
  exit();
}

#define wcheck(cond, fmt, a, b, c)  \
  do {                              \
    if (!(cond))                    \
      wfail(fmt, a, b, c);          \
  } while (0)

static void close_all_but(int keep) {
  int fd;
  for (fd = 0; fd < NOFILE; fd++)
    if (fd != keep)
      close(fd);
}

static void worker_done(void) {
  printf(report_fd, "C %d %d\n", ncalls, nerrors);
  exit();
}

// Start n workers running fn(i); fds[i] receives worker i's report pipe.
static void start_workers(int n, void (*fn)(int), int *pids, int *fds) {
  int i, p[2], fd;
  for (i = 0; i < n; i++) {
    xpipe(p);
    pids[i] = xfork();
    if (pids[i] == 0) {
      close(p[0]);
      report_fd = p[1];
      worker_nr = i;
      for (fd = 0; fd < NOFILE; fd++)
        if (fd != report_fd && fd != 1)  // 1: the console, for progress lines
          close(fd);
      ncalls = nerrors = 0;
      seed_rng(seed, casenr, i);
      fn(i);
      worker_done();
    }
    close(p[1]);
    fds[i] = p[0];
  }
}

// Read one worker's report; adds its counts. Fails the case on "F".
static void read_report(int i, int fd, int *calls, int *errors) {
  static char line[200];
  int got = 0;
  char *s;
  while (read_line(fd, line, sizeof(line))) {
    if (line[0] == 'F')
      fail("%s", line + 2);
    if (line[0] == '#')
      printf(1, "%s\n", line);
    if (line[0] == 'C') {
      *calls += atoi(line + 2);
      for (s = line + 2; *s && *s != ' '; s++)
        ;
      *errors += atoi(s + 1);
      got = 1;
    }
  }
  close(fd);
  check(got, "seed %d case %d: worker %d died without a report", seed, casenr, i);
}

// Wait for n workers and collect their reports; then nothing may be left
// to wait for.
static void finish_workers(int n, int *fds, int *calls, int *errors) {
  int i;
  for (i = 0; i < n; i++)
    check(wait() >= 0, "wait for a worker failed");
  for (i = 0; i < n; i++)
    read_report(i, fds[i], calls, errors);
  check(wait() == -1, "a child was left unreaped");
}

// Now and then a line on the console, so that a long case shows it is
// alive (the harness takes a long silence for a hang).
static void progress(char *name, int n) {
  static int next = 5000;
  if (ncalls < next)
    return;
  printf(1, "# %s: %d of %d calls\n", name, ncalls, n);
  next = ncalls + 5000;
}

// Report a case's counts to main, which prints the totals.
static void case_done(char *name, int calls, int errors) {
  struct tally t = {TALLY_MAGIC, calls, errors};
  printf(1, "# %s: %d calls, %d errors returned\n", name, calls, errors);
  write(tally_fd, &t, sizeof(t));
}

// ---- the worker's address space ---------------------------------------------

// Where things are (getmaps at worker start) and the arena: one page of
// each kind at fixed addresses, rebuilt after a random call changed it.
//   A0 read-write, populated     A4 read-write, MAP_SHARED (lazy)
//   A1 PROT_NONE                 A5 hole
//   A2 read-write, lazy          A6 read-write, string to its last byte
//   A3 read-only, all 'A'        A7 hole
static uint textend, stackbase, heaplo, heaphi;
static int heap_ok;  // the heap reaches heaphi

enum { PAGE_OK, PAGE_BAD, PAGE_UNKNOWN };

struct arena_page {
  int prot;   // -1: a hole
  int flags;
};

static struct arena_page arena[8] = {
  {PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE},
  {PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS},
  {PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS},
  {PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE},
  {PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS},
  {-1, 0},
  {PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE},
  {-1, 0},
};

#define APAGE(i) (ARENA + (i) * PG)

static void fill_unterminated(uint page) {
  memset((void *)page, 'A', PG);
}

static void arena_build(void) {
  int i, prot;
  uint va;
  munmap((void *)ARENA, 8 * PG);
  for (i = 0; i < 8; i++) {
    if (arena[i].prot < 0)
      continue;
    // A3 is written before it becomes read-only.
    prot = i == 3 ? PROT_READ | PROT_WRITE : arena[i].prot;
    va = (uint)mmap((void *)APAGE(i), PG, prot, arena[i].flags | MAP_FIXED, -1, 0);
    wcheck(va == APAGE(i), "arena page %d: mmap returned %x", i, va, 0);
  }
  fill_unterminated(APAGE(3));
  wcheck(mprotect((void *)APAGE(3), PG, PROT_READ) == 0, "arena: mprotect failed", 0, 0, 0);
  fill_unterminated(APAGE(6));
  memset((void *)APAGE(0), 'B', PG);
}

// Does getmaps still show the arena exactly as built?
static int arena_intact(void) {
  static struct mapinfo maps[64];
  int n = getmaps(0, maps, 64), i, j, found = 0;
  for (i = 0; i < 8; i++) {
    if (arena[i].prot < 0)
      continue;
    for (j = 0; j < n; j++)
      if (maps[j].kind == MAPKIND_REGION && maps[j].start <= APAGE(i) &&
          maps[j].end >= APAGE(i) + PG && maps[j].prot == arena[i].prot)
        break;
    if (j == n)
      return 0;
    found++;
  }
  for (j = 0; j < n; j++)
    if (maps[j].kind == MAPKIND_REGION && maps[j].start < ARENA + 8 * PG &&
        maps[j].end > ARENA &&
        (maps[j].start == APAGE(5) || maps[j].start == APAGE(7)))
      return 0;
  return found == 6;
}

// The read-only page must still hold what was written before mprotect.
static void check_readonly(void) {
  uint *w = (uint *)APAGE(3);
  int i;
  for (i = 0; i < PG / 4; i += 61)
    wcheck(w[i] == 0x41414141, "read-only page changed at %x: %x", (uint)&w[i], w[i], 0);
}

static void heap_repair(void) {
  uint sz = (uint)sbrk(0);
  heap_ok = sz == heaphi || sbrk(heaphi - sz) != (char *)-1;
}

static void layout_init(void) {
  static struct mapinfo maps[8];
  int n = getmaps(0, maps, 8);
  wcheck(n >= 4, "getmaps shows %d entries", n, 0, 0);
  textend = maps[0].end;
  stackbase = maps[2].start;
  heaplo = maps[3].end;
  heaphi = heaplo + HEAPPAGES * PG;
  wcheck(heaphi <= ARENA, "heap too high", 0, 0, 0);
  heap_repair();
  wcheck(heap_ok, "sbrk failed", 0, 0, 0);
  arena_build();
  wcheck(read_esp() > stackbase + 2 * STACKSCRATCH, "stack too deep", 0, 0, 0);
}

// How the kernel must treat page va for a write (or read) of user memory.
static int page_class(uint va, int write) {
  int i;
  va = PGROUNDDOWN(va);
  if (va >= KERNBASE)
    return PAGE_BAD;
  if (va < textend)
    return PAGE_OK;
  if (va < stackbase)
    return PAGE_BAD;      // the guard page
  if (va < stackbase + PG)
    return PAGE_OK;
  if (va >= heaplo && va < heaphi)
    return heap_ok ? PAGE_OK : PAGE_UNKNOWN;
  if (va >= ARENA && va < ARENA + 8 * PG) {
    i = (va - ARENA) / PG;
    if (arena[i].prot < 0 || arena[i].prot == PROT_NONE)
      return PAGE_BAD;
    if (write && !(arena[i].prot & PROT_WRITE))
      return PAGE_BAD;
    return i == 2 || i == 4 ? PAGE_UNKNOWN : PAGE_OK;  // lazy: memory may run out
  }
  return PAGE_UNKNOWN;
}

// How the kernel must treat [va, va+len): PAGE_BAD if it must refuse.
static int range_class(uint va, int len, int write) {
  uint a, end;
  int c, worst = PAGE_OK, n;
  if (len < 0)
    return PAGE_BAD;
  if (len == 0)
    return va <= KERNBASE ? PAGE_OK : PAGE_BAD;
  end = va + (uint)len;
  if (end < va || end > KERNBASE || va == 0)
    return PAGE_BAD;    // a null pointer is refused, though page 0 is text
  for (a = PGROUNDDOWN(va), n = 0; a < end; a += PG, n++) {
    if (n == 64)
      return PAGE_UNKNOWN;
    c = page_class(a, write);
    if (c == PAGE_BAD)
      return PAGE_BAD;
    if (c == PAGE_UNKNOWN)
      worst = PAGE_UNKNOWN;
  }
  return worst;
}

// ---- random arguments --------------------------------------------------------

static uint edge_int(void) {
  static uint edges[] = {0, 1, -1, INT_MIN, INT_MAX, PG - 1, PG, PG + 1, KERNBASE,
                         KERNBASE - 1, 0xffffffff, 2, 16, 64, 0x7ffff000, 0x40000000};
  switch (below(4)) {
  case 0:
    return rnd32();
  case 1:
    return below(64);
  default:
    return edges[below(NELEM(edges))];
  }
}

static int random_len(void) {
  static int lens[] = {0, 1, 4, 13, PG - 1, PG, PG + 1, 2 * PG, -1, INT_MIN, INT_MAX,
                       0x4000000, 0x40000000, 0x10000};
  if (below(3) == 0)
    return 1 + below(300);
  return lens[below(NELEM(lens))];
}

// Where the wild mmap calls of this worker landed.
static uint wild_addr[NWILD], wild_len[NWILD];

static uint wild_region(void) {
  int i = below(NWILD);
  return wild_addr[i] ? wild_addr[i] + below(wild_len[i] / PG + 1) * PG : BAND;
}

// A pointer the kernel may read from: any kind of page.
static uint read_ptr(void) {
  uint top = read_esp();
  switch (below(22)) {
  case 0: return 0;
  case 1: return below(textend);                              // text and data
  case 2: return textend + below(stackbase - textend);        // guard
  case 3: return top + below(stackbase + PG - top);           // live stack
  case 4: return stackbase + below(STACKSCRATCH);
  case 5: return heaplo + below(HEAPPAGES * PG);
  case 6: return heaphi + below(2 * PG);                      // just past the heap
  case 7: case 8: return APAGE(below(8)) + (below(2) ? 0 : below(PG));
  case 9: return APAGE(1) - 1 - below(16);                    // straddles A0|A1
  case 10: return APAGE(3) - 1 - below(16);                   // straddles A2|A3
  case 11: return APAGE(5) - 1 - below(16);                   // straddles A4|hole
  case 12: return APAGE(7) - 1 - below(16);                   // straddles A6|hole
  case 13: return KERNBASE + (below(2) ? 0 : below(0x200000));
  case 14: return KERNBASE - 1 - below(8);
  case 15: return 0xffffffff - below(8);
  case 16: return wild_region();
  case 17: return rnd32();
  case 18: return BAND + below(BANDPAGES) * PG;
  default: return APAGE(0) + below(PG);
  }
}

// A pointer the kernel may write to: never into anything the worker
// itself relies on (its text, data or live stack).
static uint write_ptr(void) {
  switch (below(14)) {
  case 0: return 0;
  case 1: return textend + below(stackbase - textend);
  case 2: return stackbase + below(STACKSCRATCH / 2);
  case 3: return heaplo + below(HEAPPAGES * PG);
  case 4: return APAGE(1) - 1 - below(16);
  case 5: return APAGE(3) - 1 - below(16);
  case 6: return APAGE(7) - 1 - below(16);
  case 7: case 8: return APAGE(below(8)) + below(PG);
  case 9: return KERNBASE + below(0x200000);
  case 10: return ARENA + 8 * PG + rnd32() % (0u - ARENA - 8 * PG);
  case 11: return wild_region();
  default: return APAGE(0) + below(PG / 2);
  }
}

// A write buffer and length, sometimes sized to the scratch it lies in.
static int small_len(uint p) {
  int l = random_len();
  if (below(2) && page_class(p, 1) == PAGE_OK)
    l = below(PG - p % PG + 1);
  return l;
}

// ---- path names ----------------------------------------------------------------

// Names inside a directory of ours. None has two ".." in a row, so a path
// built on one of our directories never leaves /storm<seed>.
static char *names[] = {
  "a", "b", "c", "sub", "sub/a", "sub/b", "sub/deep", "sub/deep/x", "f0", "f1",
  "abcdefghijklmn", "abcdefghijklmnopqrstuvwxyz", "abcdefghijklm", "x/", "sub//a",
  ".", "..", "sub/..", "../z", "", "dev0", "sub/../a", "e\001f",
};

// Paths the worker may look at but never change.
static char *foreign[] = {
  "/", "/README", "/echo", ".", "..", "/nonexistent", "/storm", "//", "/README/x",
  "/../..", "console",
};

static char wdir[32];       // this worker's directory
static char pathbuf[300];   // where the last path was built

// A path for a call that may change what it names: under wdir, sometimes
// near the MAXPATH limit (128 with the 0).
static char *our_path(void) {
  int n, i;
  switch (below(10)) {
  case 0:
    path_join(pathbuf, wdir, "sub/");
    n = 126 + below(4) - strlen(pathbuf);  // 126..129 characters
    for (i = strlen(pathbuf); n-- > 0; i++)
      pathbuf[i] = 'a' + i % 3;
    pathbuf[i] = 0;
    break;
  case 1:
    path_join(pathbuf, root, below(2) ? "elf0" : "w9");
    break;
  default:
    path_join(pathbuf, wdir, names[below(NELEM(names))]);
  }
  return pathbuf;
}

static char *any_path(void) {
  return below(3) ? our_path() : foreign[below(NELEM(foreign))];
}

// Copy s to a place of a random kind: the result is what to pass, *cls
// says whether the kernel must refuse it (PAGE_BAD).
static uint place_string(char *s, int *cls) {
  int len = strlen(s) + 1;
  uint at;
  *cls = PAGE_OK;
  switch (below(12)) {
  case 0:
    return (uint)s;                                  // data
  case 1:
    at = stackbase + STACKSCRATCH / 2;
    break;
  case 2:
    at = heap_ok ? heaplo + below(HEAPPAGES * PG - len) : (uint)s;
    break;
  case 3:
    at = APAGE(1) - len;                             // its 0 on A0's last byte
    break;
  case 4:                                            // no 0 before PROT_NONE
    at = APAGE(1) - len + 1;
    memmove((void *)at, s, len - 1);
    *cls = PAGE_BAD;
    return at;
  case 5:                                            // no 0 before a hole
    at = APAGE(7) - len + 1;
    memmove((void *)at, s, len - 1);
    *cls = PAGE_BAD;
    return at;
  case 6:
    *cls = PAGE_BAD;
    return below(2) ? 0 : textend + below(PG);
  case 7:
    *cls = PAGE_BAD;
    return KERNBASE + below(PG);
  case 8:
    at = APAGE(4) + below(PG - len);                 // shared
    *cls = PAGE_UNKNOWN;
    break;
  default:
    at = APAGE(0) + below(PG - len);
  }
  memmove((void *)at, s, len);
  return at;
}

// A path argument for a call that may change things (ours) or only look.
static uint path_arg(int ours, int *cls) {
  char *s = ours ? our_path() : any_path();
  uint p = place_string(s, cls);
  if (*cls == PAGE_OK && strlen(s) >= 128)
    *cls = PAGE_BAD;                                 // longer than MAXPATH
  return p;
}

// ---- descriptors -----------------------------------------------------------------

// What the worker knows about each of its descriptors. A pipe's reads and
// writes are kept from blocking: read only what is buffered (or at end of
// file), write only what fits.
enum { FD_FREE, FD_RESERVED, FD_OURS, FD_FOREIGN, FD_DEVICE, FD_PIPE_R, FD_PIPE_W, FD_UNKNOWN };

struct fdinfo {
  int kind;
  int pipe;  // pipe number, for FD_PIPE_*
};

static struct fdinfo fds[NOFILE];
static int pipe_fill[NOFILE];  // bytes buffered in pipe i

static int pipe_ends(int pipe, int kind) {
  int fd, n = 0;
  for (fd = 0; fd < NOFILE; fd++)
    n += fds[fd].kind == kind && fds[fd].pipe == pipe;
  return n;
}

static void fds_init(void) {
  int fd;
  for (fd = 0; fd < NOFILE; fd++)
    fds[fd].kind = fd == report_fd || fd == 1 ? FD_RESERVED : FD_FREE;
}

// A descriptor argument: usually one that is open, never the report pipe.
static int fd_arg(void) {
  int fd;
  switch (below(8)) {
  case 0:
    fd = edge_int();
    break;
  case 1:
    fd = below(NOFILE + 2) - 1;
    break;
  default:
    fd = below(NOFILE);
  }
  return fd >= 0 && fd < NOFILE && fds[fd].kind == FD_RESERVED ? -1 : fd;
}

// Learn what a new descriptor is from fstat.
static void fd_learn(int fd, int ours) {
  struct stat *st = (struct stat *)(stackbase + STACKSCRATCH / 2);
  if (fd < 0 || fd >= NOFILE)
    return;
  fds[fd].kind = FD_UNKNOWN;
  if (fstat(fd, st) != 0)
    return;
  if (st->type == T_DEV)
    fds[fd].kind = FD_DEVICE;
  else
    fds[fd].kind = ours ? FD_OURS : FD_FOREIGN;
}

// ---- the calls ----------------------------------------------------------------------

// Each op makes one random call (sometimes a few) and checks what it can:
// a call the kernel must refuse returns -1.
#define MUST_FAIL(cls, r, what)                                               \
  wcheck((cls) != PAGE_BAD || (r) == -1, what " with a bad pointer returned %d", \
         (uint)(r), 0, 0)

// A length the kernel may write at p: not past the stack scratch into
// the live stack.
static int clamp_len(uint p, int n) {
  if (p >= stackbase && p < stackbase + STACKSCRATCH && n > 0 &&
      (uint)n > stackbase + STACKSCRATCH - p)
    return stackbase + STACKSCRATCH - p;
  return n;
}

static void op_read(void) {
  int fd = fd_arg(), n = random_len(), r, k, cls, fill;
  uint p = write_ptr();
  if (below(2))
    n = small_len(p);
  n = clamp_len(p, n);
  if (fd < 0 || fd >= NOFILE || fds[fd].kind == FD_FREE) {
    r = sys3(SYS_read, fd, p, n);
    wcheck(r == -1, "read from closed fd %d returned %d", fd, r, 0);
    return;
  }
  k = fds[fd].kind;
  if (k == FD_DEVICE || k == FD_UNKNOWN || k == FD_PIPE_W || k == FD_RESERVED)
    return;  // might wait for the console or for a writer
  cls = range_class(p, n, 1);
  if (k == FD_PIPE_R) {
    fill = pipe_fill[fds[fd].pipe];
    if (fill == 0 && pipe_ends(fds[fd].pipe, FD_PIPE_W) > 0 && cls != PAGE_BAD)
      return;
  }
  r = sys3(SYS_read, fd, p, n);
  MUST_FAIL(cls, r, "read");
  if (k == FD_PIPE_R && r > 0)
    pipe_fill[fds[fd].pipe] -= r;
  check_readonly();
}

static void op_write(void) {
  int fd = fd_arg(), n = random_len(), r, k, cls, room;
  uint p = read_ptr();
  if (below(2))
    n = below(2 * PG);
  if (fd < 0 || fd >= NOFILE || fds[fd].kind == FD_FREE) {
    r = sys3(SYS_write, fd, p, n);
    wcheck(r == -1, "write to closed fd %d returned %d", fd, r, 0);
    return;
  }
  k = fds[fd].kind;
  if (k == FD_DEVICE || k == FD_UNKNOWN || k == FD_PIPE_R || k == FD_RESERVED)
    return;
  cls = range_class(p, n, 0);
  if (k == FD_PIPE_W) {
    room = PG / 2 - pipe_fill[fds[fd].pipe];  // the kernel's pipe holds more
    if (pipe_ends(fds[fd].pipe, FD_PIPE_R) == 0)
      room = n;                                 // fails at once
    if (cls != PAGE_BAD && n > room)
      n = room;
  }
  r = sys3(SYS_write, fd, p, n);
  MUST_FAIL(cls, r, "write");
  if (k == FD_FOREIGN)
    wcheck(r == -1 || n == 0, "write to a read-only fd returned %d", r, 0, 0);
  if (k == FD_PIPE_W && r > 0)
    pipe_fill[fds[fd].pipe] += r;
}

static void op_close(void) {
  int fd = fd_arg(), r = sys1(SYS_close, fd);
  if (verbose)
    printf(1, "# w%d close %d -> %d\n", worker_nr, fd, r);
  if (fd < 0 || fd >= NOFILE)
    wcheck(r == -1, "close(%d) returned %d", fd, r, 0);
  else if (fds[fd].kind == FD_FREE)
    wcheck(r == -1, "close of closed fd %d returned %d", fd, r, 0);
  else if (r == 0)
    fds[fd].kind = FD_FREE;
}

static void op_dup(void) {
  int fd = fd_arg(), r = sys1(SYS_dup, fd);
  if (verbose)
    printf(1, "# w%d dup %d -> %d\n", worker_nr, fd, r);
  if (r < 0)
    return;
  wcheck(r < NOFILE && fds[r].kind == FD_FREE, "dup returned fd %d in use", r, 0, 0);
  wcheck(fd >= 0 && fd < NOFILE && fds[fd].kind != FD_FREE, "dup(%d) of a closed fd", fd, 0, 0);
  fds[r] = fds[fd];
}

// After a pipe() whose result could not be read back: any descriptor
// thought free that dup() accepts is open, of an unknown kind.
// (If dup of the report pipe fails, the table is full: every fd is open.)
static void fd_resync(void) {
  int fd, d, full = (d = dup(report_fd)) < 0;
  close(d);
  for (fd = 0; fd < NOFILE; fd++) {
    if (fds[fd].kind != FD_FREE || (!full && (d = dup(fd)) < 0))
      continue;
    if (!full)
      close(d);
    fds[fd].kind = FD_UNKNOWN;
  }
}

// A pipe number no open descriptor uses (there are at most NOFILE/2 pipes).
static int free_pipe_id(void) {
  int id;
  for (id = 0; id < NOFILE; id++)
    if (pipe_ends(id, FD_PIPE_R) + pipe_ends(id, FD_PIPE_W) == 0)
      return id;
  return 0;  // not reached
}

static void op_pipe(void) {
  uint p = below(3) ? stackbase + below(STACKSCRATCH / 2) : write_ptr();
  int cls = range_class(p, 8, 1), r = sys1(SYS_pipe, p), *f = (int *)p, id;
  if (verbose)
    printf(1, "# w%d pipe -> %d\n", worker_nr, r);
  MUST_FAIL(cls, r, "pipe");
  if (r != 0 || cls != PAGE_OK) {
    if (r == 0)
      fd_resync();  // the new fds went where they cannot be read back
    return;
  }
  wcheck(f[0] >= 0 && f[0] < NOFILE && f[1] >= 0 && f[1] < NOFILE && f[0] != f[1],
         "pipe returned fds %d %d", f[0], f[1], 0);
  wcheck(fds[f[0]].kind == FD_FREE && fds[f[1]].kind == FD_FREE, "pipe reused fds %d %d",
         f[0], f[1], 0);
  id = free_pipe_id();
  fds[f[0]].kind = FD_PIPE_R;
  fds[f[1]].kind = FD_PIPE_W;
  fds[f[0]].pipe = fds[f[1]].pipe = id;
  pipe_fill[id] = 0;
}

static int open_mode(void) {
  static int modes[] = {O_RDONLY, O_WRONLY, O_RDWR, O_CREATE | O_RDWR, O_CREATE | O_WRONLY,
                        O_CREATE};
  return below(8) ? modes[below(NELEM(modes))] : (int)edge_int();
}

static void op_open(void) {
  int ours = below(3), cls, mode = ours ? open_mode() : O_RDONLY, r;
  uint p = path_arg(ours, &cls);
  r = sys2(SYS_open, p, mode);
  if (verbose)
    printf(1, "# w%d open %x -> %d\n", worker_nr, mode, r);
  MUST_FAIL(cls, r, "open");
  if (r >= 0) {
    wcheck(r < NOFILE && fds[r].kind == FD_FREE, "open returned fd %d in use", r, 0, 0);
    fd_learn(r, ours);
  }
}

static void op_mknod(void) {
  int cls, r;
  uint p = path_arg(1, &cls), major = below(3) ? below(NDEV + 1) : edge_int();
  r = sys3(SYS_mknod, p, major, below(2) ? below(4) : edge_int());
  MUST_FAIL(cls, r, "mknod");
}

static void op_unlink(void) {
  int cls, r;
  uint p = path_arg(1, &cls);
  r = sys1(SYS_unlink, p);
  MUST_FAIL(cls, r, "unlink");
}

static void op_fstat(void) {
  uint p = write_ptr();
  int fd = fd_arg(), cls = range_class(p, sizeof(struct stat), 1), r;
  r = sys2(SYS_fstat, fd, p);
  MUST_FAIL(cls, r, "fstat");
  check_readonly();
}

static void op_link(void) {
  int c1, c2, r;
  uint old, new;
  static char oldpath[300];
  strcpy(oldpath, our_path());
  old = place_string(below(8) ? oldpath : "/", &c1);
  new = path_arg(1, &c2);
  r = sys2(SYS_link, old, new);
  MUST_FAIL(c1, r, "link (old)");
  MUST_FAIL(c2, r, "link (new)");
}

static void op_mkdir(void) {
  int cls, r;
  uint p = path_arg(1, &cls);
  r = sys1(SYS_mkdir, p);
  MUST_FAIL(cls, r, "mkdir");
}

static void op_chdir(void) {
  int cls, r;
  uint p = path_arg(below(2), &cls);
  r = sys1(SYS_chdir, p);
  MUST_FAIL(cls, r, "chdir");
}

// ---- processes ---------------------------------------------------------------------

static int kids[MAXKIDS], nkids;
static int old_pids[8];  // pids of reaped children (never reused)

static void forget_kid(int pid) {
  int i;
  for (i = 0; i < nkids; i++)
    if (kids[i] == pid) {
      old_pids[below(8)] = pid;
      kids[i] = kids[--nkids];
      return;
    }
}

// In a child: descriptors 0-2 become the write end of a pipe nobody reads.
static void output_to_nowhere(void) {
  int p[2];
  close_all_but(-1);
  if (pipe(p) < 0)
    exit();
  close(p[0]);
  dup(p[1]);
  dup(p[1]);
}

static char *exec_paths[] = {
  "/echo", "echo", "/nonexistent", "/", "/README", ".", "", "/storm/x",
};

// exec(path, argv) of echo or of something that is no program, with
// argument strings and vectors of every kind. Only ever in a child.
static void child_exec(void) {
  static char *args[] = {"echo", "hi", "", "a b", "0123456789abcdef0123456789"};
  static char bad[4][32];
  uint *argv = (uint *)(APAGE(0) + 2048), path;
  int i, n = below(MAXARG + 3), cls;
  if (below(3) == 0) {
    name_num(bad[0], "/storm", seed);
    path_join(bad[1], bad[0], below(2) ? "elf0" : (below(2) ? "elf1" : "elf2"));
    path = place_string(bad[1], &cls);
  } else {
    path = place_string(exec_paths[below(NELEM(exec_paths))], &cls);
  }
  if (below(4) == 0)
    argv = (uint *)read_ptr();
  else {
    for (i = 0; i < n; i++)
      argv[i] = below(10) ? (uint)args[below(NELEM(args))] : read_ptr();
    argv[n] = below(10) ? 0 : rnd32();
  }
  output_to_nowhere();
  if (below(4) == 0)
    rawsys_df(SYS_exec, path, (uint)argv, 0);
  else
    rawsys(SYS_exec, path, (uint)argv, 0, 0, 0, 0);
  exit();
}

// What a random child does before it exits.
static void child_life(void) {
  int i;
  switch (below(6)) {
  case 0:
    break;
  case 1:
    sleep(below(3));
    break;
  case 2: case 3:
    child_exec();
    break;
  case 4:
    for (i = 0; i < 4; i++) {
      getpid();
      sbrk(below(3) * PG);
      kmalloc(1 + below(200));
      mmap(0, PG * (1 + below(4)), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    break;
  default:
    if (fork() == 0)
      sleep(below(2));  // an orphan, reaped by init
  }
  exit();
}

static void op_fork(void) {
  int pid;
  if (nkids == MAXKIDS) {
    pid = sys(SYS_wait, 0, 0, 0, 0, 0, 0);
    wcheck(pid > 0, "wait with %d children returned %d", nkids, pid, 0);
    forget_kid(pid);
  }
  pid = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
  if (pid == 0) {
    close_all_but(-1);
    child_life();
  }
  if (pid > 0)
    kids[nkids++] = pid;
}

static void op_wait(void) {
  int pid = sys(SYS_wait, 0, 0, 0, 0, 0, 0);
  if (nkids == 0)
    wcheck(pid == -1, "wait without children returned %d", pid, 0, 0);
  else {
    wcheck(pid > 0, "wait with %d children returned %d", nkids, pid, 0);
    forget_kid(pid);
  }
}

// kill: own children (alive or reaped), and pids nobody has. Never pid 1
// here (killrace does that), never anyone else.
static void op_kill(void) {
  static int nobody[] = {0, -1, INT_MIN, INT_MAX, 100000, -100};
  int pid, r;
  if (nkids > 0 && below(2))
    pid = kids[below(nkids)];
  else if (below(3) == 0)
    pid = old_pids[below(8)];
  else
    pid = nobody[below(NELEM(nobody))];
  if (pid == 0 && below(2))
    pid = nobody[0];
  r = sys1(SYS_kill, pid);
  if (pid <= 0 || pid >= 100000)
    wcheck(r == -1, "kill(%d) returned %d", pid, r, 0);
}

static void op_exec(void) {
  int pid;
  if (nkids == MAXKIDS)
    forget_kid(sys(SYS_wait, 0, 0, 0, 0, 0, 0));
  pid = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
  if (pid == 0) {
    close_all_but(-1);
    child_exec();
  }
  if (pid > 0)
    kids[nkids++] = pid;
}

// Remember the last wild mapping; later calls aim at it.
static void wild_remember(uint addr, uint len) {
  int i = below(NWILD);
  if (wild_addr[i])
    munmap((void *)wild_addr[i], wild_len[i]);
  wild_addr[i] = addr;
  wild_len[i] = PGROUNDUP(len);
}

// After a call that changed the address space: the arena and heap back.
static void repair(void) {
  arena_build();
  heap_repair();
}

// After a call that failed: nothing may have changed.
static void must_be_unchanged(char *what, uint a, uint b) {
  wcheck(arena_intact(), "failed %s(%x, %x) changed the arena", (uint)what, a, b);
  if (heap_ok)
    wcheck((uint)sbrk(0) == heaphi, "failed %s(%x, ...) moved the heap end", (uint)what, a, 0);
}

static uint mm_addr(void) {
  switch (below(8)) {
  case 0: return edge_int();
  case 1: return APAGE(below(8)) + (below(4) ? 0 : below(PG));
  case 2: return read_ptr();
  case 3: return wild_region();
  default: return BAND + below(BANDPAGES) * PG + (below(8) ? 0 : below(PG));
  }
}

static int mm_len(void) {
  if (below(2))
    return (1 + below(8)) * PG - (below(4) ? 0 : below(PG));
  return random_len();
}

static int mm_prot(void) {
  return below(8) ? below(8) : (int)edge_int();
}

static int mm_flags(void) {
  int f = below(3) ? MAP_PRIVATE : MAP_SHARED;
  if (below(8) == 0)
    return edge_int();
  if (below(8))
    f |= MAP_ANONYMOUS;
  if (below(3) == 0)
    f |= MAP_FIXED;
  if (below(6) == 0)
    f |= MAP_POPULATE;
  if (below(16) == 0)
    f |= MAP_SHARED | MAP_PRIVATE;
  return f;
}

// A page the kernel hands out must hold zeros, not another process's
// data. Read through a pipe, so that a page the kernel cannot supply
// (out of memory, PROT_NONE) only makes the write fail.
static void check_zero(uint va) {
  static int probe[2] = {-1, -1};
  uint got[4];
  int n;
  if (probe[0] < 0) {
    if (pipe(probe) < 0)
      return;
    fds[probe[0]].kind = fds[probe[1]].kind = FD_RESERVED;
  }
  n = write(probe[1], (void *)va, 16);
  if (n != 16)
    return;
  wcheck(read(probe[0], got, 16) == 16, "probe pipe read failed", 0, 0, 0);
  wcheck((got[0] | got[1] | got[2] | got[3]) == 0, "new page %x holds %x (not zero)", va,
         got[0] | got[1] | got[2] | got[3], 0);
}

static void op_mmap(void) {
  uint a = mm_addr(), r;
  int len = mm_len(), prot = mm_prot(), flags = mm_flags();
  int fd = below(8) ? -1 : fd_arg(), off = below(8) ? 0 : edge_int();
  // Populating more than a few MiB is forkpressure's job; now and then one
  // that must run out of memory, over the arena.
  if ((flags & MAP_POPULATE) && (uint)len > 0x100000) {
    if (below(64) == 0) {
      a = ARENA;
      len = 0x40000000;
      flags = MAP_FIXED | MAP_POPULATE | MAP_PRIVATE | MAP_ANONYMOUS;
    } else
      flags &= ~MAP_POPULATE;
  }
  r = (uint)sys(SYS_mmap, a, len, prot, flags, fd, off);
  if (r == (uint)-1) {
    must_be_unchanged("mmap", a, len);
    return;
  }
  wcheck(r % PG == 0 && r < KERNBASE && r >= heaplo, "mmap returned %x", r, 0, 0);
  wcheck(r + PGROUNDUP((uint)len) <= KERNBASE, "mmap at %x of %x passes KERNBASE", r, len, 0);
  // A mapping of a file holds the file, not zeros.
  if ((r >= ARENA + 8 * PG || r + len <= ARENA) && (flags == 0 || (flags & MAP_ANONYMOUS) || fd == -1))
    check_zero(r + below((uint)len) / 16 * 16);
  wild_remember(r, len);
  repair();
}

static void op_munmap(void) {
  uint a = mm_addr(), len = below(16) ? (uint)mm_len() : KERNBASE - a;
  int r = sys2(SYS_munmap, a, len);
  if (r == -1)
    must_be_unchanged("munmap", a, len);
  else
    repair();
}

// msync: bad flags and unaligned addresses fail; any call leaves the
// address space as it was.
static void op_msync(void) {
  uint a = mm_addr();
  int len = mm_len(), flags = below(4) ? (int)below(8) : (int)edge_int();
  int r = sys3(SYS_msync, a, len, flags);
  if ((flags & ~7) || (flags & 5) == 5 || a % PG)
    wcheck(r == -1, "msync(%x, %x, %d) did not fail", a, len, flags);
  must_be_unchanged("msync", a, len);
}

// mremap: anything may move, shrink or grow; a failure changes nothing.
static void op_mremap(void) {
  uint a = mm_addr(), oldlen = mm_len(), newlen = mm_len(), to = mm_addr(), r;
  int flags = below(8) ? (int)below(4) : (int)edge_int();
  r = (uint)sys(SYS_mremap, a, oldlen, newlen, flags, to, 0);
  if (r == (uint)-1) {
    must_be_unchanged("mremap", a, oldlen);
    return;
  }
  wcheck(r % PG == 0 && r < KERNBASE && r >= heaplo, "mremap returned %x", r, 0, 0);
  wcheck(!(flags & ~3) && a % PG == 0, "mremap(%x, flags %x) did not fail", a, flags, 0);
  wild_remember(r, newlen);
  repair();
}

// madvise: unknown advice and unaligned addresses fail; DONTNEED may
// empty arena pages, which repair() refills.
static void op_madvise(void) {
  uint a = mm_addr();
  int len = mm_len(), advice = below(8) ? (int)below(6) : (int)edge_int();
  int r = sys3(SYS_madvise, a, len, advice);
  if ((advice != 0 && advice != 3 && advice != 4) || a % PG)
    wcheck(r == -1, "madvise(%x, %x, %d) did not fail", a, len, advice);
  if (r == -1)
    must_be_unchanged("madvise", a, len);
  else
    repair();
}

static void op_mprotect(void) {
  uint a = mm_addr();
  int len = mm_len(), r = sys3(SYS_mprotect, a, len, mm_prot());
  if (r == -1)
    must_be_unchanged("mprotect", a, len);
  else
    repair();
}

static void op_sbrk(void) {
  static int incs[] = {0, 1, -1, PG, -PG, INT_MIN, INT_MAX, 0x100000, -0x100000, 0x7ffff000};
  int n = below(2) ? (int)below(4 * PG) - 2 * PG : incs[below(NELEM(incs))];
  uint old = (uint)sbrk(0);
  int r = sys1(SYS_sbrk, n);
  if (r == -1) {
    wcheck((uint)sbrk(0) == old, "failed sbrk(%d) moved the heap end", n, 0, 0);
    return;
  }
  wcheck((uint)r == old, "sbrk(%d) returned %x, not the old end %x", n, r, old);
  // Bytes in a new page are zero (the old end's page may hold old data).
  if (n > 0 && n <= 0x100000 && PGROUNDUP(old) + 16 <= old + n)
    check_zero(PGROUNDUP(old) + below(old + n - PGROUNDUP(old) - 15) / 16 * 16);
  heap_repair();
}

static void op_sleep(void) {
  static int ticks[] = {0, 1, -1, INT_MIN, -100};
  int n = ticks[below(NELEM(ticks))], r = sys1(SYS_sleep, n);
  wcheck(r == 0, "sleep(%d) returned %d", n, r, 0);
}

static uint handles[8];

static void op_kmalloc(void) {
  static int sizes[] = {0, 1, -1, 16, 4056, 4057, PG, INT_MIN, INT_MAX, 2048};
  int n = below(2) ? 1 + (int)below(KMALLOC_MAX) : sizes[below(NELEM(sizes))];
  uint h = sys1(SYS_kmalloc, n);
  if (n <= 0 || n > KMALLOC_MAX)
    wcheck(h == 0, "kmalloc(%d) returned a handle", n, 0, 0);
  if (h != 0)
    handles[below(8)] = h;
}

static void op_kmfree(void) {
  uint h = below(2) ? handles[below(8)] : edge_int();
  int i, r = sys1(SYS_kmfree, h);
  if (r == 0)
    for (i = 0; i < 8; i++)
      if (handles[i] == h)
        handles[i] = 0;
}

static void op_getmaps(void) {
  static int pids[] = {0, -1, 1, INT_MIN, INT_MAX, 100000};
  uint p = write_ptr();
  int n = below(2) ? (int)below(8) : random_len(), cls, pid, r;
  pid = below(2) ? pids[below(NELEM(pids))] : (nkids ? kids[below(nkids)] : getpid());
  if (n > 0 && n < 0x10000)
    n = clamp_len(p, n * sizeof(struct mapinfo)) / sizeof(struct mapinfo);
  cls = n < 0 ? PAGE_BAD : range_class(p, (n > NREGION + 4 ? NREGION + 4 : n) *
                                          sizeof(struct mapinfo), 1);
  if (n > 0x100000)
    cls = PAGE_BAD;
  r = sys3(SYS_getmaps, pid, p, n);
  MUST_FAIL(cls, r, "getmaps");
  check_readonly();
}

static void op_sysinfo(void) {
  uint p = write_ptr();
  int cls = range_class(p, sizeof(struct sysinfo), 1), r = sys1(SYS_sysinfo, p);
  MUST_FAIL(cls, r, "sysinfo");
  if (cls == PAGE_OK)
    wcheck(r == 0, "sysinfo into %x failed", p, 0, 0);
  check_readonly();
}

static void op_kmstat(void) {
  uint p = below(2) ? APAGE(0) : write_ptr();
  int cls = range_class(p, sizeof(struct kmstat), 1), r = sys1(SYS_kmstat, p);
  MUST_FAIL(cls, r, "kmstat");
  check_readonly();
}

// tracectl: the status counters, or op numbers that do not exist. Never
// an op that changes the trace (the harness depends on it).
static void op_tracectl(void) {
  static int badops[] = {0, -1, 8, 9, 100, INT_MIN, INT_MAX};
  int op, arg, r;
  if (below(2)) {
    op = TRACECTL_STATUS;
    arg = below(2) ? (int)below(12) : (int)edge_int();
  } else {
    op = badops[below(NELEM(badops))];
    arg = edge_int();
  }
  r = sys2(SYS_tracectl, op, arg);
  if (op != TRACECTL_STATUS)
    wcheck(r == -1, "tracectl(%d, ...) returned %d", op, r, 0);
}

// Numbers past the table: -1, and nothing else happens.
static void op_badnum(void) {
  static int nums[] = {0, NSYSCALLS + 1, NSYSCALLS + 2, 64, 255, 256, -1, INT_MIN, INT_MAX,
                       0x10000};
  int num = below(4) ? nums[below(NELEM(nums))] : (int)rnd32();
  int r;
  if (num >= 1 && num <= NSYSCALLS)
    num = 0;
  r = sys(num, edge_int(), edge_int(), edge_int(), 0, 0, 0);
  wcheck(r == -1, "system call %d returned %d", num, r, 0);
}

// A call whose arguments cannot be fetched: the stack pointer is in the
// guard page, PROT_NONE, a hole or the kernel.
static void op_badstack(void) {
  static int nums[] = {SYS_pipe, SYS_read, SYS_kill, SYS_exec, SYS_open, SYS_mknod,
                       SYS_unlink, SYS_fstat, SYS_link, SYS_mkdir, SYS_chdir, SYS_dup,
                       SYS_sbrk, SYS_sleep, SYS_close, SYS_kmfree, SYS_mmap, SYS_munmap,
                       SYS_mprotect, SYS_getmaps, SYS_sysinfo, SYS_kmstat, SYS_tracectl,
                       SYS_write};
  uint sps[] = {textend + 64, APAGE(1) + 64, APAGE(5) + 64, KERNBASE - 4, KERNBASE + 0x1000,
                0xffff0000, stackbase - 8};
  int num = nums[below(NELEM(nums))], r;
  uint sp = sps[below(NELEM(sps))];
  r = rawsys_sp(num, sp);
  ncalls++;
  nerrors += r == -1;
  wcheck(r == -1, "call %d with esp %x returned %d", num, sp, r);
}

static void op_small(void) {
  switch (below(2)) {
  case 0: wcheck(sys(SYS_getpid, 0, 0, 0, 0, 0, 0) > 1, "getpid", 0, 0, 0); break;
  default: wcheck(sys(SYS_uptime, 0, 0, 0, 0, 0, 0) >= 0, "uptime", 0, 0, 0);
  }
}

struct op {
  void (*fn)(void);
  char *name;
  int weight;
};

static struct op ops[] = {
  {op_read, "read", 8}, {op_write, "write", 8}, {op_close, "close", 5}, {op_dup, "dup", 4},
  {op_pipe, "pipe", 3}, {op_open, "open", 8}, {op_mknod, "mknod", 2}, {op_unlink, "unlink", 4},
  {op_fstat, "fstat", 4}, {op_link, "link", 3}, {op_mkdir, "mkdir", 3}, {op_chdir, "chdir", 3},
  {op_fork, "fork", 2}, {op_wait, "wait", 2}, {op_kill, "kill", 2}, {op_exec, "exec", 1},
  {op_small, "small", 2}, {op_sbrk, "sbrk", 3}, {op_sleep, "sleep", 1},
  {op_kmalloc, "kmalloc", 3}, {op_kmfree, "kmfree", 3}, {op_mmap, "mmap", 6},
  {op_munmap, "munmap", 4}, {op_mprotect, "mprotect", 4}, {op_getmaps, "getmaps", 3},
  {op_msync, "msync", 2}, {op_mremap, "mremap", 3}, {op_madvise, "madvise", 2},
  {op_sysinfo, "sysinfo", 2}, {op_kmstat, "kmstat", 2}, {op_tracectl, "tracectl", 2},
  {op_badnum, "badnum", 1}, {op_badstack, "badstack", 3},
};

static void one_op(void) {
  static int total;
  int i, k;
  if (total == 0)
    for (i = 0; i < NELEM(ops); i++)
      total += ops[i].weight;
  k = below(total);
  for (i = 0; k >= ops[i].weight; i++)
    k -= ops[i].weight;
  if (verbose)
    printf(1, "# worker %d call %d: %s\n", worker_nr, ncalls, ops[i].name);
  ops[i].fn();
}

// ---- helpers for the file system ------------------------------------------------------

// Remove path and everything under it (depth first). Returns 0 if gone.
// Does the directory entry path exist? (Read from its parent: open() of
// it can fail for other reasons.)
static int entry_exists(char *path) {
  struct dirent de;
  char parent[160], *name = strrchr_slash(path);
  int fd, found = 0;
  if (name == 0 || name - path >= sizeof(parent))
    return 1;
  memmove(parent, path, name - path);
  parent[name == path ? 1 : name - path] = 0;
  if ((fd = open(parent, O_RDONLY)) < 0)
    return 0;
  while (!found && read(fd, &de, sizeof(de)) == sizeof(de))
    found = de.inum != 0 && strncmp_dirsiz(de.name, name + 1);
  close(fd);
  return found;
}

// Remove path and all below it. Returns 0 (also if it was gone already),
// or -1.
static int remove_tree(char *path, int depth) {
  struct dirent de;
  struct stat st;
  char child[160];
  int fd;
  if (unlink(path) == 0)
    return 0;
  if (depth > 40 || (fd = open(path, O_RDONLY)) < 0)
    return entry_exists(path) ? -1 : 0;  // a worker may remove its own directory
  if (fstat(fd, &st) < 0 || st.type != T_DIR) {
    close(fd);
    return -1;
  }
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0 || strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
      continue;
    if (strlen(path) + DIRSIZ + 2 > sizeof(child))
      continue;
    path_join(child, path, "");
    memmove(child + strlen(child), de.name, DIRSIZ);
    child[strlen(path) + 1 + DIRSIZ] = 0;
    remove_tree(child, depth + 1);
  }
  close(fd);
  return unlink(path);
}

static void make_dir(char *path) {
  check(mkdir(path) == 0, "mkdir %s failed", path);
}

// ---- the cases ---------------------------------------------------------------------------

// Share of the calls=N budget, in percent, per case.
#define SHARE(pct) (budget / 100 * (pct) + 1)

// /storm<seed>/w<i>
static void worker_dir(char *out, int i) {
  char w[12];
  name_num(w, "w", i);
  path_join(out, root, w);
}

static void random_worker(int i) {
  int n = SHARE(60) / nprocs;
  fds_init();
  worker_dir(wdir, i);
  layout_init();
  while (ncalls < n) {
    one_op();
    if (ncalls % 64 == 0)
      wcheck(read_esp() > stackbase + STACKSCRATCH + 256, "stack too deep", 0, 0, 0);
    if (i == 0)
      progress("random", n);
  }
  while (nkids > 0)
    forget_kid(wait());
}

static void case_random(void) {
  int pids[MAXPROCS], rfds[MAXPROCS], calls = 0, errors = 0, i;
  char dir[32];
  for (i = 0; i < nprocs; i++) {
    worker_dir(dir, i);
    make_dir(dir);
  }
  start_workers(nprocs, random_worker, pids, rfds);
  finish_workers(nprocs, rfds, &calls, &errors);
  for (i = 0; i < nprocs; i++) {
    worker_dir(dir, i);
    check(remove_tree(dir, 0) == 0, "%s could not be removed", dir);
  }
  case_done("random", calls, errors);
}

// A child that must not outlive the case even if its parent dies: it
// stops at this tick.
static int deadline(void) {
  return uptime() + CASE_TIMEOUT;
}

// sharedrace: the bytes of path and exec argument strings change under
// the kernel. Page layout:
#define SR_PATH1  0     // "/storm<seed>/r/abcdefgh", last part flipping
#define SR_PATH2  64    // the same, for link's second name
#define SR_EXEC   128   // "/storm<seed>/elfN", N and the 0 flipping
#define SR_ARGV   192   // echo's argv: pointers flipping
#define SR_ARGS   256   // four argument strings of 32 bytes, bytes flipping
#define SR_STOP   1024

static char *sr_page;
static int sr_prefix;  // length of "/storm<seed>/r/"

// Flip bytes until told to stop. The 0 never lands right after the last
// '/', so every path stays inside /storm<seed>/r and never names it.
static void flipper(void) {
  int end = deadline(), i, k;
  uint *argv = (uint *)(sr_page + SR_ARGV);
  char *s;
  for (i = 0; *(volatile int *)(sr_page + SR_STOP) == 0; i++) {
    switch (below(4)) {
    case 0: case 1:
      s = sr_page + (below(2) ? SR_PATH1 : SR_PATH2);
      k = sr_prefix + 1 + below(8);
      s[k] = below(3) ? 'a' + below(3) : 0;
      break;
    case 2:
      s = sr_page + SR_EXEC + strlen(root) + 4;  // the N of "/elfN"
      *s = below(4) ? '0' + below(3) : 0;
      break;
    default:
      k = below(4);
      if (below(2))
        argv[1 + k] = below(4) ? (uint)(sr_page + SR_ARGS + 32 * k) : (below(2) ? 0 : KERNBASE);
      else
        sr_page[SR_ARGS + 32 * k + below(31)] = below(4) ? 'x' : 0;
    }
    if (i % 4096 == 0 && uptime() > end)
      break;
  }
  exit();
}

static void sr_exec(void) {
  int pid = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
  if (pid == 0) {
    output_to_nowhere();
    if (below(2))
      exec(sr_page + SR_EXEC, (char **)(sr_page + SR_ARGV));
    else
      exec("/echo", (char **)(sr_page + SR_ARGV));
    exit();
  }
  if (pid > 0)
    sys(SYS_wait, 0, 0, 0, 0, 0, 0);
}

static void sr_worker(int w) {
  char *p1, *p2;
  int i, fd, n = SHARE(15), flip;
  p1 = sr_page + SR_PATH1;
  p2 = sr_page + SR_PATH2;
  flip = fork();
  if (flip == 0)
    flipper();
  wcheck(flip > 0, "fork of the flipper failed", 0, 0, 0);
  for (i = 0; ncalls < n; i++) {
    progress("sharedrace", n);
    switch (below(10)) {
    case 0: case 1:
      if ((fd = sys2(SYS_open, (uint)p1, O_CREATE | O_RDWR)) >= 0)
        sys1(SYS_close, fd);
      break;
    case 2:
      if ((fd = sys2(SYS_open, (uint)p2, O_RDONLY)) >= 0)
        sys1(SYS_close, fd);
      break;
    case 3:
      sys1(SYS_unlink, (uint)(below(2) ? p1 : p2));
      break;
    case 4:
      sys1(SYS_mkdir, (uint)p2);
      break;
    case 5:
      sys1(SYS_chdir, (uint)p1);
      sys1(SYS_chdir, (uint)"/");
      break;
    case 6: case 7:
      sys2(SYS_link, (uint)p1, (uint)p2);
      break;
    default:
      sr_exec();
    }
  }
  *(volatile int *)(sr_page + SR_STOP) = 1;
  wcheck(wait() == flip, "the flipper was not reaped", 0, 0, 0);
}

static void case_sharedrace(void) {
  int pid, rfd, calls = 0, errors = 0, k;
  uint *argv;
  char dir[32];
  sr_page = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(sr_page != MAP_FAILED, "mmap of the shared page failed");
  path_join(dir, root, "r");
  make_dir(dir);
  path_join(sr_page + SR_PATH1, dir, "abcdefgh");
  path_join(sr_page + SR_PATH2, dir, "bcdefgha");
  sr_prefix = strlen(dir) + 1;
  path_join(sr_page + SR_EXEC, root, "elf0");
  argv = (uint *)(sr_page + SR_ARGV);
  argv[0] = (uint)"echo";
  for (k = 0; k < 4; k++) {
    memset(sr_page + SR_ARGS + 32 * k, 'a' + k, 31);
    argv[1 + k] = (uint)(sr_page + SR_ARGS + 32 * k);
  }
  argv[5] = 0;
  start_workers(1, sr_worker, &pid, &rfd);
  finish_workers(1, &rfd, &calls, &errors);
  munmap(sr_page, PG);
  check(remove_tree(dir, 0) == 0, "%s could not be removed", dir);
  case_done("sharedrace", calls, errors);
}

// deleteddirs: a directory removed while a process sits in it, deep
// paths, long names, many links.
static char dd[32];  // /storm<seed>/dd

static void dd_in_deleted(void) {
  static char x[40], keep[40];
  int fd, r, pid;
  path_join(x, dd, "x");
  path_join(keep, dd, "keep");
  wcheck(sys1(SYS_mkdir, (uint)x) == 0, "mkdir x failed", 0, 0, 0);
  wcheck(sys1(SYS_chdir, (uint)x) == 0, "chdir x failed", 0, 0, 0);
  if (below(2)) {
    pid = fork();                       // removed by another process
    if (pid == 0) {
      unlink(x);
      exit();
    }
    wcheck(pid > 0 && wait() == pid, "fork failed", 0, 0, 0);
  } else
    wcheck(sys1(SYS_unlink, (uint)x) == 0, "unlink of the cwd failed", 0, 0, 0);
  r = sys2(SYS_open, (uint)"f", O_CREATE | O_RDWR);
  wcheck(r == -1, "create in a deleted directory returned %d", r, 0, 0);
  r = sys1(SYS_mkdir, (uint)"g");
  wcheck(r == -1, "mkdir in a deleted directory returned %d", r, 0, 0);
  r = sys3(SYS_mknod, (uint)"n", 1, 1);
  wcheck(r == -1, "mknod in a deleted directory returned %d", r, 0, 0);
  r = sys2(SYS_link, (uint)keep, (uint)"l");
  wcheck(r == -1, "link into a deleted directory returned %d", r, 0, 0);
  if ((fd = sys2(SYS_open, (uint)".", O_RDONLY)) >= 0)
    sys1(SYS_close, fd);
  sys1(SYS_unlink, (uint)"f");
  sys1(SYS_chdir, (uint)"..");
  wcheck(sys1(SYS_chdir, (uint)dd) == 0, "chdir dd failed", 0, 0, 0);
}

// One process creates in x while this one removes and remakes it.
static void dd_race(int rounds) {
  static char x[40];
  int pid, i, fd, end = deadline();
  path_join(x, dd, "x");
  pid = fork();
  if (pid == 0) {
    for (i = 0; i < rounds && uptime() < end; i++) {
      if (chdir(x) < 0)
        continue;
      if ((fd = open("f", O_CREATE | O_RDWR)) >= 0)
        close(fd);
      mkdir("g");
      unlink("g");
      unlink("f");
      chdir(dd);
    }
    exit();
  }
  wcheck(pid > 0, "fork failed", 0, 0, 0);
  for (i = 0; i < rounds; i++) {
    sys1(SYS_mkdir, (uint)x);
    sys1(SYS_unlink, (uint)x);
  }
  wcheck(wait() == pid, "wait failed", 0, 0, 0);
  sys1(SYS_unlink, (uint)x);
}

// 40 levels of "d" made by chdir; a path to the bottom fits MAXPATH only
// from dd.
static void dd_deep(void) {
  static char path[200];
  int i, fd, r, len;
  strcpy(path, dd);
  for (i = 0; i < 40; i++) {
    wcheck(sys1(SYS_mkdir, (uint)"d") == 0, "mkdir at depth %d failed", i, 0, 0);
    wcheck(sys1(SYS_chdir, (uint)"d") == 0, "chdir at depth %d failed", i, 0, 0);
    len = strlen(path);
    path[len] = '/';
    path[len + 1] = 'd';
    path[len + 2] = 0;
  }
  fd = sys2(SYS_open, (uint)"f", O_CREATE | O_RDWR);
  wcheck(fd >= 0, "create at depth 40 failed", 0, 0, 0);
  sys1(SYS_close, fd);
  path_join(path + strlen(path), "", "f");
  r = sys2(SYS_open, (uint)path, O_RDONLY);
  if (strlen(path) < 128) {
    wcheck(r >= 0, "open of a %d-character path failed", strlen(path), 0, 0);
    sys1(SYS_close, r);
  } else
    wcheck(r == -1, "open of a %d-character path returned %d", strlen(path), r, 0);
  wcheck(sys1(SYS_unlink, (uint)"f") == 0, "unlink at depth 40 failed", 0, 0, 0);
  for (i = 0; i < 40; i++) {
    wcheck(sys1(SYS_chdir, (uint)"..") == 0, "chdir .. failed", 0, 0, 0);
    wcheck(sys1(SYS_unlink, (uint)"d") == 0, "unlink d at depth %d failed", 39 - i, 0, 0);
  }
}

// Names longer than DIRSIZ are cut to DIRSIZ characters.
static void dd_long_names(void) {
  int fd = sys2(SYS_open, (uint)"abcdefghijklmnopqrstuvwxyz", O_CREATE | O_RDWR), r;
  wcheck(fd >= 0, "create of a long name failed", 0, 0, 0);
  sys1(SYS_close, fd);
  r = sys2(SYS_open, (uint)"abcdefghijklmnXYZ", O_RDONLY);
  wcheck(r >= 0, "open of the long name by its first 14 characters failed", 0, 0, 0);
  sys1(SYS_close, r);
  wcheck(sys1(SYS_unlink, (uint)"abcdefghijklmn") == 0, "unlink of the long name failed", 0,
         0, 0);
}

// Links to one file until link refuses: never past MAXLINK names.
static void dd_links(void) {
  static char name[16];
  struct stat st;
  int i, made = 0, fd;
  wcheck(sys1(SYS_mkdir, (uint)"L") == 0 && sys1(SYS_chdir, (uint)"L") == 0, "mkdir L failed",
         0, 0, 0);
  fd = sys2(SYS_open, (uint)"t", O_CREATE | O_RDWR);
  wcheck(fd >= 0, "create t failed", 0, 0, 0);
  for (i = 0; i < MAXLINK + 4; i++) {
    name_num(name, "l", i);
    if (sys2(SYS_link, (uint)"t", (uint)name) == 0)
      made++;
  }
  wcheck(fstat(fd, &st) == 0, "fstat failed", 0, 0, 0);
  sys1(SYS_close, fd);
  wcheck(st.nlink == 1 + made, "nlink %d after %d links", st.nlink, made, 0);
  wcheck(made <= MAXLINK - 1, "%d links made to one file (MAXLINK %d)", made, MAXLINK, 0);
  for (i = 0; i < MAXLINK + 4; i++) {
    name_num(name, "l", i);
    sys1(SYS_unlink, (uint)name);
  }
  wcheck(sys1(SYS_unlink, (uint)"t") == 0, "unlink t failed", 0, 0, 0);
  sys1(SYS_chdir, (uint)"..");
  wcheck(sys1(SYS_unlink, (uint)"L") == 0, "unlink L failed", 0, 0, 0);
}

static void dd_worker(int w) {
  int n = SHARE(10), fd;
  static char keep[40];
  path_join(keep, dd, "keep");
  fd = open(keep, O_CREATE | O_RDWR);
  wcheck(fd >= 0, "create keep failed", 0, 0, 0);
  close(fd);
  wcheck(chdir(dd) == 0, "chdir dd failed", 0, 0, 0);
  dd_deep();
  dd_long_names();
  dd_links();
  while (ncalls < n) {
    progress("deleteddirs", n);
    dd_in_deleted();
    dd_race(1 + below(20));
  }
}

static void case_deleteddirs(void) {
  int pid, rfd, calls = 0, errors = 0;
  path_join(dd, root, "dd");
  make_dir(dd);
  start_workers(1, dd_worker, &pid, &rfd);
  finish_workers(1, &rfd, &calls, &errors);
  check(remove_tree(dd, 0) == 0, "%s could not be removed", dd);
  case_done("deleteddirs", calls, errors);
}

// killrace: children that fork and exec without pause, killed at random
// moments; kill of pid 1 (init must refuse) and of pids nobody has.
#define SPAWNERS 3

static void spawner(void) {
  int end = deadline(), pid;
  close_all_but(-1);
  while (uptime() < end) {
    pid = fork();
    if (pid == 0) {
      if (below(3))
        child_exec();
      if (below(2))
        fork();
      exit();
    }
    if (pid > 0)
      wait();
  }
  exit();
}

static void kr_worker(int w) {
  static int nobody[] = {0, -1, INT_MIN, INT_MAX, 100000, -2};
  int kids[SPAWNERS], i, j, r, pid, me = getpid(), top = me, n = SHARE(10);
  layout_init();  // the arena child_exec puts strings in
  for (i = 0; i < SPAWNERS; i++) {
    kids[i] = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
    if (kids[i] == 0)
      spawner();
    wcheck(kids[i] > 0, "fork of a spawner failed", 0, 0, 0);
  }
  while (ncalls < n) {
    progress("killrace", n);
    switch (below(6)) {
    case 0:
      r = sys1(SYS_kill, 1);
      wcheck(r == -1, "kill(1) returned %d", r, 0, 0);
      break;
    case 1:
      pid = nobody[below(NELEM(nobody))];
      r = sys1(SYS_kill, pid);
      wcheck(r == -1, "kill(%d) returned %d", pid, r, 0);
      break;
    case 2:                             // the next pids: grandchildren, mostly
      for (j = 1 + below(8); j > 0; j--)
        if (top + j != me)
          sys1(SYS_kill, top + j);
      break;
    default:                            // a spawner, at a random moment
      i = below(SPAWNERS);
      if (below(2))
        sys1(SYS_sleep, below(2));
      else
        for (j = below(20000); j > 0; j--)
          asm volatile("");
      wcheck(sys1(SYS_kill, kids[i]) == 0, "kill of a live child failed", 0, 0, 0);
      pid = sys(SYS_wait, 0, 0, 0, 0, 0, 0);
      wcheck(pid > 0, "wait after kill returned %d", pid, 0, 0);
      for (i = 0; i < SPAWNERS && kids[i] != pid; i++)
        ;
      wcheck(i < SPAWNERS, "wait returned %d, not a child", pid, 0, 0);
      kids[i] = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
      if (kids[i] == 0)
        spawner();
      wcheck(kids[i] > 0, "fork of a spawner failed", 0, 0, 0);
      if (kids[i] > top)
        top = kids[i];
    }
  }
  for (i = 0; i < SPAWNERS; i++)
    kill(kids[i]);
  for (i = 0; i < SPAWNERS; i++)
    wcheck(wait() > 0, "a spawner was not reaped", 0, 0, 0);
}

static void case_killrace(void) {
  int pid, rfd, calls = 0, errors = 0;
  start_workers(1, kr_worker, &pid, &rfd);
  finish_workers(1, &rfd, &calls, &errors);
  case_done("killrace", calls, errors);
}

// forkpressure: one child (the hog) takes all memory and then forks again
// and again, which fails part way; a small child (the forker) forks with
// what is left, which fails or not; a third kills the pid after each one
// forked. Afterwards every new process must run: a failed fork must not
// leave its slot marked killed.
#define CHUNK (4 * 1024 * 1024)
#define FP_LASTPID 0
#define FP_READY   1
#define FP_STOP    2

static volatile int *fp_shared;

static void hog(int w) {
  int chunks = 0, grown = 0, pid;
  uint last = 0, a;
  while ((a = (uint)sys(SYS_mmap, 0, CHUNK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)) != (uint)-1) {
    last = a;
    chunks++;
  }
  while (sys1(SYS_sbrk, 0x10000) != -1)
    grown++;
  while (sys(SYS_mmap, 0, 0x10000, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) != -1)
    ;
  wcheck(chunks > 1, "no memory to take", 0, 0, 0);
  printf(report_fd, "# forkpressure: took %d MiB and %d KiB of heap\n", chunks * 4, grown * 64);
  sys2(SYS_munmap, last, CHUNK);  // about 1 MiB free
  fp_shared[FP_READY] = 1;
  while (fp_shared[FP_STOP] == 0) {
    pid = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
    if (pid == 0)
      exit();
    if (pid > 0) {
      fp_shared[FP_LASTPID] = pid;
      sys(SYS_wait, 0, 0, 0, 0, 0, 0);
    }
  }
}

// Forks while carrying a private chunk of random size that fork copies.
static void forker(int w) {
  int n = SHARE(5), pid, len, end = deadline();
  uint priv;
  while (fp_shared[FP_READY] == 0 && uptime() < end)
    sleep(1);
  while (ncalls < n) {
    progress("forkpressure", n);
    len = (1 + below(200)) * PG;
    priv = (uint)sys(SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    pid = sys(SYS_fork, 0, 0, 0, 0, 0, 0);
    if (pid == 0)
      exit();
    if (pid > 0) {
      fp_shared[FP_LASTPID] = pid;
      sys(SYS_wait, 0, 0, 0, 0, 0, 0);
    }
    if (priv != (uint)-1)
      sys2(SYS_munmap, priv, len);
  }
  fp_shared[FP_STOP] = 1;
}

// Its kill calls are not counted: it spins as long as the others run.
static void killer(int w) {
  int end = deadline(), me = getpid(), p, kills = 0;
  while (fp_shared[FP_STOP] == 0 && uptime() < end) {
    p = fp_shared[FP_LASTPID];
    if (p > me) {
      kill(p + 1);
      kill(p + 2);
      kills += 2;
    } else
      sleep(0);
  }
  printf(report_fd, "# forkpressure: the killer made %d kill calls\n", kills);
}

// Every one of n new children runs and writes its byte.
static void all_children_run(int n) {
  int p[2], i, pid, got = 0;
  char c;
  xpipe(p);
  for (i = 0; i < n; i++) {
    pid = xfork();
    if (pid == 0) {
      write(p[1], "k", 1);
      exit();
    }
  }
  close(p[1]);
  while (read(p[0], &c, 1) == 1)
    got++;
  close(p[0]);
  for (i = 0; i < n; i++)
    check(wait() > 0, "wait failed");
  check(got == n, "%d of %d new children never ran (killed by a stale flag?)", n - got, n);
}

// A MAP_SHARED page first touched after fork is shared all the same:
// read first by a child, then written by its parent.
static void shared_after_fork(volatile int *page) {
  int p[2], pid, t;
  char c = 'n';
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    t = page[3];
    write(p[1], "r", 1);
    for (t = uptime() + 200; page[3] != 7 && uptime() < t;)
      ;
    write(p[1], page[3] == 7 ? "y" : "n", 1);
    exit();
  }
  check(read(p[0], &c, 1) == 1, "pipe read failed");
  page[3] = 7;
  check(read(p[0], &c, 1) == 1, "pipe read failed");
  xwait(pid);
  close(p[0]);
  close(p[1]);
  check(c == 'y', "a MAP_SHARED page read by a child does not see its parent's write");
}

// A process that maps a shared region next to a shared page it
// inherited still shares that page.
static void shared_next_to_new(volatile int *page) {
  int pid = xfork();
  if (pid == 0) {
    mmap((void *)((uint)page - 4 * PG), 4 * PG, PROT_READ | PROT_WRITE,
         MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED, -1, 0);
    page[5] = 9;
    exit();
  }
  xwait(pid);
  check(page[5] == 9, "a child's write to a shared page is lost after it mapped a neighbour");
}

static void case_forkpressure(void) {
  int pids[3], rfds[3], calls = 0, errors = 0;
  fp_shared = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(fp_shared != MAP_FAILED, "mmap failed");
  shared_after_fork(fp_shared);
  shared_next_to_new(fp_shared);
  memset((void *)fp_shared, 0, PG);
  start_workers(1, killer, &pids[0], &rfds[0]);
  start_workers(1, hog, &pids[1], &rfds[1]);
  start_workers(1, forker, &pids[2], &rfds[2]);
  finish_workers(3, rfds, &calls, &errors);
  all_children_run(NPROC / 2);
  munmap((void *)fp_shared, PG);
  case_done("forkpressure", calls, errors);
}

// ---- the runner -------------------------------------------------------------------------

static struct testcase cases[] = {
  {"random", case_random},
  {"sharedrace", case_sharedrace},
  {"deleteddirs", case_deleteddirs},
  {"killrace", case_killrace},
  {"forkpressure", case_forkpressure},
};

static struct suite suite = {"storm", CASE_TIMEOUT, cases, sizeof(cases) / sizeof(cases[0])};

// Files that are not programs, for exec: junk, an ELF header with no
// program headers to speak of, and echo cut short.
static void make_bad_programs(void) {
  static char buf[1500];
  char path[40];
  int fd, in, n;
  path_join(path, root, "elf0");
  fd = open(path, O_CREATE | O_RDWR);
  for (n = 0; n < 256; n++)
    buf[n] = rnd();
  write(fd, buf, 256);
  close(fd);
  path_join(path, root, "elf1");
  fd = open(path, O_CREATE | O_RDWR);
  memset(buf, 0xff, 64);
  *(uint *)buf = 0x464C457F;  // ELF magic
  write(fd, buf, 64);
  close(fd);
  path_join(path, root, "elf2");
  fd = open(path, O_CREATE | O_RDWR);
  in = open("/echo", O_RDONLY);
  n = read(in, buf, sizeof(buf));
  if (n > 0)
    write(fd, buf, n);
  close(in);
  close(fd);
}

// Collect what the case just run sent; main holds both ends.
static void add_tally(int fd, int *calls, int *errors) {
  struct tally t = {0, 0, 0};
  write(fd + 1, &t, sizeof(t));  // the end marker (fds come in a pair)
  while (read(fd, &t, sizeof(t)) == sizeof(t) && t.magic == TALLY_MAGIC) {
    *calls += t.calls;
    *errors += t.errors;
  }
}

int main(int argc, char *argv[]) {
  int i, j, n = 1, p[2], calls = 0, errors = 0;
  char *v;

  // Take the options out of argv; what is left names cases.
  for (i = 1; i < argc; i++) {
    if ((v = suite_option(argv[i], "seed=")) != 0)
      seed = atoi(v);
    else if ((v = suite_option(argv[i], "procs=")) != 0)
      nprocs = atoi(v);
    else if ((v = suite_option(argv[i], "calls=")) != 0)
      budget = atoi(v);
    else if ((v = suite_option(argv[i], "verbose=")) != 0)
      verbose = atoi(v);
    else
      argv[n++] = argv[i];
  }
  if (nprocs < 1 || nprocs > MAXPROCS)
    nprocs = 4;
  name_num(root, "/storm", seed);
  remove_tree(root, 0);
  if (mkdir(root) < 0 || pipe(p) < 0 || p[1] != p[0] + 1) {
    printf(1, "storm: cannot make %s\n", root);
    exit();
  }
  tally_fd = p[1];
  suite_seed(seed);
  make_bad_programs();
  suite_begin(&suite, suite_count(&suite, n));
  for (i = 0; i < NELEM(cases); i++) {
    for (j = 1; j < n && strcmp(argv[j], cases[i].name) != 0; j++)
      ;
    if (n > 1 && j == n)
      continue;
    casenr = i;
    run_case(&suite, cases[i].name, cases[i].run);
    add_tally(p[0], &calls, &errors);
  }
  for (j = 1; j < n; j++) {
    for (i = 0; i < NELEM(cases) && strcmp(argv[j], cases[i].name) != 0; i++)
      ;
    if (i == NELEM(cases))
      printf(1, "FAIL %s: no such case\n", argv[j]);
  }
  suite_end(&suite);
  printf(1, "# storm: seed %d procs %d: %d calls, %d errors returned\n", seed, nprocs, calls,
         errors);
  if (remove_tree(root, 0) < 0)
    printf(1, "# storm: %s could not be removed\n", root);
  exit();
}
