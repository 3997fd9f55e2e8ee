// The disk is little-endian, like the hosts we build on; these make the
// conversions visible, and correct on a big-endian host too. For mkfs
// and fsck.
#ifndef XV6_MKFS_LE_H
#define XV6_MKFS_LE_H
#include <stdint.h>

static inline uint32_t le32(uint32_t x) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return __builtin_bswap32(x);
#else
  return x;
#endif
}

static inline uint16_t le16(uint16_t x) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return __builtin_bswap16(x);
#else
  return x;
#endif
}
#endif
