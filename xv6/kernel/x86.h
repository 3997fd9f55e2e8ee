// Wrappers for x86 instructions that C cannot express.
#ifndef XV6_X86_H
#define XV6_X86_H

static inline uchar inb(ushort port) {
  uchar v;
  asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
  return v;
}

static inline void outb(ushort port, uchar v) {
  asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline void outw(ushort port, ushort v) {
  asm volatile("outw %0, %1" : : "a"(v), "d"(port));
}

// Read cnt 32-bit words from port into addr.
static inline void insl(int port, void *addr, int cnt) {
  asm volatile("cld; rep insl"
               : "=D"(addr), "=c"(cnt)
               : "d"(port), "0"(addr), "1"(cnt)
               : "memory", "cc");
}

// Write cnt 32-bit words from addr to port.
static inline void outsl(int port, const void *addr, int cnt) {
  asm volatile("cld; rep outsl"
               : "=S"(addr), "=c"(cnt)
               : "d"(port), "0"(addr), "1"(cnt)
               : "cc");
}

// Write cnt bytes from addr to port.
static inline void outsb(int port, const void *addr, int cnt) {
  asm volatile("cld; rep outsb"
               : "=S"(addr), "=c"(cnt)
               : "d"(port), "0"(addr), "1"(cnt)
               : "cc");
}

static inline void stosb(void *addr, int data, int cnt) {
  asm volatile("cld; rep stosb"
               : "=D"(addr), "=c"(cnt)
               : "0"(addr), "1"(cnt), "a"(data)
               : "memory", "cc");
}

static inline void stosl(void *addr, int data, int cnt) {
  asm volatile("cld; rep stosl"
               : "=D"(addr), "=c"(cnt)
               : "0"(addr), "1"(cnt), "a"(data)
               : "memory", "cc");
}

// Copy cnt 32-bit words from src to dst, upwards.
static inline void movsl(void *dst, const void *src, int cnt) {
  asm volatile("cld; rep movsl"
               : "=D"(dst), "=S"(src), "=c"(cnt)
               : "0"(dst), "1"(src), "2"(cnt)
               : "memory", "cc");
}

struct segdesc;

static inline void lgdt(struct segdesc *p, int size) {
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)p;
  pd[2] = (uint)p >> 16;
  asm volatile("lgdt (%0)" : : "r"(pd));
}

struct gatedesc;

static inline void lidt(struct gatedesc *p, int size) {
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)p;
  pd[2] = (uint)p >> 16;
  asm volatile("lidt (%0)" : : "r"(pd));
}

static inline void ltr(ushort sel) {
  asm volatile("ltr %0" : : "r"(sel));
}

static inline uint readeflags(void) {
  uint eflags;
  asm volatile("pushfl; popl %0" : "=r"(eflags));
  return eflags;
}

static inline void loadgs(ushort v) {
  asm volatile("movw %0, %%gs" : : "r"(v));
}

static inline void cli(void) { asm volatile("cli"); }
static inline void sti(void) { asm volatile("sti"); }
static inline void hlt(void) { asm volatile("hlt"); }

// Atomically swap *addr and newval; returns the old value.
static inline uint xchg(volatile uint *addr, uint newval) {
  uint result;
  asm volatile("lock; xchgl %0, %1"
               : "+m"(*addr), "=a"(result)
               : "1"(newval)
               : "cc");
  return result;
}

static inline uint rcr2(void) {
  uint val;
  asm volatile("movl %%cr2, %0" : "=r"(val));
  return val;
}

static inline void lcr3(uint val) {
  asm volatile("movl %0, %%cr3" : : "r"(val));
}

static inline uint64 rdtsc(void) {
  uint lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64)hi << 32) | lo;
}

static inline void invlpg(void *va) {
  asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

// The frame that trapasm.S builds on the kernel stack for every trap.
struct trapframe {
  // pushal
  uint edi;
  uint esi;
  uint ebp;
  uint oesp;      // useless: the esp pushal saw
  uint ebx;
  uint edx;
  uint ecx;
  uint eax;

  // segment registers
  ushort gs;
  ushort padding1;
  ushort fs;
  ushort padding2;
  ushort es;
  ushort padding3;
  ushort ds;
  ushort padding4;
  uint trapno;

  // pushed by the CPU (err by the CPU or by the vector stub)
  uint err;
  uint eip;
  ushort cs;
  ushort padding5;
  uint eflags;

  // pushed by the CPU only on a change of privilege (from user mode)
  uint esp;
  ushort ss;
  ushort padding6;
};
#endif
