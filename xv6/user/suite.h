// The case runner shared by the in-guest test programs (usertests,
// mmaptest, mmapstress, mmapfuzz, attacktest).
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN suite N               N = number of cases that will run
//   PASS name | FAIL name: why  one line per case
//   END suite
// Anything else a test program prints starts with "# ".
//
// Each case runs in a child process, so a case that crashes fails alone.
// The case, and any process it forks, reports through a pipe: "F why"
// lines for failures (fail(), check()), "P" when the case function
// returns. The runner also fails a case that times out, leaves processes
// behind, or does not give back every page and kmalloc object it used
// (sysinfo() before and after).
#ifndef XV6_SUITE_H
#define XV6_SUITE_H

struct testcase {
  char *name;
  void (*run)(void);
};

struct suite {
  char *name;              // named by the BEGIN and END lines
  int timeout;             // ticks a case may run before it is killed
  struct testcase *cases;  // the cases run when none is named
  int ncases;
};

// Reporting, usable in a case and in every process it forks.
// Report a failure as one "F why" line and exit. fmt may use up to four
// 32-bit conversions (%d %u %x %p %s).
void fail(const char *fmt, ...) __attribute__((noreturn));

#define check(cond, ...)  \
  do {                    \
    if (!(cond))          \
      fail(__VA_ARGS__);  \
  } while (0)

// Helpers for cases: the call, or fail the case.
int xfork(void);                 // fork
void xwait(int pid);             // wait, which must return pid
void xpipe(int p[2]);            // pipe
int same_bytes(const void *a, const void *b, int n);  // 1 if the n bytes are equal
int read_line(int fd, char *line, int max);  // one line, without its newline; 0 at the end
uint free_pages(void);           // free pages as leak checks count them (idle kmalloc pages too)

// A seeded pseudo-random stream (linear congruential), for tests that must
// repeat exactly given their seed. Each process has its own.
void suite_seed(uint seed);
uint rnd(void);                  // 24 random bits
uint rnd32(void);                // 32 random bits
uint below(uint n);              // 0 <= r < n (0 if n is 0)

// The runner. argv[1..argc-1] name cases; a program takes its own
// options (see suite_option) out of argv before handing it on.
char *suite_option(char *arg, char *key);
int suite_count(struct suite *s, int argc);
void suite_begin(struct suite *s, int ncases);
void suite_end(struct suite *s);
int run_case(struct suite *s, char *name, void (*fn)(void));
int run_named(struct suite *s, int argc, char **argv);
int run_suite(struct suite *s, int argc, char **argv);

#endif
