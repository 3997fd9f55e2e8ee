"""How the pictures group mmap protections; the bits come from hostlib.kconst
(xv6/kernel/mman.h); rwx() and is_shared() are hostlib.fmt's, as every tool prints them."""

from hostlib.fmt import is_shared  # noqa: F401  (used as mman.is_shared)
from hostlib.fmt import prot as rwx  # noqa: F401  (used as mman.rwx)
from hostlib.kconst import kernel


def protection(prot):
    """'rw' (read/write), 'ro' (read-only) or 'none' (no access)."""
    read, write = kernel["PROT_READ"], kernel["PROT_WRITE"]
    if prot & write:
        return "rw"
    return "ro" if prot & read or prot & ~(read | write) else "none"


def is_file(flags):
    """Whether a region with these mmap flags maps a file (not MAP_ANONYMOUS)."""
    return not flags & kernel["MAP_ANONYMOUS"]


def all_access():
    """PROT_READ | PROT_WRITE | PROT_EXEC: how text, stack and heap are drawn."""
    return kernel["PROT_READ"] | kernel["PROT_WRITE"] | kernel["PROT_EXEC"]
