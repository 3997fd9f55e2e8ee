// Basic integer types shared by the kernel, user programs and mkfs.
#ifndef XV6_TYPES_H
#define XV6_TYPES_H
typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef unsigned long long uint64;
typedef uint pde_t;
typedef uint pte_t;
#endif
