// meminfo: print what the sysinfo() system call reports, one "name value"
// line per field of struct sysinfo.
#include "types.h"
#include "sysinfo.h"
#include "user.h"

int main(void) {
  struct sysinfo si;
  if (sysinfo(&si) < 0) {
    printf(2, "meminfo: sysinfo failed\n");
    exit();
  }
  printf(1, "ncpu %d\n", si.ncpu);
  printf(1, "nproc %d\n", si.nproc);
  printf(1, "freepages %u\n", si.freepages);
  printf(1, "totalpages %u\n", si.totalpages);
  printf(1, "kmalloc_objects %u\n", si.kmalloc_objects);
  printf(1, "kmalloc_bytes %u\n", si.kmalloc_bytes);
  printf(1, "kmalloc_pages %u\n", si.kmalloc_pages);
  printf(1, "ticks %u\n", si.ticks);
  exit();
}
