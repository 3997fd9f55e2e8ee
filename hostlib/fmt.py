"""How every host tool prints the kernel's bit sets: one formatter, so that
`xvtrace list`, `xvtrace replay`, the exports, the pictures and the GDB
commands show the same value the same way.

    prot(3)          'rw-'                    PROT_ bits (xv6/kernel/mman.h)
    map_flags(0x22)  'private|anonymous'      MAP_ bits, '-' for none
    errcode(6)       'write|user|not-present' x86 page-fault error code
    pmap_perms(3, 0x22, 'region')  'rw-p'     pmap's permission column
    pmap_line(...)   '40000000-40003000 rw-p region 2/3'   a pmap line
    field('prot', 3) 'rw-'                    a trace field by its name

The PROT_ and MAP_ values come from the kernel's headers through
hostlib.kconst; consts (a kconst.Constants) lets GDB pass its own.
"""

from . import kconst

# The x86 page-fault error code (Intel SDM vol. 3, "Interrupt 14"): bit 0
# set means a protection violation on a present page, clear a page that was
# not present; bit 1 a write; bit 2 user mode; bit 3 a reserved bit set;
# bit 4 an instruction fetch.
FEC_PRESENT, FEC_WRITE, FEC_USER, FEC_RSVD, FEC_FETCH = 1, 2, 4, 8, 16


def prot(value, consts=None):
    """PROT_ bits as 'rw-'."""
    c = consts or kconst.kernel
    return "".join(ch if value & c[name] else "-"
                   for ch, name in (("r", "PROT_READ"), ("w", "PROT_WRITE"),
                                    ("x", "PROT_EXEC")))


def is_shared(flags, consts=None):
    return bool(flags & (consts or kconst.kernel)["MAP_SHARED"])


def map_flags(flags, consts=None):
    """MAP_ bits by name in bit order, e.g. 'private|anonymous|populate';
    unknown bits as hex; '-' for none."""
    c = consts or kconst.kernel
    names, left, seen = [], flags, set()
    for name, bit in sorted(c.with_prefix("MAP_").items(), key=lambda kv: kv[1]):
        if bit == 0 or bit in seen or bit & (bit - 1):
            continue
        seen.add(bit)
        if flags & bit:
            names.append(name[4:].lower())
            left &= ~bit
    if left:
        names.append(f"0x{left:x}")
    return "|".join(names) if names else "-"


def errcode(code):
    """A page-fault error code as 'write|user|not-present': the access
    (read, write or fetch), the mode (user or kernel), whether the page was
    present, then any other bit set ('rsvd', or its value in hex)."""
    access = "fetch" if code & FEC_FETCH else "write" if code & FEC_WRITE else "read"
    parts = [access, "user" if code & FEC_USER else "kernel",
             "present" if code & FEC_PRESENT else "not-present"]
    if code & FEC_RSVD:
        parts.append("rsvd")
    rest = code & ~(FEC_PRESENT | FEC_WRITE | FEC_USER | FEC_RSVD | FEC_FETCH)
    if rest:
        parts.append(f"0x{rest:x}")
    return "|".join(parts)


def pmap_perms(value, flags, kind, consts=None):
    """pmap's permission column (xv6/user/pmap.c): rwx, then 's' for a
    shared region, else 'p'."""
    shared = kind == "region" and is_shared(flags, consts)
    return prot(value, consts) + ("s" if shared else "p")


def pmap_line(start, end, value, flags, kind, resident, pages, consts=None):
    """One mapping as pmap prints it: '00000000-00003000 rwxp text 3/3'."""
    return (f"{start:08x}-{end:08x} {pmap_perms(value, flags, kind, consts)} {kind} "
            f"{resident}/{pages}")


# Trace fields (xv6/kernel/traceevents.h) printed through the formatters above.
FIELDS = {"prot": prot, "flags": map_flags, "errcode": errcode}


def field(name, value):
    """A trace field's value as text if it has a formatter here, else None."""
    f = FIELDS.get(name)
    return f(value) if f else None
