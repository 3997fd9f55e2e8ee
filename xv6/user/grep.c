// grep: print the lines of each file (or standard input) that match a
// pattern.
//
// Patterns are a small regular-expression language:
//   c    a literal character        .    any character
//   x*   zero or more of x          ^    (first) match only at line start
//   $    (last) match only at line end
// The pattern is compiled once into a list of atoms; matching backtracks
// over the '*' atoms, trying the longest run first.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

#define MAXATOMS 128

struct atom {
  char c;     // the character to match, unless any
  char any;   // '.': matches every character
  char star;  // may repeat zero or more times
};

static struct atom atoms[MAXATOMS];
static int natoms;
static int anchor_start, anchor_end;

static int compile(const char *re) {
  int len = strlen(re);
  natoms = 0;
  anchor_start = anchor_end = 0;
  if (*re == '^') {
    anchor_start = 1;
    re++;
    len--;
  }
  if (len > 0 && re[len - 1] == '$') {
    anchor_end = 1;
    len--;
  }
  for (; len > 0; re++, len--) {
    if (*re == '*' && natoms > 0 && !atoms[natoms - 1].star) {
      atoms[natoms - 1].star = 1;
      continue;
    }
    if (natoms == MAXATOMS)
      return -1;
    atoms[natoms].c = *re;
    atoms[natoms].any = (*re == '.');
    atoms[natoms].star = 0;
    natoms++;
  }
  return 0;
}

static int atom_matches(struct atom *a, char c) {
  return c != 0 && (a->any || a->c == c);
}

// Does atoms[i..] match a prefix of s (all of s if anchored at the end)?
static int match_from(int i, const char *s) {
  int run;
  for (; i < natoms; i++) {
    if (atoms[i].star) {
      for (run = 0; atom_matches(&atoms[i], s[run]); run++)
        ;
      for (; run >= 0; run--)  // longest run first
        if (match_from(i + 1, s + run))
          return 1;
      return 0;
    }
    if (!atom_matches(&atoms[i], *s))
      return 0;
    s++;
  }
  return !anchor_end || *s == 0;
}

static int line_matches(const char *line) {
  if (anchor_start)
    return match_from(0, line);
  do {
    if (match_from(0, line))
      return 1;
  } while (*line++);
  return 0;
}

static char buf[1024];

// Read fd in chunks and test each complete line; a line longer than the
// buffer is tested in buffer-sized pieces.
static void grep(int fd) {
  int len = 0, n;
  char *line, *nl;
  while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
    len += n;
    buf[len] = 0;
    line = buf;
    while ((nl = strchr(line, '\n')) != 0) {
      *nl = 0;
      if (line_matches(line)) {
        *nl = '\n';
        write(1, line, nl + 1 - line);
      }
      line = nl + 1;
    }
    len -= line - buf;
    if (len == sizeof(buf) - 1) {  // no newline in a full buffer
      if (line_matches(buf))
        printf(1, "%s\n", buf);
      len = 0;
    } else if (len > 0) {
      memmove(buf, line, len);
    }
  }
  if (len > 0) {  // last line without a newline
    buf[len] = 0;
    if (line_matches(buf))
      printf(1, "%s\n", buf);
  }
}

int main(int argc, char *argv[]) {
  int i, fd;
  if (argc < 2) {
    printf(2, "usage: grep pattern [file...]\n");
    exit();
  }
  if (compile(argv[1]) < 0) {
    printf(2, "grep: pattern too long\n");
    exit();
  }
  if (argc == 2) {
    grep(0);
    exit();
  }
  for (i = 2; i < argc; i++) {
    if ((fd = open(argv[i], O_RDONLY)) < 0) {
      printf(2, "grep: cannot open %s\n", argv[i]);
      exit();
    }
    grep(fd);
    close(fd);
  }
  exit();
}
