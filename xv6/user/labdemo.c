// labdemo: the ten-line lab program of docs/demo.md: `make trace CMD="labdemo"`.
// Maps 4 private pages, touches them, forks; the child unmaps pages 1-2 (a
// partial munmap: the region splits in two), writes page 3 and exits.
#include "types.h"
#include "mman.h"
#include "user.h"

int
main(void)
{
  char *p = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 4; i++)
    p[i * 4096] = 'a';
  if (fork() == 0) {
    munmap(p + 4096, 2 * 4096);
    p[3 * 4096] = 'b';
    exit();
  }
  wait();
  exit();
}
