// Segment descriptors written in assembly (entryother.S).
#define SEG_NULLASM .word 0, 0; .byte 0, 0, 0, 0

// Flat 4 GiB, 32-bit, page-granular segment of the given type.
#define SEG_ASM(type, base, lim)                                  \
        .word (((lim) >> 12) & 0xffff), ((base) & 0xffff);        \
        .byte (((base) >> 16) & 0xff), (0x90 | (type)),           \
                (0xC0 | (((lim) >> 28) & 0xf)), (((base) >> 24) & 0xff)
