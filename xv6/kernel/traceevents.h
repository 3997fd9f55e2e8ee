// Every kernel trace event, defined once.
//
// trace.c builds the event enum and the schema text of the stream header
// from the lists below; host tools (trace/xvtrace) read that schema from the
// stream itself, so no list here is copied anywhere. The format is described
// in docs/trace.md. User programs include this file for the tracectl() ops.
//
// Rules for the lists:
//  - an event id is never renumbered or reused; ids are 1..30, because
//    the event mask has one bit per id and must stay a positive int;
//  - every field is a 32-bit value; "_" marks an unused field;
//  - a record also carries a TSC timestamp, the CPU and the pid of the
//    process running when the event happened (0 if none): "pid" fields in
//    the lists name the process the event is *for*, which may differ.
#ifndef XV6_TRACEEVENTS_H
#define XV6_TRACEEVENTS_H

#define TRACE_VERSION 1

// X(NAME, id, field0, field1, field2, field3)
#define TRACE_EVENTS(X)                                                     \
  /* The trace itself. */                                                   \
  X(LOST,       1, cpu,     count,     _,        _)                         \
    /* count events were dropped on cpu because its ring was full */        \
  X(TRACE_CTL,  2, on,      mask,      _,        _)                         \
    /* tracing turned on or off, or the event mask changed */               \
  /* Physical pages (kalloc.c). */                                          \
  X(MEM_RANGE,  3, start,   end,       _,        _)                         \
    /* physical pages [start, end) given to the page allocator at boot */   \
  X(PAGE_ALLOC, 4, pa,      _,         _,        _)                         \
  X(PAGE_FREE,  5, pa,      _,         _,        _)                         \
  X(PAGE_OWNER, 6, pa,      owner,     pid,      va)                        \
    /* allocated page pa holds owner's data for pid, mapped at va if any */ \
  /* Kernel objects (kmalloc.c); pid is who the object is charged to. */    \
  X(KMALLOC,    7, addr,    size,      class,    pid)                       \
  X(KMFREE,     8, addr,    size,      class,    pid)                       \
  /* Address-space system calls (mmap.c); result is 0 or -1 on failure. */  \
  X(MMAP,       9, hint,    length,    prot,     flags)                     \
  X(MMAP_RET,  10, result,  _,         _,        _)                         \
    /* always follows MMAP of the same pid: the address, or -1 */           \
  X(MUNMAP,    11, addr,    length,    result,   _)                         \
  X(MPROTECT,  12, addr,    length,    prot,     result)                    \
  X(FAULT,     13, va,      access,    outcome,  eip)                       \
  X(HEAP,      14, old,     new,       _,        _)                         \
    /* the heap end (proc->sz) moved from old to new */                     \
  /* Processes (proc.c, exec.c). */                                         \
  X(FORK,      15, parent,  child,     _,        _)                         \
  X(EXEC,      16, textend, stackbase, heapbase, sz)                        \
    /* new image: text+data [0,textend), stack page at stackbase, */        \
    /* heap [heapbase,sz); the name follows in a PROCNAME event */          \
  X(EXIT,      17, pid,     _,         _,        _)                         \
  X(REAP,      18, pid,     _,         _,        _)                         \
    /* the parent collected pid: all of its memory is released */           \
  X(PROCNAME,  19, name0,   name1,     name2,    name3)                     \
    /* up to 16 bytes of name, NUL padded; the record's pid is the one */   \
    /* named, not the running process */                                    \
  X(SYSERR,    20, sysno,   reason,    value,    _)                         \
    /* a system call failed for reason; value is the offending argument */

// Small enumerations that event fields take values from. A field whose
// name is an enumeration's name, in lower case, holds one of its values.
// X(ENUM, NAME, value)
#define TRACE_ENUMS(X)                                                      \
  /* PAGE_OWNER.owner: what an allocated page is used for */                \
  X(OWNER,   KERNEL,    0)  /* kernel data, or not attributed */            \
  X(OWNER,   PROC,      1)  /* process memory: text, data, stack, heap */   \
  X(OWNER,   PGTABLE,   2)  /* a page directory or page table */            \
  X(OWNER,   REGION,    3)  /* a page of an mmap region */                  \
  X(OWNER,   PIPE,      4)                                                  \
  X(OWNER,   KMALLOC,   5)  /* a page of the kmalloc allocator */           \
  X(OWNER,   KSTACK,    6)  /* a process's kernel stack */                  \
  /* SYSERR.reason: why a system call failed */                             \
  X(REASON,  NONE,      0)                                                  \
  X(REASON,  BADADDR,   1)  /* address unaligned, in the kernel, or wild */ \
  X(REASON,  BADLEN,    2)  /* length zero, negative or too long */         \
  X(REASON,  NOMEM,     3)  /* out of physical pages or kernel memory */    \
  X(REASON,  LIMIT,     4)  /* a per-process limit was reached */           \
  X(REASON,  OVERLAP,   5)  /* range overlaps an existing mapping */        \
  X(REASON,  BADFD,     6)                                                  \
  X(REASON,  BADPROT,   7)                                                  \
  X(REASON,  BADFLAGS,  8)                                                  \
  X(REASON,  NOTMAPPED, 9)  /* range is not (entirely) mapped */            \
  X(REASON,  BADHANDLE, 10) /* not a live kmalloc handle */                 \
  X(REASON,  BADARG,    11) /* any other bad argument */                    \
  /* FAULT.access */                                                        \
  X(ACCESS,  READ,      0)                                                  \
  X(ACCESS,  WRITE,     1)                                                  \
  /* FAULT.outcome */                                                       \
  X(OUTCOME, MAPPED,    0)  /* a page was allocated and mapped */           \
  X(OUTCOME, KILLED,    1)  /* the process was killed */

// How readers should print fields: these in hex, these as text (their
// bytes concatenated, up to the first NUL), all others in decimal.
#define TRACE_HEX_FIELDS \
  "pa va addr hint result start end textend stackbase heapbase sz old new eip value mask"
#define TRACE_TEXT_FIELDS "name0 name1 name2 name3"

#define TRACE_EVENT_ID(name, id, f0, f1, f2, f3) EV_##name = id,
enum traceevent { TRACE_EVENTS(TRACE_EVENT_ID) };

#define TRACE_ENUM_VALUE(en, name, val) en##_##name = val,
enum traceenum { TRACE_ENUMS(TRACE_ENUM_VALUE) };

// The schema text sent in the stream header (docs/trace.md, "Schema").
#define TRACE_STR_(x) #x
#define TRACE_STR(x) TRACE_STR_(x)
#define TRACE_SCHEMA_EVENT(name, id, f0, f1, f2, f3) \
  "event " #id " " #name " " #f0 " " #f1 " " #f2 " " #f3 "\n"
#define TRACE_SCHEMA_ENUM(en, name, val) "enum " #en " " #val " " #name "\n"
#define TRACE_SCHEMA                                   \
  "xvtrace " TRACE_STR(TRACE_VERSION) "\n"             \
  TRACE_EVENTS(TRACE_SCHEMA_EVENT)                     \
  TRACE_ENUMS(TRACE_SCHEMA_ENUM)                       \
  "hex " TRACE_HEX_FIELDS "\n"                         \
  "text " TRACE_TEXT_FIELDS "\n"

// tracectl(op, arg) operations.
#define TRACECTL_ON     1  // start recording events
#define TRACECTL_OFF    2  // stop recording events
#define TRACECTL_FLUSH  3  // send everything buffered to the host now
#define TRACECTL_STATUS 4  // return the counter selected by arg (TRACESTAT_)
#define TRACECTL_MASK   5  // arg: new mask, bit i enables event id i; returns the old one

// TRACECTL_STATUS selectors. Counters are totals since boot, modulo 2^31.
#define TRACESTAT_ON        0  // 1 if tracing is on
#define TRACESTAT_MASK      1  // the event mask
#define TRACESTAT_EMITTED   2  // events recorded into the rings
#define TRACESTAT_LOST      3  // events dropped because a ring was full
#define TRACESTAT_BUFFERED  4  // records waiting in the rings now
#define TRACESTAT_SENT      5  // records sent to the host
#define TRACESTAT_FRAMES    6  // frames sent to the host
#define TRACESTAT_TSCKHZ    7  // measured TSC rate in kHz, 0 if unknown
#define TRACESTAT_RINGSIZE  8  // records each per-CPU ring holds
#define TRACESTAT_COUNT     9

#define TRACE_ALL_EVENTS 0x7FFFFFFF  // the mask that enables every event
#endif
