// demo: a short story of two address spaces, for `make demo`.
//
// viz/demo.py runs it under QEMU with the trace on and draws what happened;
// docs/demo.md is the lecture that goes with the pictures. The phases are
// separated by sleeps so that they spread out along the plots' time axis:
//
//   1. the heap grows by a page (sbrk);
//   2. map 8 private pages and 4 shared pages; nothing is resident yet;
//   3. touch private pages 0-3 and shared page 0: five page faults;
//   4. fork: the child gets copies of the touched private pages and shares
//      the shared ones; it writes private pages 4-5 and shared page 1;
//   5. the parent makes private pages 0-3 read-only (the region splits);
//   6. the parent unmaps private pages 5-6 (a hole in the middle);
//   7. the child exits; the parent sees the child's shared write, but not
//      its private ones;
//   8. the parent unmaps everything and exits.
//
// Each phase prints a line; the last one is "demo: done".
#include "types.h"
#include "mman.h"
#include "user.h"

#define PG       4096
#define NPRIVATE 8
#define NSHARED  4
#define PAUSE    10       // timer ticks between phases

static char *private, *shared;

static void
fail(char *what)
{
  printf(1, "demo: FAIL %s\n", what);
  exit();
}

static void
phase(char *what)
{
  printf(1, "demo: %s\n", what);
  sleep(PAUSE);
}

static void
child(void)
{
  private[4 * PG] = 'c';           // faults in pages of its own
  private[5 * PG] = 'c';
  strcpy(shared + PG, "written by the child");
  sleep(4 * PAUSE);                // lives on while the parent changes its map
  exit();
}

int
main(void)
{
  int i, pid;

  phase("start");
  if (sbrk(PG) == (char *)-1)
    fail("sbrk");
  phase("heap grew by a page");

  private = mmap(0, NPRIVATE * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  shared = mmap(0, NSHARED * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (private == MAP_FAILED || shared == MAP_FAILED)
    fail("mmap");
  printf(1, "demo: private region at 0x%x, shared region at 0x%x\n", private, shared);
  phase("mapped 8 private and 4 shared pages, none resident");

  for (i = 0; i < 4; i++)
    private[i * PG] = 'p';
  shared[0] = 'p';
  phase("touched private pages 0-3 and shared page 0");

  pid = fork();
  if (pid < 0)
    fail("fork");
  if (pid == 0)
    child();
  phase("forked; the child writes private pages 4-5 and shared page 1");

  if (mprotect(private, 4 * PG, PROT_READ) < 0)
    fail("mprotect");
  phase("private pages 0-3 are read-only now");

  if (munmap(private + 5 * PG, 2 * PG) < 0)
    fail("munmap of pages 5-6");
  phase("unmapped private pages 5-6: the region is in three pieces");

  if (wait() != pid)
    fail("wait");
  printf(1, "demo: the child exited; shared page 1 says \"%s\", private page 4 holds %d\n",
         shared + PG, private[4 * PG]);
  phase("the child's shared write is visible, its private ones are not");

  if (munmap(shared, NSHARED * PG) < 0 || munmap(private, NPRIVATE * PG) < 0)
    fail("munmap of everything");
  phase("unmapped everything");
  printf(1, "demo: done\n");
  exit();
}
