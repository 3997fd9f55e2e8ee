// pmap: print a process's whole address space, one mapping per line, in
// the style of Linux's /proc/PID/maps.
//
//   pmap [pid]        default: pmap's own address space
//
//   00000000-00003000 rwxp text 3/3
//   00003000-00004000 ---p guard 1/1
//   ...
//   7ffef000-7ffff000 rw-s region 1/16
//   7ffe0000-7ffe2000 r--p region 2/2 00001000 ino 23 data.txt
//
// Columns: start-end, permissions (read, write, execute, then p for
// private or s for shared), kind (text, guard, stack, heap, region), and
// pages present in the page table / pages in the mapping; for a file
// region, as in Linux's maps, the file offset of its start (hex), the
// file's inode number and the name it was opened by.
#include "types.h"
#include "mmu.h"
#include "mman.h"
#include "user.h"

// Room for every mapping a process can have: text, guard, stack, heap
// and NREGION regions. Most have a handful, so a small buffer is tried
// first and the big one (from the heap) only if the small one fills up.
#define MAXMAPS (NREGION + 4)
#define FEWMAPS 64

static struct mapinfo few[FEWMAPS];

static char *kind_name(int kind) {
  switch (kind) {
  case MAPKIND_TEXT: return "text";
  case MAPKIND_GUARD: return "guard";
  case MAPKIND_STACK: return "stack";
  case MAPKIND_HEAP: return "heap";
  case MAPKIND_REGION: return "region";
  }
  return "?";
}

// printf has no field widths: addresses as eight hex digits by hand.
static void hex8(char *out, uint v) {
  int i;
  for (i = 7; i >= 0; i--, v >>= 4)
    out[i] = "0123456789abcdef"[v & 15];
  out[8] = 0;
}

static void print_map(struct mapinfo *m) {
  char start[9], end[9], perms[5];
  hex8(start, m->start);
  hex8(end, m->end);
  perms[0] = (m->prot & PROT_READ) ? 'r' : '-';
  perms[1] = (m->prot & PROT_WRITE) ? 'w' : '-';
  perms[2] = (m->prot & PROT_EXEC) ? 'x' : '-';
  perms[3] = (m->kind == MAPKIND_REGION && (m->flags & MAP_SHARED)) ? 's' : 'p';
  perms[4] = 0;
  printf(1, "%s-%s %s %s %d/%d", start, end, perms, kind_name(m->kind), m->resident,
         (PGROUNDUP(m->end) - PGROUNDDOWN(m->start)) / PGSIZE);
  if (m->inum) {
    hex8(start, m->offset);
    printf(1, " %s ino %d %s", start, m->inum, m->name[0] ? m->name : "?");
  }
  printf(1, "\n");
}

// pid's mappings into *maps; returns how many, or -1 for a bad pid.
static int read_maps(int pid, struct mapinfo **maps) {
  int n;
  *maps = few;
  if ((n = getmaps(pid, few, FEWMAPS)) < FEWMAPS)
    return n;
  if ((*maps = malloc(MAXMAPS * sizeof(struct mapinfo))) == 0) {
    printf(2, "pmap: out of memory\n");
    exit();
  }
  return getmaps(pid, *maps, MAXMAPS);
}

int main(int argc, char *argv[]) {
  struct mapinfo *maps;
  int pid = 0, n, i;

  if (argc > 2 || (argc == 2 && (argv[1][0] < '0' || argv[1][0] > '9'))) {
    printf(2, "usage: pmap [pid]\n");
    exit();
  }
  if (argc == 2)
    pid = atoi(argv[1]);
  if ((n = read_maps(pid, &maps)) < 0) {
    printf(2, "pmap: no process %d\n", pid);
    exit();
  }
  for (i = 0; i < n; i++)
    print_map(&maps[i]);
  exit();
}
