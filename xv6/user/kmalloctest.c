// kmalloctest: in-guest tests of the kmalloc, kmfree and kmstat system
// calls (the contract is in docs/kmalloc.md).
//
// Output, parsed by the host harness:
//   BEGIN kmalloctest N        N = number of cases
//   PASS name | FAIL name: why one line per case
//   END kmalloctest
// The last case checks that the whole run gave back every page and
// kmalloc object it used.
#include "types.h"
#include "sysinfo.h"
#include "kmstat.h"
#include "user.h"

#define NCHILDREN 4     // processes hammering kmalloc at once
#define SMP_STEPS 1500  // operations each of them does

static char *why;       // the failing case's reason
static int whyval;      // and a number that goes with it

#define CHECK(cond, reason, val) \
  do {                           \
    if (!(cond)) {               \
      why = (reason);            \
      whyval = (int)(val);       \
      return -1;                 \
    }                            \
  } while (0)

// ---- helpers ----------------------------------------------------------------

static uint seed = 1;

// A seeded linear congruential generator: every run is the same.
static uint rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

static struct kmstat st0, st1;  // static: the user stack is one page

static int kst(struct kmstat *st) {
  return kmstat(st);
}

static int class_of(struct kmstat *st, int n) {
  int i;
  for (i = 0; i < (int)st->nclass; i++)
    if (n <= (int)st->cls[i].size)
      return i;
  return -1;
}

// A request size from 1 to max, mostly small.
static int random_size(int max) {
  int n;
  switch (rnd() % 4) {
  case 0: n = 1 + rnd() % 32; break;
  case 1: n = 1 + rnd() % 256; break;
  case 2: n = 1 + rnd() % 1024; break;
  default: n = 1 + rnd() % KMALLOC_MAX; break;
  }
  return n <= max ? n : 1 + (n - 1) % max;
}

// Handles as numbers: 0 means failure; a good one is positive.
static int km(int n) {
  return (int)kmalloc(n);
}

static int kf(int h) {
  return kmfree((void *)h);
}

// A process's live handles and their sizes, for the random cases.
struct held {
  int h[KM_QUOTA_OBJECTS];
  int n[KM_QUOTA_OBJECTS];
  int count;
  int bytes;
};

// One random step: allocate (if the quota allows) or free a random handle.
// Returns 0, or -1 if a system call did not do what it should.
static int random_step(struct held *s) {
  int i, n, h;
  if (s->count < KM_QUOTA_OBJECTS && (s->count == 0 || rnd() % 2)) {
    n = random_size(KM_QUOTA_BYTES - s->bytes > 0 ? KM_QUOTA_BYTES - s->bytes : 1);
    h = km(n);
    if (s->bytes + n > KM_QUOTA_BYTES)
      return h == 0 ? 0 : -1;
    if (h <= 0)
      return -1;
    s->h[s->count] = h;
    s->n[s->count++] = n;
    s->bytes += n;
    return 0;
  }
  i = rnd() % s->count;
  if (kf(s->h[i]) != 0)
    return -1;
  s->bytes -= s->n[i];
  s->count--;
  s->h[i] = s->h[s->count];
  s->n[i] = s->n[s->count];
  return 0;
}

static int free_all(struct held *s) {
  while (s->count > 0)
    if (kf(s->h[--s->count]) != 0)
      return -1;
  s->bytes = 0;
  return 0;
}

// ---- cases ------------------------------------------------------------------

// 1, every class size and size+1, the largest size: each lands in the
// right class; 0, negative and too large sizes give 0.
static int case_sizes(void) {
  int i, c, h, k, n;
  int sizes[2 * KM_NCLASS + 1];

  CHECK(kst(&st0) == 0, "kmstat failed", 0);
  CHECK(st0.nclass == KM_NCLASS && st0.maxsize == KMALLOC_MAX, "kmstat header", st0.nclass);
  k = 0;
  sizes[k++] = 1;
  for (i = 0; i < KM_NCLASS; i++) {
    sizes[k++] = st0.cls[i].size;
    if (i + 1 < KM_NCLASS)
      sizes[k++] = st0.cls[i].size + 1;
  }
  for (i = 0; i < k; i++) {
    n = sizes[i];
    c = class_of(&st0, n);
    kst(&st0);
    h = km(n);
    kst(&st1);
    CHECK(h > 0, "kmalloc failed for size", n);
    CHECK(st1.cls[c].objects == st0.cls[c].objects + 1, "not counted in its class, size", n);
    CHECK(st1.cls[c].bytes == st0.cls[c].bytes + n, "bytes not counted, size", n);
    CHECK(st1.objects == st0.objects + 1, "other classes moved, size", n);
    CHECK(kf(h) == 0, "kmfree failed for size", n);
  }
  CHECK(st0.cls[KM_NCLASS - 1].size == KMALLOC_MAX, "last class is not the largest size", 0);
  CHECK(km(KMALLOC_MAX + 1) == 0, "kmalloc(max+1) succeeded", KMALLOC_MAX + 1);
  CHECK(km(0) == 0, "kmalloc(0) succeeded", 0);
  CHECK(km(-1) == 0, "kmalloc(-1) succeeded", -1);
  CHECK(km(-4096) == 0, "kmalloc(-4096) succeeded", -4096);
  CHECK(km(0x7FFFFFFF) == 0, "kmalloc(INT_MAX) succeeded", 0);
  return 0;
}

// Many objects: the whole object quota, twenty times over; handles are
// positive and distinct.
static int case_many(void) {
  static int h[KM_QUOTA_OBJECTS];
  int round, i, j;
  for (round = 0; round < 20; round++) {
    for (i = 0; i < KM_QUOTA_OBJECTS; i++) {
      h[i] = km(1 + (round * 7 + i * 13) % 900);
      CHECK(h[i] > 0, "kmalloc failed at object", i);
      for (j = 0; j < i; j++)
        CHECK(h[j] != h[i], "handle given out twice", h[i]);
    }
    kst(&st1);
    CHECK(st1.myobjects == KM_QUOTA_OBJECTS, "kmstat myobjects", st1.myobjects);
    for (i = 0; i < KM_QUOTA_OBJECTS; i++)
      CHECK(kf(h[i]) == 0, "kmfree failed at object", i);
  }
  return 0;
}

// Fixed interleavings: free every other one, refill, FIFO and LIFO.
static int case_interleaved(void) {
  static int h[48];
  int i, n = 48;
  for (i = 0; i < n; i++)
    CHECK((h[i] = km(16 + i * 40)) > 0, "kmalloc", i);
  for (i = 0; i < n; i += 2)
    CHECK(kf(h[i]) == 0, "kmfree of every other one", i);
  for (i = 0; i < n; i += 2)
    CHECK((h[i] = km(1000 - i * 10)) > 0, "refill", i);
  for (i = 0; i < n; i++)
    CHECK(kf(h[i]) == 0, "FIFO kmfree", i);
  for (i = 0; i < n; i++)
    CHECK((h[i] = km(1 + i)) > 0, "kmalloc", i);
  for (i = n - 1; i >= 0; i--)
    CHECK(kf(h[i]) == 0, "LIFO kmfree", i);
  kst(&st1);
  CHECK(st1.myobjects == 0 && st1.mybytes == 0, "objects left", st1.myobjects);
  return 0;
}

// Random sizes, frees in random order; kmstat agrees with what we hold.
static int case_random_order(void) {
  static struct held s;
  int step;
  seed = 4242;
  s.count = s.bytes = 0;
  for (step = 0; step < 3000; step++) {
    CHECK(random_step(&s) == 0, "system call failed at step", step);
    if (step % 100 == 0) {
      kst(&st1);
      CHECK(st1.myobjects == (uint)s.count, "kmstat myobjects differs at step", step);
      CHECK(st1.mybytes == (uint)s.bytes, "kmstat mybytes differs at step", step);
    }
  }
  CHECK(free_all(&s) == 0, "kmfree failed", 0);
  return 0;
}

// NCHILDREN processes at once, all sizes, on every CPU. Each child
// reports one byte: 'P' or 'F'.
static int case_smp(void) {
  static struct held s;
  int fds[2], i, pid, passed = 0;
  char c;

  kst(&st0);
  CHECK(pipe(fds) == 0, "pipe", 0);
  for (i = 0; i < NCHILDREN; i++) {
    pid = fork();
    CHECK(pid >= 0, "fork", i);
    if (pid == 0) {
      int step, ok = 1;
      close(fds[0]);
      seed = 1000 + i;
      s.count = s.bytes = 0;
      for (step = 0; step < SMP_STEPS && ok; step++)
        ok = random_step(&s) == 0;
      ok = ok && free_all(&s) == 0;
      write(fds[1], ok ? "P" : "F", 1);
      exit();
    }
  }
  close(fds[1]);
  while (read(fds[0], &c, 1) == 1)
    passed += c == 'P';
  close(fds[0]);
  for (i = 0; i < NCHILDREN; i++)
    wait();
  CHECK(passed == NCHILDREN, "children failed", NCHILDREN - passed);
  kst(&st1);
  CHECK(st1.objects == st0.objects && st1.bytes == st0.bytes, "objects left behind",
        st1.objects - st0.objects);
  return 0;
}

static int bad_free_ok(int h) {
  return kf(h) == -1;
}

// Anything but a live handle of this process: -1, and nothing changes.
static int case_bad_frees(void) {
  static int global;
  int local, mine, freed, theirs, i, fds[2], back[2], pid, r;
  char c;
  int bad[] = { 0, -1, 1, 63, 64, 0x1000, (int)0x80000000, (int)0x80100000,
                (int)0xFFFFFFFF, 0x7FFFFFFF, (int)&local, (int)&global,
                (int)&case_bad_frees, (int)sbrk(0) };

  mine = km(100);
  freed = km(100);
  CHECK(mine > 0 && freed > 0, "kmalloc", 0);
  CHECK(kf(freed) == 0, "kmfree", freed);
  kst(&st0);
  CHECK(bad_free_ok(freed), "double free accepted", freed);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK(bad[i] == mine || bad_free_ok(bad[i]), "bad handle accepted", bad[i]);
  seed = 99;
  for (i = 0; i < 2000; i++) {
    int h = (int)(rnd() * 2654435761u);
    CHECK(h == mine || bad_free_ok(h), "random handle accepted", h);
  }
  kst(&st1);
  CHECK(st1.objects == st0.objects && st1.bytes == st0.bytes && st1.myobjects == 1,
        "a failed kmfree changed something", st1.objects - st0.objects);

  // Another process's handle, passed through a pipe, is refused here; the
  // owner can still free it.
  CHECK(pipe(fds) == 0 && pipe(back) == 0, "pipe", 0);
  pid = fork();
  CHECK(pid >= 0, "fork", 0);
  if (pid == 0) {
    int h = km(200);
    close(fds[0]);
    close(back[1]);
    write(fds[1], &h, sizeof(h));
    read(back[0], &c, 1);  // the parent has tried to free h
    r = kf(h) == 0 && kf(mine) == -1;  // and the parent's is not ours
    write(fds[1], r ? "P" : "F", 1);
    exit();
  }
  close(fds[1]);
  close(back[0]);
  r = read(fds[0], &theirs, sizeof(theirs));
  CHECK(r == sizeof(theirs) && theirs > 0, "child's kmalloc", theirs);
  r = kf(theirs);
  write(back[1], "x", 1);
  c = 0;
  read(fds[0], &c, 1);
  close(fds[0]);
  close(back[1]);
  wait();
  CHECK(r == -1, "freed another process's handle", theirs);
  CHECK(c == 'P', "the owner could not free its handle, or freed ours", 0);
  CHECK(kf(theirs) == -1, "freed an exited process's handle", theirs);
  CHECK(kf(mine) == 0, "own handle refused after all that", mine);
  return 0;
}

// At the quota kmalloc gives 0; a free makes room again.
static int case_quota(void) {
  static int h[KM_QUOTA_OBJECTS + 1];
  int i, n, big = KM_QUOTA_BYTES / KMALLOC_MAX, rest;

  for (i = 0; i < KM_QUOTA_OBJECTS; i++)
    CHECK((h[i] = km(8)) > 0, "kmalloc below the object quota", i);
  CHECK(km(8) == 0, "kmalloc past the object quota", KM_QUOTA_OBJECTS);
  CHECK(kf(h[7]) == 0, "kmfree", h[7]);
  CHECK((h[7] = km(8)) > 0, "no room after a free", 0);
  CHECK(km(1) == 0, "quota not enforced again", 0);
  for (i = 0; i < KM_QUOTA_OBJECTS; i++)
    CHECK(kf(h[i]) == 0, "kmfree", i);

  for (i = 0; i < big; i++)
    CHECK((h[i] = km(KMALLOC_MAX)) > 0, "large kmalloc below the byte quota", i);
  rest = KM_QUOTA_BYTES - big * KMALLOC_MAX;
  CHECK(km(rest + 1) == 0, "byte quota exceeded by one byte", rest + 1);
  CHECK((h[i++] = km(rest)) > 0, "the last bytes of the quota refused", rest);
  CHECK(km(1) == 0, "kmalloc past the byte quota", 1);
  kst(&st1);
  CHECK(st1.mybytes == KM_QUOTA_BYTES, "kmstat mybytes", st1.mybytes);
  n = i;
  for (i = 0; i < n; i++)
    CHECK(kf(h[i]) == 0, "kmfree", i);
  CHECK((h[0] = km(KMALLOC_MAX)) > 0 && kf(h[0]) == 0, "no room after freeing", 0);
  return 0;
}

// A child that exits without freeing gives everything back.
static int case_exit_release(void) {
  struct sysinfo a, b;
  int pid, i;

  sysinfo(&a);
  pid = fork();
  CHECK(pid >= 0, "fork", 0);
  if (pid == 0) {
    for (i = 0; i < 40; i++)
      km(1 + i * 100);
    exit();
  }
  wait();
  sysinfo(&b);
  CHECK(b.kmalloc_objects == a.kmalloc_objects, "objects left after exit",
        b.kmalloc_objects - a.kmalloc_objects);
  CHECK(b.kmalloc_bytes == a.kmalloc_bytes, "bytes left after exit",
        b.kmalloc_bytes - a.kmalloc_bytes);
  CHECK(b.freepages + b.kmalloc_pages == a.freepages + a.kmalloc_pages, "pages lost",
        (int)(a.freepages + a.kmalloc_pages) - (int)(b.freepages + b.kmalloc_pages));
  return 0;
}

// kmstat moves by exactly what was allocated; a bad pointer gives -1.
static int case_kmstat(void) {
  int h1, h2, h3, c;
  // (Address 0 is this program's text, writable: not a bad pointer here.)
  CHECK(kmstat((struct kmstat *)0x80000000) == -1, "kmstat(kernel address) succeeded", 0);
  CHECK(kmstat((struct kmstat *)(0x80000000 - 16)) == -1, "kmstat into the kernel", 0);
  CHECK(kmstat((struct kmstat *)0xFFFFFF00) == -1, "kmstat(0xFFFFFF00) succeeded", 0);
  kst(&st0);
  h1 = km(10);
  h2 = km(300);
  h3 = km(300);
  kst(&st1);
  CHECK(h1 > 0 && h2 > 0 && h3 > 0, "kmalloc", 0);
  CHECK(st1.objects == st0.objects + 3, "objects moved by", st1.objects - st0.objects);
  CHECK(st1.bytes == st0.bytes + 610, "bytes moved by", st1.bytes - st0.bytes);
  CHECK(st1.myobjects == st0.myobjects + 3 && st1.mybytes == st0.mybytes + 610,
        "my counters", st1.mybytes);
  c = class_of(&st0, 300);
  CHECK(st1.cls[c].objects == st0.cls[c].objects + 2, "class objects", st1.cls[c].objects);
  CHECK(st1.cls[c].allocs == st0.cls[c].allocs + 2, "class allocs", st1.cls[c].allocs);
  CHECK(st1.pages >= st1.cls[c].pages && st1.cls[c].pages > 0, "class pages", 0);
  CHECK(kf(h1) == 0 && kf(h2) == 0 && kf(h3) == 0, "kmfree", 0);
  kst(&st1);
  CHECK(st1.objects == st0.objects && st1.bytes == st0.bytes, "not back after kmfree", 0);
  CHECK(st1.cls[c].frees == st0.cls[c].frees + 2, "class frees", st1.cls[c].frees);
  return 0;
}

static struct sysinfo start;

// Everything the run used is back: kmalloc objects and bytes, and pages
// (kmalloc may keep idle pages: per class one empty slab, and one for
// each CPU whose hot object is all its slab holds; they count as
// kmalloc's).
static int case_no_leaks(void) {
  struct sysinfo now;
  sysinfo(&now);
  CHECK(now.kmalloc_objects == start.kmalloc_objects, "kmalloc objects leaked",
        now.kmalloc_objects - start.kmalloc_objects);
  CHECK(now.kmalloc_bytes == start.kmalloc_bytes, "kmalloc bytes leaked",
        now.kmalloc_bytes - start.kmalloc_bytes);
  CHECK(now.freepages + now.kmalloc_pages == start.freepages + start.kmalloc_pages,
        "pages leaked", (int)(start.freepages + start.kmalloc_pages) -
                        (int)(now.freepages + now.kmalloc_pages));
  CHECK(now.freepages + (now.ncpu + 1) * KM_NCLASS >= start.freepages,
        "kmalloc keeps too many idle pages", start.freepages - now.freepages);
  kst(&st1);
  CHECK(st1.myobjects == 0, "this process still holds objects", st1.myobjects);
  return 0;
}

static struct {
  char *name;
  int (*fn)(void);
} cases[] = {
  { "sizes", case_sizes },
  { "many", case_many },
  { "interleaved", case_interleaved },
  { "random_order", case_random_order },
  { "smp", case_smp },
  { "bad_frees", case_bad_frees },
  { "quota", case_quota },
  { "exit_release", case_exit_release },
  { "kmstat", case_kmstat },
  { "no_leaks", case_no_leaks },
};

int main(void) {
  int i, n = sizeof(cases) / sizeof(cases[0]);

  sysinfo(&start);
  printf(1, "BEGIN kmalloctest %d\n", n);
  for (i = 0; i < n; i++) {
    why = 0;
    if (cases[i].fn() == 0)
      printf(1, "PASS %s\n", cases[i].name);
    else
      printf(1, "FAIL %s: %s (%d)\n", cases[i].name, why, whyval);
  }
  printf(1, "END kmalloctest\n");
  exit();
}
