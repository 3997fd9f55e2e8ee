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

#define TRACE_VERSION 2

// X(NAME, id, field0, field1, field2, field3)
#define TRACE_EVENTS(X)                                                     \
  /* The trace itself. */                                                   \
  X(LOST,        1, cpu,     count,     _,        _)                        \
    /* count events were dropped on cpu because its ring was full */        \
  X(TRACE_CTL,   2, on,      mask,      _,        _)                        \
    /* tracing turned on or off, or the event mask changed */               \
  /* Physical pages (kalloc.c). */                                          \
  X(MEM_RANGE,   3, start,   end,       _,        _)                        \
    /* physical pages [start, end) given to the page allocator at boot */   \
  X(PAGE_ALLOC,  4, pa,      owner,     _,        _)                        \
  X(PAGE_FREE,   5, pa,      _,         _,        _)                        \
    /* the last reference went: the page is back on the free list */        \
  /* User mappings of mmap region pages (mmap.c); pid: whose page table. */ \
  X(PAGE_MAP,    6, va,      pa,        shared,   pid)                      \
  X(PAGE_UNMAP,  7, va,      pa,        pid,      _)                        \
  /* Kernel objects (kmalloc.c); pid is who the object is charged to. */    \
  X(KMALLOC,     8, addr,    size,      class,    pid)                      \
  X(KMFREE,      9, addr,    size,      class,    pid)                      \
  /* Address-space system calls (mmap.c); result is 0, or -1 on failure. */ \
  X(MMAP,       10, hint,    length,    prot,     flags)                    \
  X(MMAP_RET,   11, result,  _,         _,        _)                        \
    /* always follows MMAP of the same pid: the address, or -1 */           \
  X(MUNMAP,     12, addr,    length,    result,   _)                        \
  X(MPROTECT,   13, addr,    length,    prot,     result)                   \
  X(FAULT,      14, va,      errcode,   outcome,  eip)                      \
    /* a user page fault; errcode is the x86 page-fault error code; */      \
    /* eip 0: taken by the kernel for a system call's user buffer */        \
  X(FAULT_MAP,  22, va,      pa,        errcode,  eip)                      \
    /* the common fault in one record: a zeroed page pa was allocated */    \
    /* for a private region and mapped at va's page. Readers expand it */   \
    /* into the PAGE_ALLOC, PAGE_MAP and FAULT (mapped) it stands for */    \
  X(PAGE_NEW,   23, va,      pa,        pid,      _)                        \
    /* a private region page pa allocated and mapped at va in pid outside */\
    /* a fault (MAP_POPULATE, a fork's copy): PAGE_ALLOC + PAGE_MAP */      \
  X(PAGE_DROP,  24, va,      pa,        pid,      _)                        \
    /* a region page unmapped at va in pid, and freed: it was the last */   \
    /* reference. PAGE_UNMAP + PAGE_FREE */                                  \
  X(HEAP,       15, old,     new,       _,        _)                        \
    /* the heap end (proc->sz) moved from old to new */                     \
  /* Processes (proc.c, exec.c). */                                         \
  X(FORK,       16, parent,  child,     _,        _)                        \
  X(EXEC,       17, textend, stackbase, heapbase, sz)                       \
    /* new image: text+data [0,textend), stack page at stackbase (0: */     \
    /* none), heap [heapbase,sz); the name follows in a PROCNAME event; */  \
    /* the record's pid is the process's, even from userinit */             \
  X(EXIT,       18, pid,     _,         _,        _)                        \
  X(REAP,       19, pid,     _,         _,        _)                        \
    /* the parent collected pid: all of its memory is released */           \
  X(PROCNAME,   20, name0,   name1,     name2,    name3)                    \
    /* up to 16 bytes of name, NUL padded; the record's pid is the one */   \
    /* named, not the running process */                                    \
  X(SYSERR,     21, sysno,   err,       value,    _)                        \
    /* a system call failed; value is the offending argument, if any */     \
  X(COW_FORK,   25, parent,  child,     pages,    _)                        \
    /* fork shared pages private pages copy-on-write instead of copying */  \
    /* them; the child's PAGE_MAP of each shared region page came first */  \
  X(COW_FAULT,  26, va,      pa,        cow,      eip)                      \
    /* a write to a page shared copy-on-write (eip 0: the kernel wrote): */ \
    /* copied: pa is the new page (PAGE_UNMAP or PAGE_DROP of the old one */\
    /* and PAGE_NEW or PAGE_ALLOC of this one came first); reused: no one */\
    /* else held the page pa, which is now simply writable again */        \
  /* The page cache of mapped files (pagecache.c). */                       \
  X(FILE_PAGEIN, 27, inum,   offset,    pa,       _)                        \
    /* page pa (PAGE_ALLOC, owner PCACHE, came first) now holds the file */ \
    /* inum's bytes from offset, read on first use by a mapping */          \
  X(FILE_WRITEBACK, 28, inum, offset,   pa,       bytes)                    \
    /* the dirty cached page pa was written to the file inum at offset */   \
    /* (bytes: up to the end of the file), in one log operation */        \
  /* The rest of the memory calls (mmap.c). */                              \
  X(MREMAP,     29, old,     oldlen,    new,      newlen)                   \
    /* mremap's result: [old, old+oldlen) is now [new, new+newlen) (new */  \
    /* -1: failed); a move's pages came first, each a PAGE_UNMAP at the */  \
    /* old address and a PAGE_MAP at the new */                             \
  X(MADVISE,    30, addr,    length,    advice,   dropped)                  \
    /* madvise's result: dropped is the pages MADV_DONTNEED unmapped (each */\
    /* a PAGE_UNMAP or PAGE_DROP first), or -1 if the call failed */

// Small enumerations that event fields take values from. A field whose
// name is an enumeration's name, in lower case, holds one of its values.
// X(ENUM, NAME, value)
#define TRACE_ENUMS(X)                                                      \
  /* PAGE_ALLOC.owner: what a page is for (kalloc_as) */                    \
  X(OWNER,   KERNEL,    0)  /* kernel data, or not said */                  \
  X(OWNER,   USER,      1)  /* process memory: text, data, stack, heap */   \
  X(OWNER,   PGTABLE,   2)  /* a page directory or page table */            \
  X(OWNER,   REGION,    3)  /* a page of a private mmap region */           \
  X(OWNER,   SHARED,    4)  /* a page of a MAP_SHARED object */             \
  X(OWNER,   PIPE,      5)                                                  \
  X(OWNER,   KMALLOC,   6)  /* a page of the kmalloc allocator */           \
  X(OWNER,   KSTACK,    7)  /* a process's kernel stack */                  \
  X(OWNER,   PCACHE,    8)  /* a cached page of a mapped file */            \
  /* SYSERR.err: why a system call failed */                                \
  X(ERR,     NONE,      0)                                                  \
  X(ERR,     BADLEN,    1)  /* length zero, negative or too long */         \
  X(ERR,     BADADDR,   2)  /* address unaligned, in the kernel, or wild */ \
  X(ERR,     BADFLAGS,  3)                                                  \
  X(ERR,     BADPROT,   4)                                                  \
  X(ERR,     BADFD,     5)                                                  \
  X(ERR,     NOMEM,     6)  /* out of physical pages or kernel memory */    \
  X(ERR,     LIMIT,     7)  /* a per-process limit was reached */           \
  X(ERR,     NOREGION,  8)  /* the range is not (entirely) mapped */        \
  X(ERR,     NOPROC,    9)  /* no such process */                           \
  X(ERR,     OVERLAP,   10) /* the range overlaps an existing mapping */    \
  X(ERR,     BADHANDLE, 11) /* not a live kmalloc handle */                 \
  X(ERR,     BADARG,    12) /* any other bad argument */                    \
  X(ERR,     BADPATH,   13) /* path not readable, or too long */            \
  X(ERR,     NOENT,     14) /* no such file or directory */                 \
  X(ERR,     EXIST,     15) /* the name is taken */                         \
  X(ERR,     NOTDIR,    16) /* not a directory */                           \
  X(ERR,     ISDIR,     17) /* a directory, where none may be */            \
  X(ERR,     NOTEMPTY,  18) /* the directory is not empty */                \
  X(ERR,     NOSPACE,   19) /* no free disk block, inode or file slot */    \
  X(ERR,     PERM,      20) /* not allowed: init, a read-only fd, ... */    \
  X(ERR,     DELETED,   21) /* the directory has been removed */            \
  X(ERR,     NOCHILD,   22) /* no child to wait for */                      \
  X(ERR,     KILLED,    23) /* killed while the call waited */              \
  X(ERR,     PIPE,      24) /* the other end of the pipe is closed */       \
  X(ERR,     BADEXEC,   25) /* not a program this kernel can run */         \
  X(ERR,     FAILED,    26) /* failed for a reason not told apart */        \
  /* COW_FAULT.cow: what a write to a copy-on-write page did */             \
  X(COW,     COPIED,    0)  /* the writer got its own copy */               \
  X(COW,     REUSED,    1)  /* the writer was the last holder: no copy */   \
  /* FAULT.outcome: fault_handler()'s verdict; not MAPPED: killed */        \
  X(OUTCOME, MAPPED,    0)  /* a page was allocated and mapped */           \
  X(OUTCOME, BAD,      -1)  /* the access is not allowed */                 \
  X(OUTCOME, NOMEM,    -2)  /* no memory for the page */                   \
  X(OUTCOME, BUS,      -3)  /* a file page wholly past the end of the file */

// How readers should print fields: these in hex, these as text (their
// bytes concatenated, up to the first NUL), all others in decimal.
#define TRACE_HEX_FIELDS \
  "pa va addr hint result start end textend stackbase heapbase sz old new eip value mask errcode"
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
#define TRACECTL_LOSSLESS 6  // arg 1: a CPU whose ring is full waits for room
                             // (slower, nothing lost); 0: it drops (the
                             // default); returns the old setting
#define TRACECTL_RING   7  // arg: records a ring may hold, 4..ring size (a smaller
                           // ring makes the lost-event path easy to test); returns the old

// TRACECTL_STATUS selectors, with the names tools print them by. Counters
// are totals since boot, modulo 2^31. X(SELECTOR, value, name)
#define TRACE_STATS(X)                                                        \
  X(ON,        0, on)            /* 1 if tracing is on */                     \
  X(MASK,      1, mask)          /* the event mask */                         \
  X(EMITTED,   2, emitted)       /* events recorded into the rings */         \
  X(LOST,      3, lost)          /* events dropped because a ring was full */ \
  X(BUFFERED,  4, buffered)      /* records waiting in the rings now */       \
  X(SENT,      5, sent)          /* records sent to the host */               \
  X(FRAMES,    6, frames)        /* frames sent to the host */                \
  X(TSCKHZ,    7, tsc_khz)       /* measured TSC rate in kHz, 0 if unknown */ \
  X(RINGSIZE,  8, ring_records)  /* records each per-CPU ring may hold now */ \
  X(LOSSLESS,  9, lossless)      /* 1 in lossless mode */                     \
  X(STALLS,   10, stalls)        /* times a CPU waited for room (lossless) */

#define TRACE_STAT_VALUE(sel, val, name) TRACESTAT_##sel = val,
enum tracestat { TRACE_STATS(TRACE_STAT_VALUE) TRACESTAT_COUNT };

#define TRACE_ALL_EVENTS 0x7FFFFFFF  // the mask that enables every event
#endif
