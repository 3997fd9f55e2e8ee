// Memory and string helpers for the kernel (there is no libc).
#include "types.h"
#include "x86.h"

void *memset(void *dst, int c, uint n) {
  // Whole words when everything is word aligned: zeroing pages is common.
  if ((uint)dst % 4 == 0 && n % 4 == 0) {
    uint b = c & 0xFF;
    stosl(dst, (b << 24) | (b << 16) | (b << 8) | b, n / 4);
  } else {
    stosb(dst, c, n);
  }
  return dst;
}

int memcmp(const void *a, const void *b, uint n) {
  const uchar *p = a, *q = b;
  for (; n > 0; n--, p++, q++)
    if (*p != *q)
      return *p - *q;
  return 0;
}

// Copies n bytes; the ranges may overlap. Whole words when everything
// is word aligned (page copies in fork, trace records), which is also
// safe upwards when dst is below an overlapping src.
void *memmove(void *dst, const void *src, uint n) {
  const char *s = src;
  char *d = dst;
  if (s < d && s + n > d) {
    s += n;
    d += n;
    while (n-- > 0)
      *--d = *--s;
  } else if (((uint)s | (uint)d | n) % 4 == 0) {
    movsl(d, s, n / 4);
  } else {
    while (n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

// The compiler may emit calls to memcpy for struct copies.
void *memcpy(void *dst, const void *src, uint n) {
  return memmove(dst, src, n);
}

int strncmp(const char *p, const char *q, uint n) {
  for (; n > 0 && *p && *p == *q; n--, p++, q++)
    ;
  if (n == 0)
    return 0;
  return (uchar)*p - (uchar)*q;
}

char *strncpy(char *dst, const char *src, int n) {
  char *d = dst;
  for (; n > 0 && *src; n--)
    *d++ = *src++;
  for (; n > 0; n--)
    *d++ = 0;
  return dst;
}

// Like strncpy, but always NUL-terminates (when n > 0).
char *safestrcpy(char *dst, const char *src, int n) {
  char *d = dst;
  if (n <= 0)
    return dst;
  while (--n > 0 && *src)
    *d++ = *src++;
  *d = 0;
  return dst;
}

int strlen(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}
