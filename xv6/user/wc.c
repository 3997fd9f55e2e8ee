// wc: count lines, words and characters of each file (or standard input)
// and print "lines words chars name".
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

static char buf[512];

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void wc(int fd, const char *name) {
  int lines = 0, words = 0, chars = 0, in_word = 0;
  int i, n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    chars += n;
    for (i = 0; i < n; i++) {
      if (buf[i] == '\n')
        lines++;
      if (is_space(buf[i])) {
        in_word = 0;
      } else if (!in_word) {
        in_word = 1;
        words++;
      }
    }
  }
  if (n < 0) {
    printf(2, "wc: read error on %s\n", name);
    exit();
  }
  printf(1, "%d %d %d %s\n", lines, words, chars, name);
}

int main(int argc, char *argv[]) {
  int i, fd;
  if (argc < 2) {
    wc(0, "");
    exit();
  }
  for (i = 1; i < argc; i++) {
    if ((fd = open(argv[i], O_RDONLY)) < 0) {
      printf(2, "wc: cannot open %s\n", argv[i]);
      exit();
    }
    wc(fd, argv[i]);
    close(fd);
  }
  exit();
}
