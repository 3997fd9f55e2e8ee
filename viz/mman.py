"""mmap flag and protection bits, read from the kernel's xv6/kernel/mman.h
so that the plots and the kernel cannot disagree."""

import re

from . import REPO

MMAN_H = REPO / "xv6" / "kernel" / "mman.h"
# Linux's values, which mman.h also uses: only for a tree without the header.
_FALLBACK = {"PROT_READ": 0x1, "PROT_WRITE": 0x2, "PROT_EXEC": 0x4,
             "MAP_SHARED": 0x01, "MAP_PRIVATE": 0x02}


def _read_defines(path):
    try:
        text = path.read_text()
    except OSError:
        return dict(_FALLBACK)
    found = {m[1]: int(m[2], 0) for m in
             re.finditer(r"^#define\s+(PROT_\w+|MAP_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", text, re.M)}
    return {**_FALLBACK, **found}


_DEFS = _read_defines(MMAN_H)
PROT_READ = _DEFS["PROT_READ"]
PROT_WRITE = _DEFS["PROT_WRITE"]
PROT_EXEC = _DEFS["PROT_EXEC"]
MAP_SHARED = _DEFS["MAP_SHARED"]


def is_shared(flags):
    return bool(flags & MAP_SHARED)


def protection(prot):
    """'rw' (read/write), 'ro' (read-only) or 'none' (no access)."""
    if prot & PROT_WRITE:
        return "rw"
    return "ro" if prot & PROT_READ or prot & ~(PROT_READ | PROT_WRITE) else "none"


def rwx(prot):
    return "".join(c if prot & bit else "-"
                   for c, bit in (("r", PROT_READ), ("w", PROT_WRITE), ("x", PROT_EXEC)))
