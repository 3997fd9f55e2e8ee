// Host unit test of xv6/kernel/kmalloc.c (run through kmhost.c): size
// boundaries, random and interleaved alloc/free with the contents checked,
// the object freed last handed out next, bad and double frees on the
// kernel path (panic) and the system call path (-1, nothing changes),
// quotas, release at exit, statistics, running out of pages, several
// threads at once (each a CPU, with hot objects of its own), the trace,
// every page back at the end, and writes after kmfree caught. After every
// case all slab and class invariants must hold.
//
//   ./kmalloc_test [-v]     prints PASS/FAIL per case, then "N passed, N failed"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "types.h"
#include "kmstat.h"
#include "kmhost.h"

static int verbose;
static char reason[512];

// Fail the current case with a reason (the first one counts).
#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      snprintf(reason, sizeof(reason), __VA_ARGS__);                  \
      return -1;                                                      \
    }                                                                 \
  } while (0)

// ---- helpers ----------------------------------------------------------------

// A seeded linear congruential generator, so every run is the same.
static unsigned int lcg(unsigned int *state) {
  *state = *state * 1103515245u + 12345u;
  return *state >> 8;
}

static void stat_now(struct kmstat *st) {
  if (host_sys_kmstat(st) != 0) {
    fprintf(stderr, "kmstat failed\n");
    exit(2);
  }
}

static int class_of_size(const struct kmstat *st, unsigned int n) {
  unsigned int i;
  for (i = 0; i < st->nclass; i++)
    if (n <= st->cls[i].size)
      return i;
  return -1;
}

// Fill or verify the n bytes of an object with a pattern from its tag.
static void fill(void *p, unsigned int n, unsigned int tag) {
  unsigned char *b = p;
  unsigned int i;
  for (i = 0; i < n; i++)
    b[i] = (unsigned char)(tag * 31 + i);
}

static int intact(const void *p, unsigned int n, unsigned int tag) {
  const unsigned char *b = p;
  unsigned int i;
  for (i = 0; i < n; i++)
    if (b[i] != (unsigned char)(tag * 31 + i))
      return 0;
  return 1;
}

// A request size: mostly small, as kernel objects are, sometimes large.
static unsigned int random_size(unsigned int *seed) {
  unsigned int r = lcg(seed) % 100;
  if (r < 50)
    return 1 + lcg(seed) % 64;
  if (r < 80)
    return 1 + lcg(seed) % 512;
  if (r < 95)
    return 1 + lcg(seed) % 2048;
  return 1 + lcg(seed) % KMALLOC_MAX;
}

static int invariants(void) {
  char why[200];
  CHECK(host_check(why, sizeof(why)) == 0, "invariant: %s", why);
  return 0;
}

// ---- cases ------------------------------------------------------------------

// Every class size and size+1, 1, the largest request, and those refused.
static int case_boundaries(void) {
  struct kmstat before, after;
  void *p[2 * KM_NCLASS + 2];
  unsigned int sizes[2 * KM_NCLASS + 2];
  int n = 0, i, c;

  stat_now(&before);
  CHECK(kmalloc(0) == 0, "kmalloc(0) is not 0");
  CHECK(kmalloc(KMALLOC_MAX + 1) == 0, "kmalloc(KMALLOC_MAX+1) is not 0");
  CHECK(kmalloc(0xFFFFFFFFu) == 0, "kmalloc(~0) is not 0");
  sizes[n++] = 1;
  sizes[n++] = KMALLOC_MAX;
  for (i = 0; i < KM_NCLASS; i++) {
    sizes[n++] = before.cls[i].size;
    if (i + 1 < KM_NCLASS)
      sizes[n++] = before.cls[i].size + 1;
  }
  for (i = 0; i < n; i++) {
    struct kmstat s0, s1;
    stat_now(&s0);
    p[i] = kmalloc(sizes[i]);
    stat_now(&s1);
    c = class_of_size(&s0, sizes[i]);
    CHECK(p[i] != 0, "kmalloc(%u) failed", sizes[i]);
    CHECK(((unsigned long)p[i] & 7) == 0, "kmalloc(%u) not 8-byte aligned", sizes[i]);
    CHECK(s1.cls[c].objects == s0.cls[c].objects + 1 &&
          s1.cls[c].bytes == s0.cls[c].bytes + sizes[i],
          "kmalloc(%u) not counted in class %d", sizes[i], c);
    CHECK(s1.objects == s0.objects + 1, "kmalloc(%u) moved other classes", sizes[i]);
    fill(p[i], sizes[i], i);
  }
  for (i = 0; i < n; i++) {
    CHECK(intact(p[i], sizes[i], i), "object of %u bytes overwritten", sizes[i]);
    kmfree(p[i]);
  }
  stat_now(&after);
  CHECK(after.objects == before.objects && after.bytes == before.bytes,
        "objects or bytes not back after freeing");
  return invariants();
}

// Objects per slab: the classes above 256 bytes hold 8, 6, 4, 3, 2 and 1
// object(s); every class fills at least 90% of the page.
static int case_layout(void) {
  static const unsigned int large[] = { 8, 6, 4, 3, 2, 1 };
  struct kmstat st;
  int i;
  stat_now(&st);
  CHECK(st.nclass == KM_NCLASS && st.maxsize == KMALLOC_MAX, "kmstat header");
  CHECK(st.cls[KM_NCLASS - 1].size == KMALLOC_MAX, "last class is not KMALLOC_MAX");
  for (i = 0; i < KM_NCLASS; i++) {
    struct kmclassstat *c = &st.cls[i];
    CHECK(c->perslab > 0, "class %d never set up", i);
    CHECK(c->perslab * c->size * 10 >= 4096 * 9, "class %u fills only %u bytes of a page",
          c->size, c->perslab * c->size);
    if (verbose)
      printf("# class %d: size %4u, %3u per slab, %4u bytes used of 4096\n", i, c->size,
             c->perslab, c->perslab * c->size);
  }
  for (i = 5; i < KM_NCLASS; i++)
    CHECK(st.cls[i].perslab == large[i - 5], "class %u: %u per slab, expected %u",
          st.cls[i].size, st.cls[i].perslab, large[i - 5]);
  return 0;
}

#define MAXLIVE 4000

struct live {
  void *p;
  unsigned int n, tag;
};
static struct live live[MAXLIVE];

// Random alloc/free with every object's contents checked at free, and the
// counters compared with what the test itself holds.
static int case_random(void) {
  unsigned int seed = 12345, nlive = 0, bytes = 0, tag = 0, i, step;
  struct kmstat base, st;

  stat_now(&base);
  for (step = 0; step < 300000; step++) {
    int grow = nlive == 0 || (nlive < MAXLIVE && lcg(&seed) % 100 < (step < 150000 ? 60 : 40));
    if (grow) {
      unsigned int n = random_size(&seed);
      void *p = kmalloc(n);
      CHECK(p != 0, "kmalloc(%u) failed with %u live", n, nlive);
      fill(p, n, ++tag);
      live[nlive++] = (struct live){ p, n, tag };
      bytes += n;
    } else {
      i = lcg(&seed) % nlive;
      CHECK(intact(live[i].p, live[i].n, live[i].tag), "object of %u bytes changed", live[i].n);
      kmfree(live[i].p);
      bytes -= live[i].n;
      live[i] = live[--nlive];
    }
    if (step % 10000 == 0) {
      stat_now(&st);
      CHECK(st.objects == base.objects + nlive && st.bytes == base.bytes + bytes,
            "counters: %u objects %u bytes, expected %u %u", st.objects - base.objects,
            st.bytes - base.bytes, nlive, bytes);
      if (invariants() < 0)
        return -1;
    }
  }
  while (nlive > 0) {
    i = lcg(&seed) % nlive;
    CHECK(intact(live[i].p, live[i].n, live[i].tag), "object changed");
    kmfree(live[i].p);
    live[i] = live[--nlive];
  }
  stat_now(&st);
  CHECK(st.objects == base.objects && st.bytes == base.bytes, "not back to zero");
  return invariants();
}

// Fixed patterns: LIFO, FIFO, every other one, and refilling the holes.
static int case_interleaved(void) {
  static void *p[1000];
  unsigned int sizes[] = { 16, 24, 100, 256, 300, 1000, 2000, 4000 };
  unsigned int k, i, n = 1000;

  for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    unsigned int sz = sizes[k];
    for (i = 0; i < n; i++) {
      CHECK((p[i] = kmalloc(sz)) != 0, "kmalloc(%u) failed", sz);
      fill(p[i], sz, i);
    }
    for (i = 0; i < n; i += 2)
      kmfree(p[i]);
    for (i = 0; i < n; i += 2)
      CHECK((p[i] = kmalloc(sz)) != 0, "refill kmalloc(%u) failed", sz);
    for (i = 0; i < n; i += 2)
      fill(p[i], sz, i);
    for (i = 0; i < n; i++)
      CHECK(intact(p[i], sz, i), "size %u: object %u changed", sz, i);
    for (i = 0; i < n; i++)  // FIFO
      kmfree(p[i]);
    for (i = 0; i < n; i++)
      CHECK((p[i] = kmalloc(sz)) != 0, "kmalloc(%u) failed", sz);
    for (i = n; i-- > 0;)    // LIFO
      kmfree(p[i]);
    if (invariants() < 0)
      return -1;
  }
  return 0;
}

// The object freed last in a class is the next one handed out, whatever
// its size within the class; kmstat counts it as free meanwhile.
static int case_lifo(void) {
  struct kmstat s0, s1, s2;
  char *p, *q, *r;
  int c;

  stat_now(&s0);
  c = class_of_size(&s0, 100);
  p = kmalloc(100);
  q = kmalloc(100);
  CHECK(p && q, "kmalloc(100) failed");
  kmfree(q);
  kmfree(p);
  stat_now(&s1);
  CHECK(s1.cls[c].objects == s0.cls[c].objects && s1.cls[c].bytes == s0.cls[c].bytes,
        "freed objects still counted");
  CHECK(s1.cls[c].allocs == s0.cls[c].allocs + 2 && s1.cls[c].frees == s0.cls[c].frees + 2,
        "allocs/frees did not move by 2");
  r = kmalloc(s0.cls[c].size);  // the same class, another size
  CHECK(r == p, "kmalloc did not hand out the object freed last");
  stat_now(&s2);
  CHECK(s2.cls[c].objects == s0.cls[c].objects + 1 &&
        s2.cls[c].bytes == s0.cls[c].bytes + s0.cls[c].size, "reused object counted wrong");
  if (invariants() < 0)
    return -1;
  r = kmalloc(100);
  CHECK(r == q, "the object freed before it is not next");
  kmfree(r);
  kmfree(p);
  return invariants();
}

static void kmfree_arg(void *p) { kmfree(p); }

// A bad kmfree changes nothing and, on the kernel path, panics.
static int expect_bad_free(void *p, int err, const char *what) {
  struct kmstat s0, s1;
  stat_now(&s0);
  CHECK(host_kmfree_checked(p) == err, "%s: km_free did not say %d", what, err);
  CHECK(host_try(kmfree_arg, p) == 1, "%s: kmfree did not panic", what);
  CHECK(strstr(host_panic_msg, "kmfree") != 0, "%s: panic message '%s'", what, host_panic_msg);
  if (verbose)
    printf("# %s: %s\n", what, host_panic_msg);
  stat_now(&s1);
  CHECK(memcmp(&s0, &s1, sizeof(s0)) == 0, "%s: statistics changed", what);
  return invariants();
}

static int case_bad_kernel_frees(void) {
  static char notheap[64];
  char onstack[64];
  void *page, *a, *b, *c;
  int err;

  a = kmalloc(100);
  b = kmalloc(100);
  c = kmalloc(3000);
  page = host_kalloc();  // a page that is not a slab
  CHECK(a && b && c && page, "setup");
  if (expect_bad_free(0, HOST_KM_NOTSLAB, "null") < 0 ||
      expect_bad_free(notheap + 8, HOST_KM_NOTSLAB, "global") < 0 ||
      expect_bad_free(onstack + 8, HOST_KM_NOTSLAB, "stack") < 0 ||
      expect_bad_free((char *)page + 64, HOST_KM_NOTSLAB, "non-slab page") < 0 ||
      expect_bad_free((char *)a + 8, HOST_KM_NOTOBJECT, "inside an object") < 0 ||
      expect_bad_free((char *)((unsigned long)a & ~4095ul), HOST_KM_NOTOBJECT,
                      "slab header") < 0 ||
      expect_bad_free((char *)c + 3500, HOST_KM_NOTOBJECT, "inside a large object") < 0)
    return -1;
  kmfree(b);
  if (expect_bad_free(b, HOST_KM_NOTLIVE, "double free") < 0)
    return -1;
  kmfree(c);  // its slab held only c: it is now cached (NOTLIVE) or gone (NOTSLAB)
  err = host_kmfree_checked(c);
  CHECK(err == HOST_KM_NOTLIVE || err == HOST_KM_NOTSLAB, "freed large object: %d", err);
  if (expect_bad_free(c, err, "freed large object") < 0)
    return -1;
  kmfree(a);
  host_kfree(page);
  return 0;
}

// System call path: anything but a live handle of the caller gives -1 and
// changes nothing.
static int case_user_bad_frees(void) {
  struct proc *me = host_proc_new(10), *other = host_proc_new(11);
  struct kmstat s0, s1;
  int mine, theirs, freed, i, e0;
  unsigned int seed = 777;
  int bad[] = { 0, -1, 1, 63, 64, 0x7FFFFFFF, (int)0x80000000, (int)0x80001000, 0x1000 };

  host_proc_set(other);
  theirs = host_sys_kmalloc(40);
  host_proc_set(me);
  mine = host_sys_kmalloc(40);
  freed = host_sys_kmalloc(40);
  CHECK(mine > 0 && theirs > 0 && freed > 0, "handles must be positive");
  CHECK(mine != theirs && mine != freed, "handles repeat");
  CHECK(host_sys_kmfree(freed) == 0, "kmfree of a live handle failed");
  stat_now(&s0);
  e0 = host_trace_syserrs();
  CHECK(host_sys_kmfree(freed) == -1, "double free through the system call");
  CHECK(host_sys_kmfree(theirs) == -1, "freed another process's handle");
  CHECK(host_sys_kmfree(mine ^ 64) == -1, "freed a handle with another serial");
  for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
    CHECK(bad[i] == mine || host_sys_kmfree(bad[i]) == -1, "kmfree(%#x) did not fail", bad[i]);
  for (i = 0; i < 10000; i++) {
    int h = (int)(lcg(&seed) * 2654435761u);
    CHECK(h == mine || host_sys_kmfree(h) == -1, "kmfree(%#x) did not fail", h);
  }
  stat_now(&s1);
  CHECK(memcmp(&s0, &s1, sizeof(s0)) == 0, "a failed kmfree changed the statistics");
  CHECK(host_trace_syserrs() > (unsigned)e0 || host_trace_events() == 0,
        "failed kmfree not traced");
  CHECK(host_sys_kmfree(mine) == 0, "own handle could not be freed");
  host_proc_set(other);
  CHECK(host_sys_kmfree(theirs) == 0, "the owner could not free its handle");
  host_proc_destroy(me);
  host_proc_destroy(other);
  return invariants();
}

static int case_user_sizes(void) {
  struct proc *me = host_proc_new(12);
  int h;
  host_proc_set(me);
  CHECK(host_sys_kmalloc(0) == 0, "kmalloc(0)");
  CHECK(host_sys_kmalloc(-1) == 0, "kmalloc(-1)");
  CHECK(host_sys_kmalloc((int)0x80000000) == 0, "kmalloc(INT_MIN)");
  CHECK(host_sys_kmalloc(KMALLOC_MAX + 1) == 0, "kmalloc(KMALLOC_MAX+1)");
  CHECK((h = host_sys_kmalloc(KMALLOC_MAX)) > 0, "kmalloc(KMALLOC_MAX)");
  CHECK(host_sys_kmfree(h) == 0, "kmfree");
  CHECK((h = host_sys_kmalloc(1)) > 0, "kmalloc(1)");
  CHECK(host_sys_kmfree(h) == 0, "kmfree");
  host_proc_destroy(me);
  return invariants();
}

static int case_quota(void) {
  struct proc *me = host_proc_new(13);
  static int h[KM_QUOTA_OBJECTS + 1];
  struct kmstat st;
  int i, n, big = KM_QUOTA_BYTES / KMALLOC_MAX, rest;

  host_proc_set(me);
  for (i = 0; i < KM_QUOTA_OBJECTS; i++)
    CHECK((h[i] = host_sys_kmalloc(16)) > 0, "allocation %d below the quota failed", i);
  CHECK(host_sys_kmalloc(16) == 0, "allocation past the object quota succeeded");
  CHECK(host_sys_kmfree(h[5]) == 0, "kmfree");
  CHECK((h[5] = host_sys_kmalloc(16)) > 0, "no allocation after a free");
  CHECK(host_sys_kmalloc(1) == 0, "quota not enforced again");
  for (i = 0; i < KM_QUOTA_OBJECTS; i++)
    CHECK(host_sys_kmfree(h[i]) == 0, "kmfree %d", i);
  // The byte quota: big largest objects, then exactly what remains.
  for (i = 0; i < big; i++)
    CHECK((h[i] = host_sys_kmalloc(KMALLOC_MAX)) > 0, "large allocation %d failed", i);
  rest = KM_QUOTA_BYTES - big * KMALLOC_MAX;
  CHECK(host_sys_kmalloc(rest + 1) == 0, "byte quota exceeded by one byte");
  CHECK((h[i++] = host_sys_kmalloc(rest)) > 0, "the last %d bytes of the quota refused", rest);
  CHECK(host_sys_kmalloc(1) == 0, "allocation past the byte quota");
  stat_now(&st);
  CHECK(st.myobjects == (unsigned)i && st.mybytes == KM_QUOTA_BYTES, "my counters %u %u",
        st.myobjects, st.mybytes);
  n = i;
  for (i = 0; i < n; i++)
    CHECK(host_sys_kmfree(h[i]) == 0, "kmfree %d", i);
  host_proc_destroy(me);
  return invariants();
}

// Whatever a process holds goes back when it exits, and its handle table
// is reused: NPROC processes in a row can each use the full quota.
static int case_exit_release(void) {
  struct kmstat s0, s1;
  unsigned int seed = 99;
  int round, i;

  stat_now(&s0);
  for (round = 0; round < 3 * 64; round++) {
    struct proc *p = host_proc_new(100 + round);
    host_proc_set(p);
    for (i = 0; i < 40; i++)
      CHECK(host_sys_kmalloc(1 + lcg(&seed) % 1000) > 0, "kmalloc in process %d", round);
    CHECK(host_proc_nhandles(p) == 40, "handle count");
    host_proc_destroy(p);
  }
  stat_now(&s1);
  CHECK(s1.objects == s0.objects && s1.bytes == s0.bytes, "exit left %d objects",
        (int)(s1.objects - s0.objects));
  return invariants();
}

// kmstat moves by exactly what was allocated, and rejects a bad pointer.
static int case_kmstat(void) {
  struct proc *me = host_proc_new(14);
  struct kmstat s0, s1, s2;
  int h1, h2, h3, c;

  host_proc_set(me);
  CHECK(host_sys_kmstat(0) == -1, "kmstat to a bad pointer");
  stat_now(&s0);
  h1 = host_sys_kmalloc(10);
  h2 = host_sys_kmalloc(300);
  h3 = host_sys_kmalloc(300);
  stat_now(&s1);
  CHECK(s1.objects == s0.objects + 3 && s1.bytes == s0.bytes + 610, "totals moved by %u, %u",
        s1.objects - s0.objects, s1.bytes - s0.bytes);
  c = class_of_size(&s0, 300);
  CHECK(s1.cls[c].objects == s0.cls[c].objects + 2 && s1.cls[c].bytes == s0.cls[c].bytes + 600,
        "class counters");
  CHECK(s1.cls[c].allocs == s0.cls[c].allocs + 2, "allocs");
  CHECK(s1.myobjects == 3 && s1.mybytes == 610, "my counters %u %u", s1.myobjects, s1.mybytes);
  host_sys_kmfree(h1);
  host_sys_kmfree(h2);
  host_sys_kmfree(h3);
  stat_now(&s2);
  CHECK(s2.objects == s0.objects && s2.bytes == s0.bytes && s2.myobjects == 0, "not back");
  CHECK(s2.cls[c].frees == s0.cls[c].frees + 2, "frees");
  host_proc_destroy(me);
  return invariants();
}

// Out of pages: kmalloc returns 0, never panics, and recovers.
static int case_out_of_memory(void) {
  static void *p[20000];
  struct proc *me = host_proc_new(15);
  unsigned int n = 0, i;

  host_proc_set(me);
  host_pages_limit(host_pages_used() + 20);
  while (n < 20000 && (p[n] = kmalloc(4000)) != 0)
    n++;
  CHECK(n < 20000, "kmalloc(4000) never ran out");
  CHECK(kmalloc(4000) == 0, "kmalloc(4000) without pages");
  CHECK(host_sys_kmalloc(4000) == 0, "system call without pages");
  while (n < 20000 && (p[n] = kmalloc(100)) != 0)
    n++;
  CHECK(n < 20000, "kmalloc(100) never ran out");
  for (i = 0; i < n; i++)
    kmfree(p[i]);
  host_pages_limit(0);
  CHECK((p[0] = kmalloc(4000)) != 0, "no recovery after pages came back");
  kmfree(p[0]);
  host_proc_destroy(me);
  return invariants();
}

// ---- several CPUs at once -----------------------------------------------------

#define NTHREADS 4

struct worker {
  int id;
  char why[200];
};

static void *worker_run(void *arg) {
  struct worker *w = arg;
  struct proc *p = host_proc_new(200 + w->id);
  static __thread struct live mine[256];
  int handles[KM_QUOTA_OBJECTS];
  unsigned int seed = 1000 + w->id, nmine = 0, nh = 0, step, i;

  host_proc_set(p);
  for (step = 0; step < 100000 && !w->why[0]; step++) {
    unsigned int r = lcg(&seed) % 100;
    if (r < 40 && nmine < 256) {
      unsigned int n = random_size(&seed);
      void *o = kmalloc(n);
      if (o == 0) {
        snprintf(w->why, sizeof(w->why), "kmalloc(%u) failed", n);
        break;
      }
      fill(o, n, step);
      mine[nmine++] = (struct live){ o, n, step };
    } else if (r < 80 && nmine > 0) {
      i = lcg(&seed) % nmine;
      if (!intact(mine[i].p, mine[i].n, mine[i].tag))
        snprintf(w->why, sizeof(w->why), "object of %u bytes changed", mine[i].n);
      kmfree(mine[i].p);
      mine[i] = mine[--nmine];
    } else if (r < 90 && nh < KM_QUOTA_OBJECTS / 2) {
      int h = host_sys_kmalloc(1 + lcg(&seed) % 1000);
      if (h <= 0)
        snprintf(w->why, sizeof(w->why), "kmalloc system call failed");
      handles[nh++] = h;
    } else if (nh > 0) {
      i = lcg(&seed) % nh;
      if (host_sys_kmfree(handles[i]) != 0 || host_sys_kmfree(handles[i]) != -1)
        snprintf(w->why, sizeof(w->why), "kmfree system call");
      handles[i] = handles[--nh];
    }
  }
  while (nmine > 0)
    kmfree(mine[--nmine].p);
  host_proc_destroy(p);  // releases the handles still held
  return 0;
}

static int case_threads(void) {
  pthread_t t[NTHREADS];
  struct worker w[NTHREADS];
  struct kmstat s0, s1;
  int i;

  stat_now(&s0);
  for (i = 0; i < NTHREADS; i++) {
    w[i].id = i;
    w[i].why[0] = 0;
    pthread_create(&t[i], 0, worker_run, &w[i]);
  }
  for (i = 0; i < NTHREADS; i++)
    pthread_join(t[i], 0);
  for (i = 0; i < NTHREADS; i++)
    CHECK(w[i].why[0] == 0, "thread %d: %s", i, w[i].why);
  stat_now(&s1);
  CHECK(s1.objects == s0.objects && s1.bytes == s0.bytes, "objects left: %d",
        (int)(s1.objects - s0.objects));
  return invariants();
}

// ---- hot objects are per CPU ---------------------------------------------------

static void *other_cpu_obj;

// On a CPU of its own: allocate and free one 4000-byte object, which
// stays that CPU's hot object, alone in its slab (one object per slab).
static void *other_cpu_run(void *arg) {
  (void)arg;
  other_cpu_obj = kmalloc(4000);
  if (other_cpu_obj)
    kmfree(other_cpu_obj);
  return 0;
}

// Another CPU's hot object counts as free, is not handed out here, and
// freeing it again is a double free; its slab is an idle page.
static int case_other_cpu_hot(void) {
  struct kmstat s0, s1;
  pthread_t t;
  void *mine, *again;
  int c;

  stat_now(&s0);
  c = class_of_size(&s0, 4000);
  mine = kmalloc(4000);  // takes this CPU's hot object of the class, if any
  CHECK(mine != 0, "kmalloc(4000)");
  pthread_create(&t, 0, other_cpu_run, 0);
  pthread_join(t, 0);
  CHECK(other_cpu_obj != 0 && other_cpu_obj != mine, "the other CPU's kmalloc(4000)");
  stat_now(&s1);
  CHECK(s1.cls[c].objects == s0.cls[c].objects + 1 && s1.cls[c].bytes == s0.cls[c].bytes + 4000,
        "the other CPU's hot object is counted as live");
  CHECK(s1.cls[c].emptypages >= 1 && s1.cls[c].emptypages <= host_cpus() + 1,
        "%u idle pages with %u CPUs", s1.cls[c].emptypages, host_cpus());
  if (expect_bad_free(other_cpu_obj, HOST_KM_NOTLIVE, "another CPU's hot object") < 0)
    return -1;
  again = kmalloc(4000);
  CHECK(again != other_cpu_obj, "another CPU's hot object handed out here");
  kmfree(again);
  kmfree(mine);
  return invariants();
}

static int case_trace(void) {
  CHECK(host_trace_events() > 0, "no kmalloc/kmfree events seen");
  CHECK(host_trace_problems() == 0, "%u trace problems, first: %s", host_trace_problems(),
        host_trace_problem());
  return 0;
}

// Nothing live, and every page kmalloc took is back but the idle ones: at
// most one cached empty slab per class, and one per class and CPU that
// holds nothing but that CPU's hot object.
static int case_all_pages_back(void) {
  struct kmstat st;
  unsigned int objects, bytes, pages, i;
  stat_now(&st);
  kmalloc_totals(&objects, &bytes, &pages);
  CHECK(st.objects == 0 && st.bytes == 0 && objects == 0 && bytes == 0, "objects still live");
  CHECK(pages == st.pages && pages == host_empty_slabs() &&
        pages <= (host_cpus() + 1) * KM_NCLASS,
        "kmalloc holds %u pages, %u of them idle, with %u CPUs", pages, host_empty_slabs(),
        host_cpus());
  for (i = 0; i < KM_NCLASS; i++)
    CHECK(st.cls[i].emptypages == st.cls[i].pages && st.cls[i].pages <= host_cpus() + 1,
          "class %u holds %u pages, %u of them idle", i, st.cls[i].pages,
          st.cls[i].emptypages);
  CHECK(host_pages_used() == pages, "%u pages in use, kmalloc holds %u", host_pages_used(),
        pages);
  return invariants();
}

// A write after kmfree to a free object's first bytes breaks what the
// allocator keeps there: the hot object's mark, or a link of its slab's
// free list. kmalloc must notice when it reaches them, and panic. Run in
// a child: the panic leaves a lock held.
static void alloc_200(void *arg) { (void)arg; kmalloc(200); }

static int corrupted_in_child(int slab_list) {
  pid_t pid = fork();
  int status;
  if (pid == 0) {
    char *keep = kmalloc(200), *p = kmalloc(200), *q = kmalloc(200);
    kmfree(p);  // keep holds the slab: p's memory stays a slab's
    if (slab_list) {
      kmfree(q);            // q is the hot object now, p back on its slab's list
      memset(p, 0x5A, 2);
      kmalloc(200);         // q
      kmalloc(200);         // p, whose broken link is now the list head
    } else {
      memset(p, 0x5A, 2);   // p is the hot object
    }
    _exit(keep && host_try(alloc_200, 0) && strstr(host_panic_msg, "corrupted") ? 0 : 1);
  }
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int case_write_after_free(void) {
  CHECK(corrupted_in_child(0), "write to the hot object after kmfree not detected");
  CHECK(corrupted_in_child(1), "broken slab free list not detected");
  return 0;
}

// ---- driver -----------------------------------------------------------------

static const struct {
  const char *name;
  int (*fn)(void);
} cases[] = {
  { "boundaries", case_boundaries },
  { "layout", case_layout },
  { "random", case_random },
  { "interleaved", case_interleaved },
  { "lifo", case_lifo },
  { "bad_kernel_frees", case_bad_kernel_frees },
  { "user_bad_frees", case_user_bad_frees },
  { "user_sizes", case_user_sizes },
  { "quota", case_quota },
  { "exit_release", case_exit_release },
  { "kmstat", case_kmstat },
  { "out_of_memory", case_out_of_memory },
  { "threads", case_threads },
  { "other_cpu_hot", case_other_cpu_hot },
  { "trace", case_trace },
  { "all_pages_back", case_all_pages_back },
  { "write_after_free", case_write_after_free },
};

int main(int argc, char **argv) {
  struct proc *init;
  int i, passed = 0, failed = 0, n = sizeof(cases) / sizeof(cases[0]);

  verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  host_trace(1);
  init = host_proc_new(1);  // kmstat needs a current process
  host_proc_set(init);
  for (i = 0; i < n; i++) {
    reason[0] = 0;
    host_proc_set(init);
    if (cases[i].fn() == 0) {
      printf("PASS %s\n", cases[i].name);
      passed++;
    } else {
      printf("FAIL %s: %s\n", cases[i].name, reason);
      failed++;
    }
    fflush(stdout);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
