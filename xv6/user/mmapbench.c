// mmapbench: costs of the region operations, in TSC cycles.
//
// Run under QEMU with -icount (make bench), where the TSC advances with
// the number of guest instructions executed, so the figures are
// deterministic and comparable between runs; without -icount they are
// wall-clock noise. Each row is the median of several repetitions.
#include "types.h"
#include "user.h"
#include "mman.h"
#include "fcntl.h"

#define PGSIZE 4096
#define REPS 9

static inline uint64 rdtsc(void) {
  uint lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64)hi << 32) | lo;
}

static uint median(uint *v, int n) {
  int i, j;
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
      uint t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  return v[n / 2];
}

static void row(char *what, uint cycles, char *unit) {
  printf(1, "| %s | %d | %s |\n", what, cycles, unit);
}

static char *map(uint len, int flags) {
  char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p == MAP_FAILED) {
    printf(2, "mmapbench: mmap of %d bytes failed\n", len);
    exit();
  }
  return p;
}

// mmap+munmap of one page with n regions already mapped.
static void bench_with_regions(int n) {
  uint t[REPS], i;
  uint64 t0;
  char **keep = malloc(n * sizeof(char *));
  // Single pages with holes between them, so no two are adjacent.
  for (i = 0; i < n; i++)
    keep[i] = mmap((void *)(0x40000000 + i * 2 * PGSIZE), PGSIZE, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  for (i = 0; i < REPS; i++) {
    t0 = rdtsc();
    char *p = map(PGSIZE, 0);
    munmap(p, PGSIZE);
    t[i] = rdtsc() - t0;
  }
  for (i = 0; i < n; i++)
    munmap(keep[i], PGSIZE);
  free(keep);
  printf(1, "| mmap+munmap with %d regions mapped | %d | cycles |\n", n, median(t, REPS));
}

// First touch of a lazy page against zeroing an already present page.
static void bench_fault(void) {
  uint t[REPS], z[REPS], i;
  int npages = 64;
  uint64 t0;
  for (i = 0; i < REPS; i++) {
    char *p = map(npages * PGSIZE, 0);
    int k;
    t0 = rdtsc();
    for (k = 0; k < npages; k++)
      p[k * PGSIZE] = 1;
    t[i] = (rdtsc() - t0) / npages;
    t0 = rdtsc();
    for (k = 0; k < npages; k++)
      memset(p + k * PGSIZE, 0, PGSIZE);
    z[i] = (rdtsc() - t0) / npages;
    munmap(p, npages * PGSIZE);
  }
  row("first-touch fault, per page", median(t, REPS), "cycles");
  row("zeroing a present page (memset), per page", median(z, REPS), "cycles");
}

// 64 MiB: lazy mapping against MAP_POPULATE.
static void bench_populate(void) {
  uint lazy[3], pop[3], touch[3], i, len = 64 * 1024 * 1024;
  uint64 t0;
  for (i = 0; i < 3; i++) {
    t0 = rdtsc();
    char *p = map(len, 0);
    lazy[i] = rdtsc() - t0;
    t0 = rdtsc();
    for (uint a = 0; a < len; a += PGSIZE)
      p[a] = 1;
    touch[i] = rdtsc() - t0;
    munmap(p, len);
    t0 = rdtsc();
    p = map(len, MAP_POPULATE);
    pop[i] = rdtsc() - t0;
    munmap(p, len);
  }
  row("mmap 64 MiB lazily", median(lazy, 3), "cycles");
  row("then touching all of it", median(touch, 3), "cycles");
  row("mmap 64 MiB with MAP_POPULATE", median(pop, 3), "cycles");
}

// munmap of 64 MiB of which 1,024 pages (every 16th) were touched: the
// walk of its page tables and the freeing of the touched pages.
static void bench_munmap_sparse(void) {
  uint t[3], i, len = 64 * 1024 * 1024;
  uint64 t0;
  for (i = 0; i < 3; i++) {
    char *p = map(len, 0);
    for (uint a = 0; a < len; a += 16 * PGSIZE)
      p[a] = 1;
    t0 = rdtsc();
    munmap(p, len);
    t[i] = rdtsc() - t0;
  }
  row("munmap 64 MiB with 1,024 pages touched", median(t, 3), "cycles");
}

// Median cost of fork+exit+wait of the calling process.
static uint fork_cost(void) {
  uint t[5], i;
  uint64 t0;
  for (i = 0; i < 5; i++) {
    t0 = rdtsc();
    if (fork() == 0)
      exit();
    wait();
    t[i] = rdtsc() - t0;
  }
  return median(t, 5);
}

// Median cost of fork+exec+wait of this program with -exit (which exits
// at once): the shell's path, where copy-on-write copies nothing.
static uint fork_exec_cost(void) {
  static char *argv[] = {"mmapbench", "-exit", 0};
  uint t[5], i;
  uint64 t0;
  for (i = 0; i < 5; i++) {
    t0 = rdtsc();
    if (fork() == 0) {
      exec("mmapbench", argv);
      exit();
    }
    wait();
    t[i] = rdtsc() - t0;
  }
  return median(t, 5);
}

// Per page: a write to a page shared copy-on-write with a child (copied),
// and then, with the child gone, to pages only the parent still holds
// (made writable again, no copy).
static void bench_cow_fault(void) {
  uint t[REPS], r[REPS], i, cost;
  int npages = 64, k, fds[2];
  uint64 t0;
  char *p = map(npages * PGSIZE, MAP_POPULATE);
  for (i = 0; i < REPS; i++) {
    pipe(fds);
    if (fork() == 0) {
      t0 = rdtsc();
      for (k = 0; k < npages; k++)
        p[k * PGSIZE] = 2;
      cost = (rdtsc() - t0) / npages;
      write(fds[1], &cost, sizeof(cost));
      exit();
    }
    read(fds[0], &t[i], sizeof(t[i]));
    close(fds[0]);
    close(fds[1]);
    wait();
    t0 = rdtsc();
    for (k = 0; k < npages; k++)
      p[k * PGSIZE] = 3;
    r[i] = (rdtsc() - t0) / npages;
  }
  munmap(p, npages * PGSIZE);
  row("copy-on-write fault, copied, per page", median(t, REPS), "cycles");
  row("copy-on-write fault, last holder (no copy), per page", median(r, REPS), "cycles");
}

// fork+exit+wait of a process with 16 MiB of touched private memory.
static void bench_fork(void) {
  uint len = 16 * 1024 * 1024;
  char *p;
  fork_cost();  // warm up: the first fork pays for page tables the others reuse
  row("fork+exit+wait, no regions (baseline)", fork_cost(), "cycles");
  p = map(len, MAP_POPULATE);
  row("fork+exit+wait with 16 MiB mapped and touched", fork_cost(), "cycles");
  munmap(p, len);
  row("fork+exec+wait of a small program", fork_exec_cost(), "cycles");
  bench_cow_fault();
}

#define FILEPAGES 16
#define BENCHFILE "mmapbench.dat"

// A file of FILEPAGES pages; returns an O_RDWR descriptor.
static int bench_file_make(void) {
  static char buf[PGSIZE];
  int fd, i;
  unlink(BENCHFILE);
  if ((fd = open(BENCHFILE, O_CREATE | O_RDWR)) < 0) {
    printf(2, "mmapbench: cannot create %s\n", BENCHFILE);
    exit();
  }
  memset(buf, 'b', sizeof(buf));
  for (i = 0; i < FILEPAGES; i++)
    write(fd, buf, PGSIZE);
  return fd;
}

static char *map_file(int fd, int flags) {
  char *p = mmap(0, FILEPAGES * PGSIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (p == MAP_FAILED) {
    printf(2, "mmapbench: mmap of %s failed\n", BENCHFILE);
    exit();
  }
  return p;
}

// Page-in of a file page (first touch of a fresh mapping: the file's
// cache goes with its last mapping, so each repetition reads the file
// again) against read() of the same page into a present buffer; and
// write() of a page, to set the write-back figure beside.
static void bench_pagein(int fd) {
  static char buf[PGSIZE];
  uint t[REPS], r[REPS], w[REPS], i;
  int k, rfd;
  uint64 t0;
  volatile char c;
  for (i = 0; i < REPS; i++) {
    char *p = map_file(fd, MAP_PRIVATE);
    t0 = rdtsc();
    for (k = 0; k < FILEPAGES; k++)
      c = p[k * PGSIZE];
    t[i] = (rdtsc() - t0) / FILEPAGES;
    munmap(p, FILEPAGES * PGSIZE);
    rfd = open(BENCHFILE, O_RDONLY);
    t0 = rdtsc();
    for (k = 0; k < FILEPAGES; k++)
      read(rfd, buf, PGSIZE);
    r[i] = (rdtsc() - t0) / FILEPAGES;
    close(rfd);
    rfd = open(BENCHFILE, O_RDWR);
    t0 = rdtsc();
    for (k = 0; k < 4; k++)
      write(rfd, buf, PGSIZE);
    w[i] = (rdtsc() - t0) / 4;
    close(rfd);
  }
  (void)c;
  row("file page-in (first touch of a mapped file page), per page", median(t, REPS), "cycles");
  row("read() of the same page, per page", median(r, REPS), "cycles");
  row("write() of a whole page over the file, per page", median(w, REPS), "cycles");
}

// msync(MS_SYNC) of FILEPAGES dirty pages, per page; of the same mapping
// untouched, and touched but clean.
static void bench_writeback(int fd) {
  uint w[REPS], u[REPS], c[REPS], i;
  int k;
  uint64 t0;
  volatile char x;
  for (i = 0; i < REPS; i++) {
    char *p = map_file(fd, MAP_SHARED);
    t0 = rdtsc();
    msync(p, FILEPAGES * PGSIZE, MS_SYNC);
    u[i] = rdtsc() - t0;
    for (k = 0; k < FILEPAGES; k++)
      x = p[k * PGSIZE];
    t0 = rdtsc();
    msync(p, FILEPAGES * PGSIZE, MS_SYNC);
    c[i] = rdtsc() - t0;
    for (k = 0; k < FILEPAGES; k++)
      p[k * PGSIZE] = 'w';
    t0 = rdtsc();
    msync(p, FILEPAGES * PGSIZE, MS_SYNC);
    w[i] = (rdtsc() - t0) / FILEPAGES;
    munmap(p, FILEPAGES * PGSIZE);
  }
  (void)x;
  row("write-back of a dirty page (msync MS_SYNC), per page", median(w, REPS), "cycles");
  row("msync MS_SYNC of an untouched 16-page mapping", median(u, REPS), "cycles");
  row("msync MS_SYNC of a 16-page mapping read but not written", median(c, REPS), "cycles");
}

// The same for one page whose blocks are in the buffer cache (read just
// before): the kernel's own cost, without the disk.
static void bench_pagein_warm(int fd) {
  static char buf[PGSIZE];
  uint t[REPS], r[REPS], i;
  int rfd = open(BENCHFILE, O_RDONLY);
  uint64 t0;
  volatile char c;
  for (i = 0; i < REPS; i++) {
    char *p = map_file(fd, MAP_PRIVATE);
    t0 = rdtsc();
    c = p[0];
    t[i] = rdtsc() - t0;
    munmap(p, FILEPAGES * PGSIZE);
    close(rfd);
    rfd = open(BENCHFILE, O_RDONLY);
    t0 = rdtsc();
    read(rfd, buf, PGSIZE);
    r[i] = rdtsc() - t0;
  }
  close(rfd);
  (void)c;
  row("file page-in, blocks in the buffer cache", median(t, REPS), "cycles");
  row("read() of that page, blocks in the buffer cache", median(r, REPS), "cycles");
}

static void bench_files(void) {
  int fd = bench_file_make();
  bench_pagein_warm(fd);
  bench_pagein(fd);
  bench_writeback(fd);
  close(fd);
  unlink(BENCHFILE);
}

#define BIG (16 * 1024 * 1024)
#define BIGAT 0x40000000

// A 16 MiB private region at BIGAT, every page touched.
static char *touched_big(void) {
  char *p = mmap((void *)BIGAT, BIG, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint k;
  if (p == MAP_FAILED) {
    printf(2, "mmapbench: mmap of 16 MiB failed\n");
    exit();
  }
  for (k = 0; k < BIG; k += PGSIZE)
    p[k] = 1;
  return p;
}

// mremap of a touched 16 MiB region: grown by a page in place, and grown
// by a page where the next page is taken, so that it moves (4,096
// page-table entries move; no page is copied).
static void bench_mremap(void) {
  uint g[REPS], m[REPS], i;
  uint64 t0;
  char *p, *q, *wall;
  for (i = 0; i < REPS; i++) {
    p = touched_big();
    t0 = rdtsc();
    q = mremap(p, BIG, BIG + PGSIZE, 0, 0);
    g[i] = rdtsc() - t0;
    munmap(q, BIG + PGSIZE);
    p = touched_big();
    wall = mmap(p + BIG, PGSIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    t0 = rdtsc();
    q = mremap(p, BIG, BIG + PGSIZE, MREMAP_MAYMOVE, 0);
    m[i] = rdtsc() - t0;
    if (q == MAP_FAILED || q == p)
      printf(2, "mmapbench: mremap did not move\n");
    munmap(q, BIG + PGSIZE);
    munmap(wall, PGSIZE);
  }
  row("mremap of a touched 16 MiB region, grown in place", median(g, REPS), "cycles");
  row("mremap of a touched 16 MiB region, moved (4096 entries)", median(m, REPS), "cycles");
}

// madvise(MADV_DONTNEED) of a touched 16 MiB region: 4,096 pages freed.
static void bench_madvise(void) {
  uint t[REPS], i;
  uint64 t0;
  char *p;
  for (i = 0; i < REPS; i++) {
    p = touched_big();
    t0 = rdtsc();
    madvise(p, BIG, MADV_DONTNEED);
    t[i] = rdtsc() - t0;
    munmap(p, BIG);
  }
  row("madvise DONTNEED of a touched 16 MiB region", median(t, REPS), "cycles");
}

int main(int argc, char *argv[]) {
  if (argc > 1 && strcmp(argv[1], "-exit") == 0)
    exit();
  printf(1, "| operation | median | unit |\n|---|---|---|\n");
  if (argc > 1 && strcmp(argv[1], "regions") == 0) {  // only the region-count rows
    bench_with_regions(1);
    bench_with_regions(4096);
    exit();
  }
  bench_with_regions(1);
  bench_with_regions(16);
  bench_with_regions(256);
  bench_with_regions(4096);
  bench_fault();
  bench_populate();
  bench_munmap_sparse();
  bench_fork();
  bench_files();
  bench_mremap();
  bench_madvise();
  exit();
}
