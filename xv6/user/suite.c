// suite: run a test program's cases one by one, each in its own child,
// and print one PASS or FAIL line per case (protocol in suite.h).
#include "types.h"
#include "sysinfo.h"
#include "mman.h"
#include "user.h"
#include "suite.h"

#define SETTLE_TICKS 300  // ticks to wait for a case's orphans to be reaped

// ---- reporting, usable in a case and in every process it forks -------

static int result_fd = -1;  // write end of the pipe to the runner

// The whole line goes out in a single write(), so lines from several
// processes of one case do not mix.
void fail(const char *fmt, ...) {
  static char line[128];
  __builtin_va_list ap;
  uint arg[4] = {0, 0, 0, 0};
  int len = strlen(fmt), i, nargs = 0;
  if (len > sizeof(line) - 4)
    len = sizeof(line) - 4;
  line[0] = 'F';
  line[1] = ' ';
  memmove(line + 2, fmt, len);
  line[len + 2] = '\n';
  line[len + 3] = 0;
  // Fetch exactly as many arguments as fmt converts.
  __builtin_va_start(ap, fmt);
  for (i = 0; i < len && nargs < 4; i++) {
    if (fmt[i] == '%' && fmt[i + 1] == '%')
      i++;
    else if (fmt[i] == '%')
      arg[nargs++] = __builtin_va_arg(ap, uint);
  }
  __builtin_va_end(ap);
  printf(result_fd, line, arg[0], arg[1], arg[2], arg[3]);
  exit();
}

// ---- one case ------------------------------------------------------------

// Give the case its own copy of every page of its text, data, stack and
// heap now, before it starts: fork shares them copy-on-write with the
// runner, and a case that counts free pages must not see them copied as
// it goes.
static void own_pages(void) {
  struct mapinfo m[4];
  volatile char *a;
  int i, n = getmaps(0, m, 4);
  for (i = 0; i < n; i++) {
    if (m[i].kind == MAPKIND_GUARD || m[i].kind == MAPKIND_REGION)
      continue;
    for (a = (volatile char *)m[i].start; a < (volatile char *)m[i].end; a += 4096) {
      if (a != 0)  // page 0 is text the case never writes
        *a = *a;
    }
  }
}


// Read one line from fd into line (max bytes with the NUL; a longer line
// is cut short), without its newline. Returns 1, or 0 at the end of the
// stream (a last line without a newline is dropped).
int read_line(int fd, char *line, int max) {
  int len = 0;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c == '\n') {
      line[len] = 0;
      return 1;
    }
    if (len < max - 1)
      line[len++] = c;
  }
  return 0;
}

// What came back through the result pipe.
struct verdict {
  int passed;        // saw "P"
  char reason[100];  // first "F" reason, empty if none
};

// Read result lines up to the "E" line the runner itself wrote last.
static void read_results(int fd, struct verdict *v) {
  static char line[128];
  v->passed = 0;
  v->reason[0] = 0;
  while (read_line(fd, line, sizeof(line))) {
    if (strcmp(line, "E") == 0)
      return;
    if (strcmp(line, "P") == 0)
      v->passed = 1;
    else if (line[0] == 'F' && v->reason[0] == 0) {
      memmove(v->reason, line + 2, sizeof(v->reason) - 1);
      v->reason[sizeof(v->reason) - 1] = 0;
    }
  }
}

// Run fn in a child next to a watchdog child that sleeps timeout ticks;
// whichever exits first decides, the other is killed. Returns 1 if the
// case timed out. The watchdog is forked first so that nothing the
// runner allocates shows up in the case's own memory counts.
static int run_child(void (*fn)(void), int timeout, int p[2]) {
  int pid, watchdog, first;
  watchdog = fork();
  if (watchdog == 0) {
    sleep(timeout);
    exit();
  }
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    result_fd = p[1];
    own_pages();
    fn();
    printf(result_fd, "P\n");
    exit();
  }
  if (pid < 0)
    printf(p[1], "F runner: fork failed\n");
  first = (watchdog < 0 || pid < 0) ? pid : wait();
  if (watchdog > 0)
    kill(first == pid ? watchdog : pid);
  while (wait() >= 0)
    ;
  return watchdog > 0 && first == watchdog;
}

// Wait up to SETTLE_TICKS for the process count to fall back to nproc
// (orphans are reaped by init, not by us); returns how many are left over.
static int settle(int nproc) {
  struct sysinfo si;
  int t;
  for (t = 0;; t++) {
    sysinfo(&si);
    if (si.nproc <= nproc || t == SETTLE_TICKS)
      return si.nproc - nproc;
    sleep(1);
  }
}

// Run one case and print its PASS or FAIL line; returns 1 if it passed.
int run_case(struct suite *s, char *name, void (*fn)(void)) {
  struct sysinfo before, after;
  struct verdict v;
  int p[2], timed_out, left, pages, objects;

  sysinfo(&before);
  if (pipe(p) < 0) {
    printf(1, "FAIL %s: runner: pipe failed\n", name);
    return 0;
  }
  timed_out = run_child(fn, s->timeout, p);
  write(p[1], "E\n", 2);
  read_results(p[0], &v);
  close(p[0]);
  close(p[1]);
  left = settle(before.nproc);
  sysinfo(&after);

  // Pages the kmalloc allocator keeps for later use are not a leak; lost
  // kmalloc objects are caught by their own count.
  pages = (int)(before.freepages + before.kmalloc_pages) -
          (int)(after.freepages + after.kmalloc_pages);
  objects = (int)after.kmalloc_objects - (int)before.kmalloc_objects;

  if (timed_out)
    printf(1, "FAIL %s: timed out after %d ticks\n", name, s->timeout);
  else if (v.reason[0])
    printf(1, "FAIL %s: %s\n", name, v.reason);
  else if (!v.passed)
    printf(1, "FAIL %s: exited without a result (crashed?)\n", name);
  else if (left > 0)
    printf(1, "FAIL %s: left %d processes running\n", name, left);
  else if (pages != 0 || objects != 0)
    printf(1, "FAIL %s: leaked %d pages, %d kmalloc objects\n", name, pages, objects);
  else {
    printf(1, "PASS %s\n", name);
    return 1;
  }
  return 0;
}

// ---- the suite -----------------------------------------------------------

// If arg is "key...", return what follows key (key ends in '='), else 0.
char *suite_option(char *arg, char *key) {
  while (*key)
    if (*arg++ != *key++)
      return 0;
  return arg;
}

// How many cases run_named will run for these arguments.
int suite_count(struct suite *s, int argc) {
  return argc > 1 ? argc - 1 : s->ncases;
}

void suite_begin(struct suite *s, int ncases) {
  printf(1, "BEGIN %s %d\n", s->name, ncases);
}

void suite_end(struct suite *s) {
  printf(1, "END %s\n", s->name);
}

// Run the cases argv names, in order, or every case if it names none.
// Returns how many failed.
int run_named(struct suite *s, int argc, char **argv) {
  int i, j, failed = 0;
  for (i = 1; i < argc; i++) {
    for (j = 0; j < s->ncases && strcmp(s->cases[j].name, argv[i]) != 0; j++)
      ;
    if (j < s->ncases)
      failed += !run_case(s, s->cases[j].name, s->cases[j].run);
    else {
      printf(1, "FAIL %s: no such case\n", argv[i]);
      failed++;
    }
  }
  if (argc <= 1)
    for (j = 0; j < s->ncases; j++)
      failed += !run_case(s, s->cases[j].name, s->cases[j].run);
  return failed;
}

// BEGIN, the cases argv names (or all), END. Returns how many failed.
int run_suite(struct suite *s, int argc, char **argv) {
  int failed;
  suite_begin(s, suite_count(s, argc));
  failed = run_named(s, argc, argv);
  suite_end(s);
  return failed;
}

// ---- helpers for cases -------------------------------------------------

int xfork(void) {
  int pid = fork();
  check(pid >= 0, "fork failed");
  return pid;
}

void xwait(int pid) {
  int w = wait();
  check(w == pid, "wait returned %d, expected %d", w, pid);
}

void xpipe(int p[2]) {
  check(pipe(p) == 0, "pipe failed");
}

int same_bytes(const void *a, const void *b, int n) {
  const char *x = a, *y = b;
  while (n-- > 0)
    if (*x++ != *y++)
      return 0;
  return 1;
}

uint free_pages(void) {
  struct sysinfo si;
  check(sysinfo(&si) == 0, "sysinfo failed");
  return si.freepages + si.kmalloc_pages;
}

// ---- randomness ----------------------------------------------------------

static uint rng;

void suite_seed(uint seed) {
  rng = seed;
}

uint rnd(void) {
  rng = rng * 1103515245 + 12345;
  return rng >> 8;
}

uint rnd32(void) {
  return (rnd() << 12) ^ rnd();
}

uint below(uint n) {
  return n ? rnd() % n : 0;
}
