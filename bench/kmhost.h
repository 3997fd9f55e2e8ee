// The kernel's kmalloc.c running on the host: what kmhost.c offers the
// benchmark and the unit test. kmhost.c compiles the real kmalloc.c with
// small stand-ins for the kernel around it (pages, locks, processes,
// panic, system call arguments, the trace).
#ifndef KMHOST_H
#define KMHOST_H
struct proc;
struct kmstat;

#define HOST_POOL_PAGES 8192  // pages kalloc() can hand out (32 MiB)

// The kernel API under test (xv6/kernel/kmalloc.c).
void *kmalloc(unsigned int n);
void kmfree(void *p);
void kmalloc_totals(unsigned int *objects, unsigned int *bytes, unsigned int *pages);

// kmfree(p), but returning km_free()'s verdict instead of panicking: 0
// (p was freed) or a KM_ error (< 0, nothing changed).
int host_kmfree_checked(void *p);
#define HOST_KM_NOTSLAB   (-1)
#define HOST_KM_NOTOBJECT (-2)
#define HOST_KM_NOTLIVE   (-3)

// Pages (the kalloc() stand-in).
void *host_kalloc(void);
void host_kfree(void *page);
unsigned int host_pages_used(void);
void host_pages_limit(unsigned int n);   // fail kalloc() past n pages in use; 0: no limit

// Processes and system calls. The calling thread acts as process p.
struct proc *host_proc_new(int pid);
void host_proc_set(struct proc *p);
void host_proc_destroy(struct proc *p);  // exit (kmalloc_proc_exit) and free
int host_proc_nhandles(struct proc *p);
int host_sys_kmalloc(int n);
int host_sys_kmfree(int handle);
int host_sys_kmstat(struct kmstat *st);  // st == 0 acts as a bad user pointer

// Run fn(arg); returns 1 if it panicked (the message is in host_panic_msg).
int host_try(void (*fn)(void *), void *arg);
extern __thread char host_panic_msg[256];

// Check every invariant of every class and slab; 0 if they hold, else -1
// with the reason in why.
int host_check(char *why, int len);

// Pages kmalloc holds with no live object, over all classes: cached empty
// slabs (at most one per class), and slabs whose only objects not free
// are hot (at most one per CPU and class).
unsigned int host_empty_slabs(void);

// Threads that have acted as CPUs (called cpuid()) so far.
unsigned int host_cpus(void);

// The trace stand-in. With tracing on, KMALLOC/KMFREE events are replayed
// against a shadow of live objects, as the host trace checker would.
void host_trace(int on);
unsigned int host_trace_events(void);     // KMALLOC and KMFREE events seen
unsigned int host_trace_syserrs(void);    // SYSERR events seen
unsigned int host_trace_problems(void);   // events that contradict the shadow
const char *host_trace_problem(void);     // the first of them

// The baseline: a first-fit (K&R) free-list allocator on the same pages.
void *ff_malloc(unsigned int n);
void ff_free(void *p);
unsigned int ff_pages(void);
void ff_reset(void);   // give all pages back; nothing may be allocated
#endif
