// gdbdemo: build a known address space, then call getmaps().
//
// The GDB command tests (gdbscripts/tests/test_gdb.py) and the walkthrough
// in docs/debugging.md stop the kernel in sys_getmaps and compare what the
// `xv6` commands find with the table below (and the kmalloc objects this
// program holds). The program prints what getmaps() reports once it is
// allowed to go on.
#include "types.h"
#include "mman.h"
#include "kmstat.h"
#include "fcntl.h"
#include "user.h"

#define PG 4096

// The regions, at fixed addresses well above the heap, with the pages
// this program touches (resident afterwards).
static struct {
  uint addr;
  int npages;
  int prot;
  int flags;
  uint touched;                  // bit i set: page i is touched
  int write;                     // touch by writing (else by reading)
} demo[] = {
  { 0x40000000, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0x5, 1 },
  { 0x40010000, 2, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, 0x2, 0 },
  { 0x40020000, 4, PROT_READ | PROT_WRITE | PROT_EXEC,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, 0, 0 },
  { 0x40030000, 1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0 },
};
#define NDEMO (sizeof(demo) / sizeof(demo[0]))

#define HEAP_PAGES 2
#define NOBJECTS 3     // kernel objects held through kmalloc() handles,
#define OBJSIZE 100    // of this many bytes each, and one of KMALLOC_MAX;
                       // and one more allocated and freed: a CPU's hot object
#define MAXMAPS 16     // text, guard, stack, heap and the regions, with room

// And a file region: FILE_BYTES of a file, mapped shared at FILE_ADDR
// (two pages, the second partly past the end of the file), page 0
// written. The file is unlinked at once: the mapping keeps it.
#define FILE_ADDR  0x40040000
#define FILE_BYTES 6000
#define FILE_NAME  "gdbdemo.dat"

static void map_file(void) {
  static char buf[FILE_BYTES];
  char *p;
  int fd = open(FILE_NAME, O_CREATE | O_RDWR);
  memset(buf, 'f', sizeof(buf));
  if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf)) {
    printf(2, "gdbdemo: cannot write %s\n", FILE_NAME);
    exit();
  }
  p = mmap((void *)FILE_ADDR, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p != (char *)FILE_ADDR) {
    printf(2, "gdbdemo: mmap of %s returned 0x%x\n", FILE_NAME, (uint)p);
    exit();
  }
  close(fd);
  unlink(FILE_NAME);
  p[0] = 'F';
}

static const char *kinds[] = { "?", "text", "guard", "stack", "heap", "region" };

static void prot_string(int prot, char *out) {
  out[0] = (prot & PROT_READ) ? 'r' : '-';
  out[1] = (prot & PROT_WRITE) ? 'w' : '-';
  out[2] = (prot & PROT_EXEC) ? 'x' : '-';
  out[3] = 0;
}

int main(void) {
  static struct mapinfo maps[MAXMAPS];
  volatile char *p;
  char prot[4];
  uint i;
  int j, n, kind;

  for (i = 0; i < NDEMO; i++) {
    p = mmap((void *)demo[i].addr, demo[i].npages * PG, demo[i].prot, demo[i].flags, -1, 0);
    if (p != (char *)demo[i].addr) {
      printf(2, "gdbdemo: mmap at 0x%x returned 0x%x\n", demo[i].addr, (uint)p);
      exit();
    }
    for (j = 0; j < demo[i].npages; j++) {
      if (!(demo[i].touched & (1 << j)))
        continue;
      if (demo[i].write)
        p[j * PG] = 'A' + i;
      else
        (void)p[j * PG];
    }
  }
  map_file();
  p = sbrk(HEAP_PAGES * PG);
  p[0] = 'h';
  for (j = 0; j <= NOBJECTS; j++) {
    if (kmalloc(j < NOBJECTS ? OBJSIZE : KMALLOC_MAX) == 0) {
      printf(2, "gdbdemo: kmalloc failed\n");
      exit();
    }
  }
  if (kmfree(kmalloc(OBJSIZE)) != 0) {
    printf(2, "gdbdemo: kmfree failed\n");
    exit();
  }

  // A debugger waits here (break sys_getmaps).
  n = getmaps(0, maps, MAXMAPS);
  if (n < 0) {
    printf(2, "gdbdemo: getmaps failed\n");
    exit();
  }
  printf(1, "gdbdemo: pid %d, %d mappings\n", getpid(), n);
  for (j = 0; j < n; j++) {
    prot_string(maps[j].prot, prot);
    kind = maps[j].kind >= 1 && maps[j].kind <= MAPKIND_REGION ? maps[j].kind : 0;
    printf(1, "0x%x 0x%x %s %s flags 0x%x resident %d\n", maps[j].start, maps[j].end,
           prot, kinds[kind], maps[j].flags, maps[j].resident);
  }
  exit();
}
