// The kernel event trace: per-CPU rings of fixed-size records, drained to
// the host over COM2 in checksummed frames. The events are listed in
// traceevents.h; the stream format and the design are in docs/trace.md.
//
// Each CPU owns one ring and is its only producer: it writes with
// interrupts off, so nothing on that CPU can interleave, and takes no lock.
// The common case of recording is inlined at each call site (trace.h);
// the rest is here.
// A full ring drops new events and counts them; the count goes into the
// ring as a LOST record as soon as there is room again. The one consumer
// of all rings is whichever CPU holds the drain lock; it takes records out
// a frame at a time and writes the frame to COM2, off the traced paths:
// from the idle loop, a little from each timer tick, and on a flush.
// head is written only by the producer and tail only by the consumer, each
// published with release order and read with acquire order, so a slot is
// never read before it is filled nor refilled before it is read.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "spinlock.h"
#include "proc.h"
#include "syscall.h"
#include "defs.h"
#include "trace.h"

_Static_assert((TRACE_RING & (TRACE_RING - 1)) == 0, "ring size must be a power of two");

#define TRACE_MAX_ID_CHECK(name, id, f0, f1, f2, f3) \
  _Static_assert(id > 0 && id < 31, "event id out of mask range: " #name);
TRACE_EVENTS(TRACE_MAX_ID_CHECK)

_Static_assert(sizeof(struct tracerec) == 32, "record layout");
_Static_assert(__builtin_offsetof(struct tracerec, type) == 8 &&
               __builtin_offsetof(struct tracerec, cpu) == 10 &&
               __builtin_offsetof(struct tracerec, flags) == 11,
               "trace_put() stores type, cpu and flags as one little-endian word");

// Frame header on the wire, followed by length bytes of payload. sum is
// the checksum (csum_add) of bytes 4..11 of this header, then the payload.
struct framehdr {
  uint magic;     // TRACE_FRAME_MAGIC
  uchar kind;     // TRACE_FRAME_HEADER or TRACE_FRAME_RECORDS
  uchar cpu;      // ring the records come from (0xFF for a header)
  ushort length;  // payload bytes
  uint seq;       // frame number, from 0 at boot
  uint sum;
};
_Static_assert(sizeof(struct framehdr) == 16, "frame header layout");

// Payload of a header frame; the schema text (TRACE_SCHEMA) follows.
struct streamhdr {
  uint version;   // TRACE_VERSION
  ushort recsize; // sizeof(struct tracerec)
  ushort ncpu;    // CPUs started
  uint pagesize;
  uint kernbase;
  uint64 tschz;   // TSC ticks per second, 0 if unknown
  uint64 tsc0;    // TSC when tracing started
  uint ringsize;  // records per CPU ring
  uint reserved;
};
_Static_assert(sizeof(struct streamhdr) == 40, "stream header layout");

static const char schema[] = TRACE_SCHEMA;
_Static_assert(sizeof(struct streamhdr) + sizeof(schema) < 65536, "header frame too long");

uint trace_live;                 // what trace_emit() tests: on ? mask : 0

static struct {
  struct spinlock lock;          // serialises changes of on and mask
  int on;
  uint mask;
  int lossless;                  // a full ring waits for room instead of dropping
} ctl;

// Records a ring may hold (TRACECTL_RING), at most TRACE_RING. Slots are
// still addressed modulo TRACE_RING; only how far head may run ahead of
// tail changes. trace_room is one less: the fast path leaves the last slot
// for a LOST record.
static uint ringcap = TRACE_RING;
uint trace_room = TRACE_RING - 1;

struct tracering trace_rings[NCPU];
#define rings trace_rings
static uint64 tsc0;
static uint64 tschz;
static uint tsckhz;

// The drain lock: held, with interrupts off, by the CPU writing a frame,
// for one frame at most. It guards everything below it, except that anyone
// may set header_due.
static uint drainlock;
static volatile int header_due;  // send the stream header before more records
static uint frameseq;
static uint frames_since_header;
static uint sent;                // records sent
static uint nextring;            // where the next drain starts looking

// Interrupts off, as pushcli() does, but without its bookkeeping.
static uint intr_off(void) {
  uint eflags = readeflags();
  cli();
  return eflags;
}

static void intr_restore(uint eflags) {
  if (eflags & FL_IF)
    sti();
}

// Append a record to r, this CPU's ring, and publish it. typecpu is the
// record's type | cpu << 16. Interrupts must be off. Returns -1 if the
// ring is full.
static int ring_put(struct tracering *r, uint64 tsc, uint typecpu, uint pid,
                    uint a0, uint a1, uint a2, uint a3) {
  uint head = r->head;
  struct tracerec *e = &r->rec[head & (TRACE_RING - 1)];

  if (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= ringcap)
    return -1;
  e->tsc = tsc;
  *(uint *)&e->type = typecpu;
  e->pid = pid;
  e->arg[0] = a0;
  e->arg[1] = a1;
  e->arg[2] = a2;
  e->arg[3] = a3;
  __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
  return 0;
}

// Put the count of events dropped since the last LOST record into the
// ring, if any were and there is room. Interrupts must be off.
static int ring_report_lost(struct tracering *r, uint64 tsc, uint cpu) {
  if (r->pending == 0)
    return 0;
  if (ring_put(r, tsc, EV_LOST | cpu << 16, 0, cpu, r->pending, 0, 0) < 0)
    return -1;
  r->pending = 0;
  r->reports++;
  return 0;
}

static void make_room(uint id);

// Record the event trace_put() left in this CPU's spare slot: its ring
// was (nearly) full, or dropped events wait to be reported first. Every
// event is either put in the ring or counted in pending and lost.
// Interrupts are off.
void trace_slow(void) {
  struct tracering *r = CPU_FIELD(tracering);
  uint id = r - rings;
  struct tracerec *e = &r->spare;
  uint64 tsc;
  uint typecpu, pid, a0, a1, a2, a3;

  if (r->pending && !ctl.lossless && r->head - r->tail >= ringcap) {
    r->pending++;  // still full: drop this one too, at once
    r->lost++;
    return;
  }
  tsc = e->tsc;
  typecpu = *(uint *)&e->type;
  pid = e->pid;
  a0 = e->arg[0], a1 = e->arg[1], a2 = e->arg[2], a3 = e->arg[3];
  if (ctl.lossless && r->head - r->tail >= ringcap - 1)
    make_room(id);
  if ((r->pending == 0 || ring_report_lost(r, tsc, id) == 0) &&
      ring_put(r, tsc, typecpu, pid, a0, a1, a2, a3) == 0)
    return;
  r->pending++;
  r->lost++;
}

// CPU cpu's ring, for seginit() to give struct cpu; the ring learns its
// CPU's number for its records.
struct tracering *trace_ring_of(uint cpu) {
  rings[cpu].cpubits = cpu << 16;
  return &rings[cpu];
}

// trace_emit() for code that cannot inline it.
void trace_record(uint type, uint a0, uint a1, uint a2, uint a3) {
  trace_put(type, -1, a0, a1, a2, a3);
}

// Name process pid: the first 16 bytes of name, NUL padded.
void trace_procname(int pid, const char *name) {
  uint w[4] = {0, 0, 0, 0};
  int i;

  if (!(trace_live & (1u << EV_PROCNAME)))
    return;
  for (i = 0; i < 16 && name[i]; i++)
    w[i / 4] |= (uint)(uchar)name[i] << (8 * (i % 4));
  trace_put(EV_PROCNAME, pid, w[0], w[1], w[2], w[3]);
}

// Process pid has a new image (exec, or userinit for the first process,
// which runs no process yet: hence the explicit pid).
void trace_exec(int pid, uint textend, uint stackbase, uint heapbase, uint sz) {
  if (trace_live & (1u << EV_EXEC))
    trace_put(EV_EXEC, pid, textend, stackbase, heapbase, sz);
}

// If this CPU dropped events that no LOST record reports yet, report them.
static void report_lost(void) {
  uint eflags = intr_off();
  struct tracering *r = CPU_FIELD(tracering);

  ring_report_lost(r, rdtsc(), r - rings);
  intr_restore(eflags);
}

// The frame checksum (docs/trace.md, "Frames"): over the frame read as
// 32-bit little-endian words (a last partial word zero-padded), s1 sums
// the words and s2 the successive values of s1, both mod 2^32; the
// checksum is s1 ^ rotl(s2, 16). s2 makes it depend on where each word
// is, so a dropped or swapped byte shows, and it costs two additions per
// word: draining must stay cheap for the traced workload.
struct csum {
  uint s1, s2;
};

// Add n bytes at p. Only the last piece of a frame may end mid-word.
static void csum_add(struct csum *c, const void *p, uint n) {
  const uint *w = p;
  uint s1 = c->s1, s2 = c->s2, i, tail = 0;

  for (i = 0; i < n / 4; i++) {
    s1 += w[i];
    s2 += s1;
  }
  if (n % 4) {
    memmove(&tail, w + n / 4, n % 4);
    s1 += tail;
    s2 += s1;
  }
  c->s1 = s1;
  c->s2 = s2;
}

static uint csum_value(struct csum *c) {
  return c->s1 ^ (c->s2 << 16 | c->s2 >> 16);
}

// Write one frame whose payload is a then b. Caller holds the drain lock.
static void frame_send(uint kind, uint cpu, const void *a, uint alen, const void *b, uint blen) {
  struct framehdr h;
  struct csum c = { 0, 0 };

  h.magic = TRACE_FRAME_MAGIC;
  h.kind = kind;
  h.cpu = cpu;
  h.length = alen + blen;
  h.seq = frameseq++;
  csum_add(&c, (uchar*)&h + 4, 8);
  csum_add(&c, a, alen);
  csum_add(&c, b, blen);
  h.sum = csum_value(&c);
  com2write((uchar*)&h, sizeof(h));
  if (alen > 0)
    com2write(a, alen);
  if (blen > 0)
    com2write(b, blen);
  frames_since_header++;
}

// Send the stream header. Caller holds the drain lock.
static void header_send(void) {
  struct streamhdr s;

  s.version = TRACE_VERSION;
  s.recsize = sizeof(struct tracerec);
  s.ncpu = ncpu > 0 ? ncpu : 1;
  s.pagesize = PGSIZE;
  s.kernbase = KERNBASE;
  s.tschz = tschz;
  s.tsc0 = tsc0;
  s.ringsize = TRACE_RING;
  s.reserved = 0;
  header_due = 0;
  frame_send(TRACE_FRAME_HEADER, 0xFF, &s, sizeof(s), schema, sizeof(schema) - 1);
  frames_since_header = 0;
}

// Send at most max records of ring id as one frame; returns how many.
// The records go out straight from the ring, in two pieces when they wrap
// around its end; their slots are given back to the producer after.
// Caller holds the drain lock.
static uint ring_drain(uint id, uint max) {
  struct tracering *r = &rings[id];
  uint tail = r->tail;
  uint n = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - tail;
  uint first = tail & (TRACE_RING - 1), upto_end;

  if (n > max)
    n = max;
  if (n > TRACE_FRAME_RECS)
    n = TRACE_FRAME_RECS;
  if (n == 0)
    return 0;
  upto_end = n < TRACE_RING - first ? n : TRACE_RING - first;
  frame_send(TRACE_FRAME_RECORDS, id, &r->rec[first], upto_end * sizeof(struct tracerec),
             &r->rec[0], (n - upto_end) * sizeof(struct tracerec));
  __atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
  sent += n;
  return n;
}

// Send one frame: from ring id if id >= 0, else from the next ring, in
// turn, that holds at least min records. Returns the number of records
// sent, or -1 if another CPU holds the drain lock. The lock is held with
// interrupts off, so its holder is always running and waiting for it is
// short: one frame takes TRACE_FRAME_RECS * ~50 us under QEMU.
static int drain_one(int id, uint min, uint max) {
  uint eflags = intr_off();
  uint i, n = 0;

  if (xchg(&drainlock, 1) != 0) {
    intr_restore(eflags);
    return -1;
  }
  if (header_due || frames_since_header >= TRACE_HEADER_EVERY)
    header_send();
  if (id >= 0) {
    n = ring_drain(id, max);
  } else {
    for (i = 0; i < NCPU && n == 0; i++) {
      id = (nextring + i) % NCPU;
      if (rings[id].head - rings[id].tail >= min)
        n = ring_drain(id, max);
    }
    nextring = (id + 1) % NCPU;
  }
  xchg(&drainlock, 0);
  intr_restore(eflags);
  return n;
}

// Send frames until max records are sent or no ring holds min records.
static void drain(uint min, uint max) {
  int n;

  while (max > 0 && (n = drain_one(-1, min, max)) > 0)
    max -= n;
}

// In lossless mode, called by a producer whose ring id is full: send a
// frame of it, or wait while another CPU drains. Interrupts are off.
static void make_room(uint id) {
  struct tracering *r = &rings[id];

  r->stalls++;
  while (r->head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= ringcap - 1)
    if (drain_one(id, 1, TRACE_FRAME_RECS) < 0)
      __builtin_ia32_pause();
}

// Called by each CPU's scheduler when it has nothing to run: send what is
// buffered, up to TRACE_IDLE_RECS records. Rings with only a few records
// wait until a timer tick has passed, so that a trickle of events travels
// in full frames rather than one frame each.
void trace_idle(void) {
  static uint lastticks;
  uint now = ticks, min = TRACE_FRAME_RECS;

  report_lost();
  if (now != lastticks) {
    lastticks = now;
    min = 1;
  }
  drain(min, TRACE_IDLE_RECS);
}

// Called on every CPU's timer interrupt, so that a busy machine drains
// too. Bounded: the interrupt handler must stay short.
void trace_tick(void) {
  report_lost();
  drain(1, TRACE_TICK_RECS);
}

// Send everything recorded before the call, and a fresh stream header.
void trace_flush(void) {
  uint head[NCPU];
  uint id;

  report_lost();
  header_due = 1;
  for (id = 0; id < NCPU; id++)
    head[id] = __atomic_load_n(&rings[id].head, __ATOMIC_ACQUIRE);
  for (id = 0; id < NCPU; id++)
    while ((int)(head[id] - __atomic_load_n(&rings[id].tail, __ATOMIC_ACQUIRE)) > 0)
      drain_one(id, 1, TRACE_FRAME_RECS);
  while (header_due)
    drain_one(-1, 1, 0);
}

// Measure the TSC against PIT channel 2 (1193182 Hz) counting down 10 ms,
// with the speaker gate at port 0x61; returns TSC ticks per 10 ms, or 0 if
// the PIT output never rises.
#define PIT_HZ 1193182
static uint tsc_per_10ms(void) {
  uint latch = PIT_HZ / 100;
  uchar gate = inb(0x61);
  uint64 start, end;
  uint spins;

  outb(0x61, (gate & ~0x02) | 0x01);  // channel 2 gate on, speaker off
  outb(0x43, 0xB0);                   // channel 2, low then high byte, mode 0
  outb(0x42, latch & 0xFF);
  outb(0x42, latch >> 8);
  start = rdtsc();
  for (spins = 0; spins < 50000000; spins++)
    if (inb(0x61) & 0x20)
      break;
  end = rdtsc();
  outb(0x61, gate);
  if (spins == 50000000)
    return 0;
  return (uint)(end - start);
}

// Turn tracing on or off and set the mask, and record that in the stream.
// The TRACE_CTL record is written while tracing is on: before turning it
// off, after turning it on.
static void trace_set(int on, uint mask) {
  acquire(&ctl.lock);
  if (ctl.on)
    trace_put(EV_TRACE_CTL, -1, on, mask, 0, 0);
  if (on && !ctl.on)
    header_due = 1;
  trace_live = on ? mask : 0;
  if (on && !ctl.on)
    trace_put(EV_TRACE_CTL, -1, on, mask, 0, 0);
  ctl.on = on;
  ctl.mask = mask;
  release(&ctl.lock);
}

// Called once on the boot CPU, before any event can happen and before the
// other CPUs start. Tracing starts on, with every event enabled. No lock
// yet: the spin locks are not used before mpinit().
void trace_init(void) {
  initlock(&ctl.lock, "trace");
  tsckhz = tsc_per_10ms() / 10;
  tschz = (uint64)tsckhz * 1000;
  tsc0 = rdtsc();
  header_due = 1;
  ctl.on = 1;
  ctl.mask = TRACE_ALL_EVENTS;
  trace_live = ctl.mask;
  trace_put(EV_TRACE_CTL, -1, 1, ctl.mask, 0, 0);
}

static uint trace_status(int what) {
  uint id, n = 0;

  for (id = 0; id < NCPU; id++) {
    struct tracering *r = &rings[id];
    switch (what) {
    case TRACESTAT_EMITTED:  n += r->head - r->reports; break;
    case TRACESTAT_LOST:     n += r->lost; break;
    case TRACESTAT_BUFFERED: n += r->head - r->tail; break;
    case TRACESTAT_STALLS:   n += r->stalls; break;
    }
  }
  switch (what) {
  case TRACESTAT_ON:       return ctl.on;
  case TRACESTAT_MASK:     return ctl.mask;
  case TRACESTAT_SENT:     return sent;
  case TRACESTAT_FRAMES:   return frameseq;
  case TRACESTAT_TSCKHZ:   return tsckhz;
  case TRACESTAT_RINGSIZE: return ringcap;
  case TRACESTAT_LOSSLESS: return ctl.lossless;
  }
  return n;
}

// int tracectl(int op, int arg): see TRACECTL_ in traceevents.h.
int sys_tracectl(void) {
  int op, arg;
  uint old;

  if (argint(0, &op) < 0 || argint(1, &arg) < 0)
    return -1;
  switch (op) {
  case TRACECTL_ON:
    trace_set(1, ctl.mask);
    return 0;
  case TRACECTL_OFF:
    trace_set(0, ctl.mask);
    return 0;
  case TRACECTL_FLUSH:
    trace_flush();
    return 0;
  case TRACECTL_LOSSLESS:
    old = ctl.lossless;
    ctl.lossless = arg != 0;
    return old;
  case TRACECTL_RING:
    if (arg < 4 || arg > TRACE_RING)
      break;
    old = ringcap;
    ringcap = arg;
    trace_room = arg - 1;
    return old;
  case TRACECTL_STATUS:
    if (arg < 0 || arg >= TRACESTAT_COUNT)
      break;
    return trace_status(arg) & 0x7FFFFFFF;
  case TRACECTL_MASK:
    old = ctl.mask;
    trace_set(ctl.on, arg & TRACE_ALL_EVENTS);
    return old;
  }
  return syserr(ERR_BADARG, op);
}
