// tracectl: control the kernel event trace.
//   tracectl on | off | flush | status | mask HEX | lossless on|off | ring N
#include "types.h"
#include "user.h"
#include "traceevents.h"

#define TRACE_STAT_NAME(sel, val, name) [TRACESTAT_##sel] #name,
static const char *statnames[TRACESTAT_COUNT] = { TRACE_STATS(TRACE_STAT_NAME) };

static void
usage(void)
{
  printf(2, "usage: tracectl on|off|flush|status|mask HEX|lossless on|off|ring N\n");
  exit();
}

// Parse a hex number, with or without 0x; returns -1 if s is not one.
static int
parsehex(const char *s, uint *out)
{
  uint v = 0;
  int digits = 0;

  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    s += 2;
  for (; *s; s++, digits++) {
    if (*s >= '0' && *s <= '9')
      v = v * 16 + (*s - '0');
    else if (*s >= 'a' && *s <= 'f')
      v = v * 16 + (*s - 'a' + 10);
    else if (*s >= 'A' && *s <= 'F')
      v = v * 16 + (*s - 'A' + 10);
    else
      return -1;
  }
  if (digits == 0 || digits > 8)
    return -1;
  *out = v;
  return 0;
}

static void
status(void)
{
  int i, v;

  for (i = 0; i < TRACESTAT_COUNT; i++) {
    v = tracectl(TRACECTL_STATUS, i);
    if (i == TRACESTAT_MASK)
      printf(1, "%s 0x%x\n", statnames[i], v);
    else
      printf(1, "%s %d\n", statnames[i], v);
  }
}

int
main(int argc, char *argv[])
{
  uint mask;
  int r = 0;

  if (argc < 2)
    usage();
  if (strcmp(argv[1], "on") == 0)
    r = tracectl(TRACECTL_ON, 0);
  else if (strcmp(argv[1], "off") == 0)
    r = tracectl(TRACECTL_OFF, 0);
  else if (strcmp(argv[1], "flush") == 0)
    r = tracectl(TRACECTL_FLUSH, 0);
  else if (strcmp(argv[1], "status") == 0)
    status();
  else if (strcmp(argv[1], "mask") == 0) {
    if (argc != 3 || parsehex(argv[2], &mask) < 0)
      usage();
    r = tracectl(TRACECTL_MASK, mask);
    if (r >= 0)
      printf(1, "mask 0x%x (was 0x%x)\n", mask & TRACE_ALL_EVENTS, r);
  } else if (strcmp(argv[1], "lossless") == 0) {
    if (argc != 3 || (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0))
      usage();
    r = tracectl(TRACECTL_LOSSLESS, strcmp(argv[2], "on") == 0);
  } else if (strcmp(argv[1], "ring") == 0) {
    if (argc != 3)
      usage();
    r = tracectl(TRACECTL_RING, atoi(argv[2]));
    if (r >= 0)
      printf(1, "ring %d records (was %d)\n", atoi(argv[2]), r);
  } else
    usage();
  if (r < 0) {
    printf(2, "tracectl: %s failed\n", argv[1]);
    exit();
  }
  exit();
}
