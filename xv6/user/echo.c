// echo: print the arguments separated by single spaces, then a newline.
// The line is assembled first so it reaches the output in one write().
#include "types.h"
#include "user.h"

static char line[2048];

int main(int argc, char *argv[]) {
  int i, n = 0, len;
  for (i = 1; i < argc; i++) {
    len = strlen(argv[i]);
    if (n + len + 2 > sizeof(line)) {  // too long for one write: flush
      write(1, line, n);
      n = 0;
    }
    if (len + 2 > sizeof(line)) {
      write(1, argv[i], len);
    } else {
      memmove(line + n, argv[i], len);
      n += len;
    }
    line[n++] = i + 1 < argc ? ' ' : '\n';
  }
  if (argc < 2)
    line[n++] = '\n';
  write(1, line, n);
  exit();
}
