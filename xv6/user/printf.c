// printf(fd, fmt, ...): formatted output to a file descriptor.
//
// Supports %d %u %x %p %s %c and %%. Output is collected in a small buffer
// on the stack and written when it fills and at the end, so a short line
// reaches the file in one write(): lines from concurrent processes do not
// interleave mid-line.
#include "types.h"
#include "user.h"

#define OUTBUF 128

struct out {
  int fd;
  int len;
  char buf[OUTBUF];
};

static void flush(struct out *o) {
  if (o->len > 0)
    write(o->fd, o->buf, o->len);
  o->len = 0;
}

static void putc(struct out *o, char c) {
  if (o->len == OUTBUF)
    flush(o);
  o->buf[o->len++] = c;
}

static void puts(struct out *o, const char *s) {
  if (s == 0)
    s = "(null)";
  while (*s)
    putc(o, *s++);
}

static void putuint(struct out *o, uint v, uint base) {
  static const char digits[] = "0123456789abcdef";
  char tmp[12];  // 32 bits: at most 10 decimal or 8 hex digits
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  while (n > 0)
    putc(o, tmp[--n]);
}

// Negate as unsigned so that INT_MIN prints correctly.
static void putint(struct out *o, int v) {
  if (v < 0) {
    putc(o, '-');
    putuint(o, -(uint)v, 10);
  } else {
    putuint(o, v, 10);
  }
}

void printf(int fd, const char *fmt, ...) {
  struct out o;
  __builtin_va_list ap;

  o.fd = fd;
  o.len = 0;
  __builtin_va_start(ap, fmt);
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      putc(&o, *fmt);
      continue;
    }
    fmt++;
    switch (*fmt) {
    case 'd': putint(&o, __builtin_va_arg(ap, int)); break;
    case 'u': putuint(&o, __builtin_va_arg(ap, uint), 10); break;
    case 'x': putuint(&o, __builtin_va_arg(ap, uint), 16); break;
    case 'p':
      puts(&o, "0x");
      putuint(&o, (uint)__builtin_va_arg(ap, void *), 16);
      break;
    case 's': puts(&o, __builtin_va_arg(ap, const char *)); break;
    case 'c': putc(&o, (char)__builtin_va_arg(ap, int)); break;
    case '%': putc(&o, '%'); break;
    case 0:   fmt--; break;  // lone '%' at the end: stop cleanly
    default:  // unknown conversion: show it as written
      putc(&o, '%');
      putc(&o, *fmt);
      break;
    }
  }
  __builtin_va_end(ap);
  flush(&o);
}
