// The kernel event trace: what other kernel files call to record events.
// Events are listed in traceevents.h; the machinery is in trace.c and
// docs/trace.md.
//
// Recording an event costs one load and a predictable branch while it is
// masked off (or tracing is off), and a short, lock-free write into this
// CPU's ring while it is on, inlined at the call site: about 30
// instructions, no call. It never sleeps and may be called from any
// context, interrupt handlers included, with or without locks held, from
// the first line of main() on. (In lossless mode a CPU whose ring is full
// first sends a frame of it itself, which takes about a millisecond.)
//
// A host build of a kernel file (bench/) defines TRACE_OUT_OF_LINE and
// supplies trace_record() itself.
#ifndef XV6_TRACE_H
#define XV6_TRACE_H
#include "traceevents.h"
#ifndef TRACE_OUT_OF_LINE
#include "param.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#endif

// Sending one record to COM2 takes about 50 us under QEMU (a port write
// per byte), hence short frames, small drains from interrupts and bigger
// ones when idle.
#define TRACE_RING         2048  // records per CPU ring (a power of two)
#define TRACE_FRAME_RECS   16    // most records per frame sent to the host
#define TRACE_IDLE_RECS    256   // most records one idle-loop call drains
#define TRACE_TICK_RECS    32    // most records one timer tick drains
#define TRACE_HEADER_EVERY 256   // repeat the stream header every so many frames

// Stream framing (docs/trace.md, "Frames").
#define TRACE_FRAME_MAGIC  0x46545658  // "XVTF" in memory order
#define TRACE_FRAME_HEADER 1           // frame kinds
#define TRACE_FRAME_RECORDS 2

// Bit i set: event id i is recorded. 0 while tracing is off.
extern uint trace_live;

// One event as it sits in a ring and travels to the host: 32 bytes,
// little endian, no padding.
struct tracerec {
  uint64 tsc;     // time stamp counter when the event happened
  ushort type;    // EV_ id
  uchar cpu;      // CPU that recorded it
  uchar flags;    // reserved, 0
  uint pid;       // running process, 0 if none (EXEC, PROCNAME: the subject)
  uint arg[4];    // fields, as listed in traceevents.h
};

// A CPU's ring. Only that CPU writes a record or head, with interrupts
// off; the one consumer (trace.c's drain) writes only tail.
struct tracering {
  struct tracerec rec[TRACE_RING];
  uint head;      // next slot to fill; written by the producer only
  uint tail;      // next slot to send; written by the consumer only
  uint pending;   // dropped since the last LOST record (producer only)
  uint lost;      // dropped in all (producer only)
  uint reports;   // LOST records put in the ring (producer only): the
                  // events recorded are head - reports
  uint stalls;    // times the producer waited for room (producer only)
  uint cpubits;   // cpu << 16: the record's cpu field, in place
  struct tracerec spare;  // an event trace_put() found no room for
};

void trace_init(void);
struct tracering *trace_ring_of(uint cpu);
void trace_record(uint type, uint a0, uint a1, uint a2, uint a3);
void trace_procname(int pid, const char *name);
void trace_exec(int pid, uint textend, uint stackbase, uint heapbase, uint sz);
void trace_idle(void);
void trace_tick(void);
void trace_flush(void);
int  sys_tracectl(void);

#ifdef TRACE_OUT_OF_LINE
static inline void trace_emit(uint type, uint a0, uint a1, uint a2, uint a3) {
  if (trace_live & (1u << type))
    trace_record(type, a0, a1, a2, a3);
}
#define trace_emit_irqoff trace_emit
#else
extern struct tracering trace_rings[NCPU];
extern uint trace_room;  // a ring with fewer free slots takes trace_slow()
void trace_slow(void);

// Fill record e of ring r for event type of pid (< 0: the running one).
static inline __attribute__((always_inline)) void trace_fill(struct tracering *r,
                                                             struct tracerec *e, uint type,
                                                             int pid, uint a0, uint a1,
                                                             uint a2, uint a3) {
  e->tsc = rdtsc();
  *(uint *)&e->type = type | r->cpubits;  // type, cpu and flags (0) in one store
  e->pid = pid < 0 ? CPU_FIELD(pid) : pid;
  e->arg[0] = a0;
  e->arg[1] = a1;
  e->arg[2] = a2;
  e->arg[3] = a3;
}

// Record an event on this CPU for pid (< 0: the running process): this
// CPU's ring through %gs, the room check, the record's words and head
// published with release order (trace.c says why that suffices). A ring
// without room for it, or with losses to report first, gets the record in
// its spare slot instead, for trace_slow() to deal with: so the common
// path has no call and few values live at once.
// Interrupts must be off (trace_put() turns them off).
static inline __attribute__((always_inline)) void trace_put_irqoff(uint type, int pid, uint a0,
                                                                   uint a1, uint a2, uint a3) {
  struct tracering *r = CPU_FIELD(tracering);
  uint head;

  head = r->head;
  if (__builtin_expect(head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) < trace_room &&
                       r->pending == 0, 1)) {
    trace_fill(r, &r->rec[head & (TRACE_RING - 1)], type, pid, a0, a1, a2, a3);
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
  } else {
    trace_fill(r, &r->spare, type, pid, a0, a1, a2, a3);
    trace_slow();
  }
}

static inline __attribute__((always_inline)) void trace_put(uint type, int pid, uint a0,
                                                            uint a1, uint a2, uint a3) {
  uint eflags = readeflags();
  cli();
  trace_put_irqoff(type, pid, a0, a1, a2, a3);
  if (eflags & FL_IF)
    sti();
}

static inline __attribute__((always_inline)) void trace_emit(uint type, uint a0, uint a1,
                                                             uint a2, uint a3) {
  if (trace_live & (1u << type))
    trace_put(type, -1, a0, a1, a2, a3);
}

// trace_emit() for a caller that has interrupts off already.
static inline __attribute__((always_inline)) void trace_emit_irqoff(uint type, uint a0, uint a1,
                                                                    uint a2, uint a3) {
  if (trace_live & (1u << type))
    trace_put_irqoff(type, -1, a0, a1, a2, a3);
}
#endif

// mmap's five values take two records: the request, then its result.
static inline void trace_mmap(uint hint, uint length, uint prot, uint flags, uint result) {
  trace_emit(EV_MMAP, hint, length, prot, flags);
  trace_emit(EV_MMAP_RET, result, 0, 0, 0);
}
#endif
