// Small C library for user programs: strings, memory, stat, line input.
// There is no libc; everything a program may call is declared in user.h.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

// The compiler may emit calls to memcpy for struct copies even with
// -fno-builtin, so provide it, although user.h does not declare it.
void *memcpy(void *dst, const void *src, unsigned int n);

int stat(const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  close(fd);
  return r;
}

char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

uint strlen(const char *s) {
  uint n = 0;
  while (s[n])
    n++;
  return n;
}

// Written with rep stosb so the optimiser cannot turn the loop back into a
// call to memset itself.
void *memset(void *dst, int c, uint n) {
  void *d = dst;
  asm volatile("cld; rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory", "cc");
  return dst;
}

// Copies correctly when the ranges overlap: backwards if dst is above src.
void *memmove(void *dst, const void *src, int n) {
  char *d = dst;
  const char *s = src;
  if (n <= 0)
    return dst;
  if (s < d && s + n > d) {
    d += n - 1;
    s += n - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
  } else {
    asm volatile("cld; rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
  }
  return dst;
}

void *memcpy(void *dst, const void *src, uint n) {
  return memmove(dst, src, n);
}

char *strchr(const char *s, char c) {
  for (; *s; s++)
    if (*s == c)
      return (char *)s;
  return 0;
}

// Read one line (including its newline, if it fits) into buf, always
// nul-terminated. At end of input buf is left empty.
char *gets(char *buf, int max) {
  int i = 0;
  char c;
  while (i + 1 < max) {
    if (read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

// Decimal, with an optional leading '-'; stops at the first non-digit.
int atoi(const char *s) {
  int sign = 1, n = 0;
  if (*s == '-') {
    sign = -1;
    s++;
  }
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}
