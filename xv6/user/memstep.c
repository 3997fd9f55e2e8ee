// memstep: change an address space one step per line typed, to watch each
// step happen in the live view (`make live`, docs/demo.md); the view's
// browser test drives it the same way.
//
//   m  map 8 private pages (none resident yet)
//   t  touch the next page of the region (a page fault maps it)
//   f  fork: the child writes page 0 (its own copy) and waits
//   u  unmap the region
//   q  let the child go, wait for it, and quit
//
// Each step prints one line "memstep: ..." and then the prompt "memstep> ".
#include "types.h"
#include "mman.h"
#include "user.h"

#define PG     4096
#define NPAGES 8

static char *region;
static int touched;
static int child = -1;
static int hold[2] = { -1, -1 };   // the child waits until the write end closes

static void
say(char *what)
{
  printf(1, "memstep: %s\n", what);
}

static void
map(void)
{
  if (region) {
    say("already mapped");
    return;
  }
  region = mmap(0, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    region = 0;
    say("mmap failed");
    return;
  }
  touched = 0;
  printf(1, "memstep: mapped %d pages at 0x%x\n", NPAGES, region);
}

static void
touch(void)
{
  if (!region || touched == NPAGES) {
    say(region ? "every page is touched" : "nothing mapped");
    return;
  }
  region[touched * PG] = 't';
  printf(1, "memstep: touched page %d\n", touched++);
}

static void
forkstep(void)
{
  char c;

  if (child > 0 || pipe(hold) < 0) {
    say(child > 0 ? "already forked" : "pipe failed");
    return;
  }
  child = fork();
  if (child < 0) {
    say("fork failed");
    return;
  }
  if (child == 0) {
    close(hold[1]);
    if (region)
      region[0] = 'c';             // a write: the child's own copy of page 0
    read(hold[0], &c, 1);          // returns when the parent closes its end
    exit();
  }
  close(hold[0]);
  printf(1, "memstep: forked child %d\n", child);
}

static void
unmap(void)
{
  if (!region) {
    say("nothing mapped");
    return;
  }
  if (munmap(region, NPAGES * PG) < 0) {
    say("munmap failed");
    return;
  }
  region = 0;
  say("unmapped");
}

static void
quit(void)
{
  if (child > 0) {
    close(hold[1]);
    wait();
  }
  say("done");
  exit();
}

int
main(void)
{
  char line[32];

  for (;;) {
    printf(1, "memstep> ");
    if (read(0, line, sizeof(line)) <= 0)
      quit();
    switch (line[0]) {
    case 'm': map(); break;
    case 't': touch(); break;
    case 'f': forkstep(); break;
    case 'u': unmap(); break;
    case 'q': quit(); break;
    default: say("m map, t touch, f fork, u unmap, q quit");
    }
  }
}
