// Benchmark of the kernel's kmalloc.c against a first-fit (K&R) free-list
// allocator (firstfit.c), both running on the host on the same kalloc()
// page stand-ins (kmhost.c).
//
//   kmalloc_bench                 throughput and space tables
//   kmalloc_bench --quick         fewer and shorter rounds (smoke test)
//   kmalloc_bench --pairs ALLOC SIZE N
//                                 only N pairs, one at a time, of one
//                                 allocator ("kmalloc", "firstfit", or "none":
//                                 an allocator that does nothing, to count
//                                 the loop's own instructions; SIZE 0: mixed
//                                 sizes), for valgrind --tool=callgrind. A
//                                 round of kmalloc and one of first-fit come
//                                 first, as in the timed runs, where each
//                                 allocator finds the page pool as the other
//                                 left it; callgrind counts only bench_pairs().
//
// Throughput: a working set of WORKSET objects. A pair frees one at
// random and allocates a replacement, one at a time or in batches (free
// BATCH random objects, then allocate BATCH), which leaves more holes for
// a free list to search. The random choices are drawn before the clock
// starts and are the same for both allocators; rounds alternate between
// the allocators and the median round counts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "types.h"
#include "kmstat.h"
#include "kmhost.h"

#define WORKSET   1000
#define MAXPAIRS  256000
#define BATCH     64

struct allocator {
  const char *name;
  void *(*alloc)(unsigned int);
  void (*free)(void *);
  unsigned int (*pages)(void);
  void (*reset)(void);
};

static unsigned int km_pages(void) {
  unsigned int objects, bytes, pages;
  kmalloc_totals(&objects, &bytes, &pages);
  return pages;
}

static void km_reset(void) {}  // frees give pages back by themselves

static const struct allocator allocators[2] = {
  { "kmalloc", kmalloc, kmfree, km_pages, km_reset },
  { "first-fit", ff_malloc, ff_free, ff_pages, ff_reset },
};

// The allocator that does nothing (--pairs none): what is left of a pair
// is the measuring loop itself.
static char none_object[16];
static void *none_alloc(unsigned int n) { (void)n; return none_object; }
static void none_free(void *p) { (void)p; }
static unsigned int none_pages(void) { return 0; }
static const struct allocator none = { "none", none_alloc, none_free, none_pages, km_reset };

// A seeded linear congruential generator, so every run is the same.
static unsigned int seed = 2024;
static unsigned int lcg(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

// Mixed request sizes: mostly small, as kernel objects are, some large.
static unsigned int random_size(void) {
  unsigned int r = lcg() % 100;
  if (r < 50)
    return 1 + lcg() % 64;
  if (r < 80)
    return 1 + lcg() % 512;
  if (r < 95)
    return 1 + lcg() % 2048;
  return 1 + lcg() % KMALLOC_MAX;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *slot[WORKSET];
static unsigned int pick[MAXPAIRS];    // which slot pair k replaces
static unsigned int size[MAXPAIRS];    // and with how many bytes
static unsigned int fillsize[WORKSET];

// Draw the workload: fixed size n, or mixed sizes if n is 0; the slots
// of each batch of pairs are distinct.
static void draw(unsigned int n, int npairs, int batch) {
  static unsigned int perm[WORKSET];
  int k, j;
  for (k = 0; k < WORKSET; k++) {
    fillsize[k] = n ? n : random_size();
    perm[k] = k;
  }
  for (k = 0; k < npairs; k++) {
    j = k % batch + lcg() % (WORKSET - k % batch);  // partial Fisher-Yates
    unsigned int t = perm[k % batch];
    perm[k % batch] = perm[j];
    perm[j] = t;
    pick[k] = perm[k % batch];
    size[k] = n ? n : random_size();
  }
}

static void *must(void *p) {
  if (p == 0) {
    fprintf(stderr, "kmalloc_bench: out of memory\n");
    exit(1);
  }
  return p;
}

// Free and allocate npairs objects (a multiple of batch).
static inline void run_pairs(const struct allocator *a, int npairs, int batch) {
  void (*freefn)(void *) = a->free;
  void *(*allocfn)(unsigned int) = a->alloc;
  int k, j;
  if (batch == 1) {
    for (k = 0; k < npairs; k++) {
      freefn(slot[pick[k]]);
      slot[pick[k]] = must(allocfn(size[k]));
    }
    return;
  }
  for (k = 0; k < npairs; k += batch) {
    for (j = k; j < k + batch; j++)
      freefn(slot[pick[j]]);
    for (j = k; j < k + batch; j++)
      slot[pick[j]] = must(allocfn(size[j]));
  }
}

// The measured loop; not inlined so that callgrind can count it alone.
__attribute__((noinline)) void bench_pairs(const struct allocator *a, int npairs, int batch) {
  run_pairs(a, npairs, batch);
}

// The same, for rounds that only set the scene (--pairs).
__attribute__((noinline)) void warmup_pairs(const struct allocator *a, int npairs, int batch) {
  run_pairs(a, npairs, batch);
}

// One round: fill the working set, time npairs pairs (with loop, if
// not 0), empty it.
static double round_rate(const struct allocator *a, int npairs, int batch,
                         void (*loop)(const struct allocator *, int, int)) {
  double t0, t1;
  int k;
  for (k = 0; k < WORKSET; k++)
    slot[k] = must(a->alloc(fillsize[k]));
  t0 = now();
  (loop ? loop : bench_pairs)(a, npairs, batch);
  t1 = now();
  for (k = 0; k < WORKSET; k++)
    a->free(slot[k]);
  a->reset();
  return npairs / (t1 - t0);
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

// Median pairs per second of each allocator, for one workload.
// Median pairs per second of each allocator, for one workload, in
// median[0..1]; median[2] is the median of the rounds' ratios: each
// kmalloc round over the first-fit round next to it in time, so that a
// stretch of noise on the machine slows both sides of a ratio.
static void measure(unsigned int n, int rounds, int npairs, int batch, double median[3]) {
  double rate[2][15], ratio[15];
  int r, i;
  draw(n, npairs, batch);
  for (r = 0; r < rounds; r++) {
    for (i = 0; i < 2; i++) {
      int which = (r + i) % 2;  // ABBA order cancels drift
      rate[which][r] = round_rate(&allocators[which], npairs, batch, 0);
    }
    ratio[r] = rate[0][r] / rate[1][r];
  }
  qsort(ratio, rounds, sizeof(double), cmp_double);
  median[2] = ratio[rounds / 2];
  for (i = 0; i < 2; i++) {
    qsort(rate[i], rounds, sizeof(double), cmp_double);
    median[i] = rate[i][rounds / 2];
  }
}

static void throughput(int rounds, int npairs) {
  static const unsigned int sizes[] = { 16, 64, 256, 1024, 2048, 0 };
  double one[3], many[3];
  int s;

  printf("Throughput: million kmalloc+kmfree pairs per second (working set %d objects,\n"
         "%d pairs per round, median of %d rounds alternating between allocators;\n"
         "ratio: the median of the rounds' kmalloc/first-fit ratios)\n\n",
         WORKSET, npairs, rounds);
  printf("  size      one at a time                  in batches of %d\n", BATCH);
  printf("          kmalloc  first-fit   ratio      kmalloc  first-fit   ratio\n");
  for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
    measure(sizes[s], rounds, npairs, 1, one);
    measure(sizes[s], rounds, npairs, BATCH, many);
    if (sizes[s])
      printf("  %5u", sizes[s]);
    else
      printf("  mixed");
    printf("   %7.2f   %7.2f   %6.2fx     %7.2f   %7.2f   %6.2fx\n", one[0] / 1e6,
           one[1] / 1e6, one[2], many[0] / 1e6, many[1] / 1e6, many[2]);
  }
  printf("\n");
}

// ---- space ----------------------------------------------------------------

struct obj {
  void *p;
  unsigned int n;
};

static struct obj live[2][8000];

static void space_row(const char *what, const struct allocator *a, unsigned long req,
                      unsigned int pages) {
  printf("  %-26s %-10s %9lu %7u %9.1f%%\n", what, a->name, req, pages,
         pages ? 100.0 * req / (pages * 4096.0) : 0.0);
}

// Mixed sizes: grow to nlive objects, replace nchurn random ones, then
// free three quarters at random, then everything.
static void space_mixed(int nlive, int nchurn) {
  unsigned long req[2] = { 0, 0 };
  int n[2] = { 0, 0 }, i, k, a;
  unsigned int s0 = seed;

  printf("Space: bytes requested / bytes of pages held\n\n");
  printf("  %-26s %-10s %9s %7s %10s\n", "workload", "allocator", "requested", "pages",
         "efficiency");
  for (a = 0; a < 2; a++) {
    const struct allocator *al = &allocators[a];
    seed = s0;  // the same sequence for both
    for (k = 0; k < nlive; k++) {
      unsigned int sz = random_size();
      live[a][n[a]++] = (struct obj){ must(al->alloc(sz)), sz };
      req[a] += sz;
    }
    for (k = 0; k < nchurn; k++) {
      unsigned int sz = random_size();
      i = lcg() % n[a];
      al->free(live[a][i].p);
      req[a] -= live[a][i].n;
      live[a][i] = (struct obj){ must(al->alloc(sz)), sz };
      req[a] += sz;
    }
  }
  for (a = 0; a < 2; a++)
    space_row("mixed, steady state", &allocators[a], req[a], allocators[a].pages());
  for (a = 0; a < 2; a++) {
    seed = s0 + 1;
    while (n[a] > nlive / 4) {
      i = lcg() % n[a];
      allocators[a].free(live[a][i].p);
      req[a] -= live[a][i].n;
      live[a][i] = live[a][--n[a]];
    }
  }
  for (a = 0; a < 2; a++)
    space_row("mixed, 3/4 freed at random", &allocators[a], req[a], allocators[a].pages());
  for (a = 0; a < 2; a++) {
    while (n[a] > 0)
      allocators[a].free(live[a][--n[a]].p);
    space_row("mixed, all freed", &allocators[a], 0, allocators[a].pages());
    allocators[a].reset();
  }
}

// Pages of the size class that serves n-byte requests.
static unsigned int class_pages(unsigned int n) {
  struct kmstat st;
  unsigned int i;
  host_sys_kmstat(&st);
  for (i = 0; st.cls[i].size < n; i++)
    ;
  return st.cls[i].pages;
}

// One size only: nobj objects of n bytes. kmalloc's pages are those of
// the one class in use, not the idle pages of the others.
static void space_fixed(unsigned int n, int nobj) {
  char what[32];
  int a, k;
  snprintf(what, sizeof(what), "%d x %u bytes", nobj, n);
  for (a = 0; a < 2; a++) {
    for (k = 0; k < nobj; k++)
      live[a][k] = (struct obj){ must(allocators[a].alloc(n)), n };
    space_row(what, &allocators[a], (unsigned long)n * nobj,
              a == 0 ? class_pages(n) : allocators[a].pages());
    for (k = 0; k < nobj; k++)
      allocators[a].free(live[a][k].p);
    allocators[a].reset();
  }
}

static void space(int nlive) {
  static const unsigned int sizes[] = { 16, 64, 100, 256, 1000, 1024, 2000, 2048 };
  unsigned int i;
  space_mixed(nlive, nlive * 10);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    space_fixed(sizes[i], 1000);
  printf("\n  Pages held by kmalloc include at most 1 + CPUs pages per class with no\n"
         "  live object (not in the fixed-size rows); first-fit never gives a page back.\n");
}

static int usage(void) {
  fprintf(stderr, "usage: kmalloc_bench [--quick | --pairs kmalloc|firstfit|none SIZE N]\n");
  return 2;
}

int main(int argc, char **argv) {
  host_proc_set(host_proc_new(1));  // kmstat() reports to a process
  if (argc == 5 && strcmp(argv[1], "--pairs") == 0) {
    const struct allocator *a = strcmp(argv[2], "kmalloc") == 0    ? &allocators[0]
                                : strcmp(argv[2], "firstfit") == 0 ? &allocators[1]
                                : strcmp(argv[2], "none") == 0     ? &none
                                                                   : 0;
    int npairs = atoi(argv[4]);
    if (a == 0)
      return usage();
    if (npairs > MAXPAIRS)
      npairs = MAXPAIRS;
    draw(atoi(argv[3]), npairs, 1);
    round_rate(&allocators[0], npairs, 1, warmup_pairs);
    round_rate(&allocators[1], npairs, 1, warmup_pairs);
    round_rate(a, npairs, 1, 0);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--quick") == 0) {
    throughput(3, 19200);
    space(1000);
    return 0;
  }
  if (argc != 1)
    return usage();
  throughput(15, MAXPAIRS);
  space(6000);
  return 0;
}
