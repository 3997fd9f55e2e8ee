// Multiprocessor configuration from the BIOS's MP tables (Intel MP spec
// 1.4): which CPUs exist (their local APIC ids), where the I/O APIC is.
//
// QEMU lists every CPU in the MP table only when each is its own socket:
// run it with -smp N,sockets=N,cores=1,threads=1.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "x86.h"
#include "mmu.h"
#include "proc.h"

// Floating pointer structure: where to find the configuration table.
struct mpfloat {
  uchar signature[4];  // "_MP_"
  uint physaddr;       // of struct mpconf
  uchar length;        // in 16-byte units
  uchar specrev;
  uchar checksum;      // all bytes sum to 0
  uchar type;
  uchar imcrp;         // bit 7: IMCR present (PIC mode)
  uchar reserved[3];
};

// Configuration table header, followed by variable-length entries.
struct mpconf {
  uchar signature[4];  // "PCMP"
  ushort length;       // of the whole table
  uchar version;
  uchar checksum;
  uchar product[20];
  uint oemtable;
  ushort oemlength;
  ushort entry;        // number of entries
  uint lapicaddr;
  ushort xlength;
  uchar xchecksum;
  uchar reserved;
};

struct mpproc {        // entry type 0
  uchar type;
  uchar apicid;
  uchar version;
  uchar flags;         // bit 0: enabled
  uchar signature[4];
  uint feature;
  uchar reserved[8];
};

struct mpioapic {      // entry type 2
  uchar type;
  uchar apicno;
  uchar version;
  uchar flags;
  uint addr;
};

enum { MPPROC = 0, MPBUS = 1, MPIOAPIC = 2, MPIOINTR = 3, MPLINTR = 4 };

struct cpu cpus[NCPU];
int ncpu;
uchar cpu_of_apicid[256];  // 1 + index in cpus[] of the CPU with that APIC id; 0: none
uchar ioapicid;
int ismp;

static uchar sum(uchar *p, int len) {
  uchar s = 0;
  while (len-- > 0)
    s += *p++;
  return s;
}

// Look for a valid floating pointer in [pa, pa+len).
static struct mpfloat *search(uint pa, int len) {
  uchar *p = P2V(pa), *e = p + len;
  for (; p + sizeof(struct mpfloat) <= e; p += sizeof(struct mpfloat))
    if (memcmp(p, "_MP_", 4) == 0 && sum(p, sizeof(struct mpfloat)) == 0)
      return (struct mpfloat *)p;
  return 0;
}

// The spec's search order: first KiB of the EBDA, else the last KiB of
// base memory, else the BIOS ROM.
static struct mpfloat *find_float(void) {
  uchar *bda = (uchar *)P2V(0x400);
  uint p;
  struct mpfloat *mp;
  if ((p = ((bda[0x0F] << 8) | bda[0x0E]) << 4) != 0) {
    if ((mp = search(p, 1024)) != 0)
      return mp;
  } else {
    p = ((bda[0x14] << 8) | bda[0x13]) * 1024;
    if ((mp = search(p - 1024, 1024)) != 0)
      return mp;
  }
  return search(0xF0000, 0x10000);
}

static struct mpconf *find_conf(struct mpfloat **pmp) {
  struct mpfloat *mp;
  struct mpconf *conf;
  if ((mp = find_float()) == 0 || mp->physaddr == 0)
    return 0;
  conf = (struct mpconf *)P2V(mp->physaddr);
  if (memcmp(conf, "PCMP", 4) != 0 || (conf->version != 1 && conf->version != 4))
    return 0;
  if (sum((uchar *)conf, conf->length) != 0)
    return 0;
  *pmp = mp;
  return conf;
}

void mpinit(void) {
  struct mpfloat *mp;
  struct mpconf *conf;
  uchar *p, *e;

  if ((conf = find_conf(&mp)) == 0)
    panic("mpinit: no MP table (not an SMP machine?)");
  ismp = 1;
  lapic = (uint *)conf->lapicaddr;
  for (p = (uchar *)(conf + 1), e = (uchar *)conf + conf->length; p < e;) {
    switch (*p) {
    case MPPROC: {
      struct mpproc *proc = (struct mpproc *)p;
      if (ncpu < NCPU && (proc->flags & 1)) {
        cpus[ncpu].apicid = proc->apicid;
        cpu_of_apicid[proc->apicid] = ++ncpu;
      }
      p += sizeof(struct mpproc);
      break;
    }
    case MPIOAPIC:
      ioapicid = ((struct mpioapic *)p)->apicno;
      p += sizeof(struct mpioapic);
      break;
    case MPBUS:
    case MPIOINTR:
    case MPLINTR:
      p += 8;
      break;
    default:
      panic("mpinit: unknown MP table entry");
    }
  }
  if (mp->imcrp & 0x80) {
    // The machine starts in PIC mode: route interrupts to the APICs.
    outb(0x22, 0x70);
    outb(0x23, inb(0x23) | 1);
  }
}
