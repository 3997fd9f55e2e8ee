// Weak defaults for subsystems that are optional at link time.
#include "types.h"
#include "defs.h"

__attribute__((weak)) void trace_init(void) {}
__attribute__((weak)) void trace_idle(void) {}
__attribute__((weak)) void kmalloc_proc_exit(struct proc *p) { (void)p; }
__attribute__((weak)) void kmalloc_totals(uint *o, uint *b, uint *p) { *o = *b = *p = 0; }
__attribute__((weak)) void *kmalloc(uint n) { return n && n <= 4096 ? kalloc() : 0; }
__attribute__((weak)) void kmfree(void *p) { kfree(p); }
__attribute__((weak)) int sys_kmalloc(void) { return 0; }
__attribute__((weak)) int sys_kmfree(void) { return -1; }
__attribute__((weak)) int sys_kmstat(void) { return -1; }
