// filedemo: a file mapped shared, for the pictures (docs/demo.md). Writes a
// four-page file, maps it MAP_SHARED, reads one page and writes two (each
// first touch reads the page into the page cache), msyncs (the dirty pages
// go back to the file), writes once more and unmaps (munmap writes back the
// rest), then reads the file to show the stores reached it.
#include "types.h"
#include "mmu.h"
#include "fcntl.h"
#include "mman.h"
#include "user.h"

#define NPAGES 4
#define NAME "filedemo.dat"

static int make_file(void) {
  char block[512];
  int fd, i;
  if ((fd = open(NAME, O_CREATE | O_RDWR)) < 0)
    return -1;
  memset(block, '.', sizeof(block));
  for (i = 0; i < NPAGES * PGSIZE / (int)sizeof(block); i++) {
    if (write(fd, block, sizeof(block)) != sizeof(block)) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

static char page[PGSIZE];      // not on the one-page stack

static void show(void) {
  int fd = open(NAME, O_RDONLY), pg;
  for (pg = 0; fd >= 0 && pg < NPAGES; pg++) {
    if (read(fd, page, PGSIZE) != PGSIZE)
      break;
    printf(1, "filedemo: page %d of the file starts with '%c'\n", pg, page[0]);
  }
  if (fd >= 0)
    close(fd);
}

int main(void) {
  int fd = make_file();
  char *p;
  if (fd < 0) {
    printf(2, "filedemo: cannot write %s\n", NAME);
    exit();
  }
  p = mmap(0, NPAGES * PGSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);                  // the mapping keeps the file
  if (p == MAP_FAILED) {
    printf(2, "filedemo: mmap failed\n");
    exit();
  }
  printf(1, "filedemo: page 1 reads '%c'\n", p[PGSIZE]);
  p[0] = 'A';
  p[2 * PGSIZE] = 'C';
  sleep(1);
  if (msync(p, NPAGES * PGSIZE, MS_SYNC) < 0)
    printf(2, "filedemo: msync failed\n");
  sleep(1);
  p[3 * PGSIZE] = 'D';        // written back by munmap
  sleep(1);
  munmap(p, NPAGES * PGSIZE);
  show();
  unlink(NAME);
  exit();
}
