// The kernel event trace: what other kernel files call to record events.
// Events are listed in traceevents.h; the machinery is in trace.c and
// docs/trace.md.
//
// Recording an event costs one load and a predictable branch while it is
// masked off (or tracing is off), and a short, lock-free write into this
// CPU's ring while it is on. It never sleeps and may be called from any
// context, interrupt handlers included, with or without locks held, from
// the first line of main() on. (In lossless mode a CPU whose ring is full
// first sends a frame of it itself, which takes about a millisecond.)
#ifndef XV6_TRACE_H
#define XV6_TRACE_H
#include "traceevents.h"

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

void trace_init(void);
void trace_record(uint type, uint a0, uint a1, uint a2, uint a3);
void trace_procname(int pid, const char *name);
void trace_exec(int pid, uint textend, uint stackbase, uint heapbase, uint sz);
void trace_idle(void);
void trace_tick(void);
void trace_flush(void);
int  sys_tracectl(void);

static inline void
trace_emit(uint type, uint a0, uint a1, uint a2, uint a3)
{
  if (trace_live & (1u << type))
    trace_record(type, a0, a1, a2, a3);
}

// mmap's five values take two records: the request, then its result.
static inline void
trace_mmap(uint hint, uint length, uint prot, uint flags, uint result)
{
  trace_emit(EV_MMAP, hint, length, prot, flags);
  trace_emit(EV_MMAP_RET, result, 0, 0, 0);
}
#endif
