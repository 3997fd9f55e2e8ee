"""Shared helpers: types and symbols by name, kernel constants, safe reads.

Nothing here knows a struct offset. Types come from the kernel's debug
information (looked up once, looked up again when symbols are reloaded);
#define constants, which -ggdb does not record, come from the kernel's own
headers (read by hostlib.kconst), found next to the sources the debug
information names.

Every `xv6` command derives from Xv6Command: it writes its output with
gdb.write and reports any problem as one line `xv6: <message>`, never as a
Python traceback.
"""

from pathlib import Path

import gdb

from hostlib import fmt, kconst

PGSIZE = kconst.kernel["PGSIZE"]          # x86 paging facts (mmu.h)
PTE_P, PTE_W, PTE_U, PTE_PS = (kconst.kernel[n] for n in ("PTE_P", "PTE_W", "PTE_U", "PTE_PS"))
PTE_COW = kconst.kernel["PTE_COW"]        # a software bit: shared copy-on-write


class Xv6Error(Exception):
    """A problem worth one line to the user: a missing symbol, unmapped
    memory, a corrupt list. The message is printed after 'xv6: '."""


# ---- types and symbols ------------------------------------------------

class TypeCache:
    """gdb.Type by name ("struct proc", "uint"), looked up on first use."""

    def __init__(self):
        self._types = {}

    def get(self, name):
        t = self._types.get(name)
        if t is None:
            try:
                t = gdb.lookup_type(name)
            except gdb.error:
                raise Xv6Error(f"type '{name}' is not in the kernel's debug info "
                               "(is out/kernel loaded? try 'symbol-file out/kernel')") from None
            self._types[name] = t
        return t

    def pointer(self, name):
        return self.get(name).pointer()

    def clear(self, _event=None):
        self._types.clear()


types = TypeCache()


def symbol(name):
    """The value of a global or file-static kernel variable."""
    sym = gdb.lookup_global_symbol(name)
    if sym is None:
        sym = gdb.lookup_static_symbol(name)
    if sym is None:
        if not gdb.objfiles():
            raise Xv6Error("no kernel symbols loaded: 'symbol-file out/kernel' "
                           "(make gdb does that)")
        raise Xv6Error(f"the kernel has no symbol '{name}'")
    return sym.value()


def has_symbol(name):
    return (gdb.lookup_global_symbol(name) is not None
            or gdb.lookup_static_symbol(name) is not None)


def array_length(value):
    """Number of elements of an array-typed gdb.Value."""
    lo, hi = value.type.strip_typedefs().range()
    return hi - lo + 1


def enum_names(type_name):
    """{value: name} of an enum type, e.g. enum procstate."""
    return {int(f.enumval): f.name for f in types.get(type_name).strip_typedefs().fields()}


# ---- constants from the kernel headers ---------------------------------

class Constants(kconst.Constants):
    """Integer #defines of the kernel headers, by name (hostlib.kconst).

    The headers are found from the debug info (the directory of proc.c), or
    else in the source tree this package belongs to."""

    def __init__(self):
        super().__init__(kconst.KERNEL_DIR)

    def clear(self, _event=None):
        super().clear()
        self._dir_found = False

    def find_kernel_dir(self):
        candidates = []
        try:
            sym = gdb.lookup_global_symbol("ptable")
            if sym is not None and sym.symtab is not None:
                candidates.append(Path(sym.symtab.fullname()).parent)
        except gdb.error:
            pass
        candidates.append(kconst.KERNEL_DIR)
        for d in candidates:
            if all((d / h).is_file() for h in kconst.HEADERS):
                return d
        raise Xv6Error("cannot find the kernel headers (" + ", ".join(kconst.HEADERS) +
                       ") next to the kernel sources; looked in " +
                       ", ".join(str(d) for d in candidates))

    def _loaded(self):
        if not self._dir_found:
            self.kernel_dir = self.find_kernel_dir()
            self._dir_found = True
        try:
            return super()._loaded()
        except kconst.KconstError as e:
            raise Xv6Error(str(e)) from None

    def __getitem__(self, name):
        try:
            return super().__getitem__(name)
        except kconst.KconstError as e:
            raise Xv6Error(str(e)) from None


constants = Constants()


def _reload(event=None):
    types.clear()
    constants.clear()


gdb.events.new_objfile.connect(_reload)
gdb.events.clear_objfiles.connect(_reload)


# ---- memory -----------------------------------------------------------

def paging_note():
    """' (paging is off ...)' if the selected CPU has not turned paging on
    yet, when no kernel address can be read; else ''."""
    try:
        cr0 = int(gdb.parse_and_eval("$cr0"))
    except (gdb.error, ValueError):
        return ""
    if cr0 & kconst.kernel["CR0_PG"]:
        return ""
    return " (paging is off on this CPU: the kernel has not started yet)"


def unmapped(what, addr):
    where = f" at 0x{addr & 0xFFFFFFFF:08x}" if addr is not None else ""
    return Xv6Error(f"{what}{where} is not mapped (cannot read it){paging_note()}")


def read_bytes(addr, length, what="memory"):
    """length bytes at kernel virtual address addr."""
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, length))
    except gdb.MemoryError:
        raise unmapped(what, addr) from None
    except gdb.error as e:
        raise Xv6Error(f"cannot read {what} at 0x{addr & 0xFFFFFFFF:08x}: {e}") from None


def read_u32(addr, what="memory"):
    return int.from_bytes(read_bytes(addr, 4, what), "little")


def read_u32s(addr, count, what="memory"):
    raw = read_bytes(addr, 4 * count, what)
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]


def fetch(value, what):
    """value (a gdb.Value, possibly lazy) with its memory read now."""
    try:
        value.fetch_lazy()
        return value
    except gdb.MemoryError:
        addr = value.address
        raise unmapped(what, None if addr is None else int(addr)) from None


def deref(pointer, type_name, what):
    """*(type_name *)pointer, read now; pointer is an int or a gdb.Value."""
    addr = int(pointer) & 0xFFFFFFFF
    return fetch(gdb.Value(addr).cast(types.pointer(type_name)).dereference(), what)


def u32(value):
    return int(value) & 0xFFFFFFFF


# ---- arguments --------------------------------------------------------

def parse_int(text, what):
    """An integer argument: a number or any expression GDB can evaluate
    (a register, a variable, p->pid)."""
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        return int(gdb.parse_and_eval(text))
    except (gdb.error, ValueError) as e:
        raise Xv6Error(f"bad {what} '{text}': {e}") from None


# ---- formatting -------------------------------------------------------

def size_string(nbytes):
    """4096 -> '4K', 0x300000 -> '3M'."""
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if nbytes >= 1 << shift and nbytes % (1 << shift) == 0:
            return f"{nbytes >> shift}{unit}"
    return f"{nbytes}B" if nbytes < 1024 else f"{nbytes / 1024:.1f}K"


def plural(n, word):
    """'1 region', '4 regions'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def prot_string(prot):
    """PROT_ bits as 'rw-' (hostlib.fmt, as every host tool prints them)."""
    return fmt.prot(prot, constants)


def flag_string(flags):
    """MAP_ bits by name, e.g. 'private|anonymous|populate'."""
    return fmt.map_flags(flags, constants)


def table(header, rows, right=()):
    """Rows of strings as aligned columns; columns named in right are
    right-aligned (numbers), the others left-aligned."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(cells):
        return "  ".join(cell.rjust(w) if head in right else cell.ljust(w)
                         for cell, w, head in zip(cells, widths, header)).rstrip() + "\n"

    return line(header) + "".join(line(r) for r in rows)


# ---- commands ---------------------------------------------------------

class Xv6Command(gdb.Command):
    """Base of every `xv6 ...` sub-command: subclasses set NAME and define
    run(argv). Errors become one line 'xv6: message', raised as gdb.GdbError."""

    NAME = None
    USAGE = ""

    def __init__(self):
        super().__init__("xv6 " + self.NAME, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        message = self.failure(arg)
        if message is not None:
            raise gdb.GdbError(f"xv6: {message}")

    def failure(self, arg):
        """Run the command; None, or what went wrong as one line. invoke
        raises it as gdb.GdbError: GDB prints it, and a script or a
        `gdb -batch -ex` stops there with a non-zero status."""
        try:
            if not gdb.selected_inferior().threads():
                raise Xv6Error("not connected to the kernel: 'target remote 127.0.0.1:PORT' "
                               "(make gdb does that, with QEMU started by make qemu-gdb)")
            self.run(gdb.string_to_argv(arg))
        except Xv6Error as e:
            return str(e)
        except gdb.MemoryError as e:
            return f"{e}{paging_note()}"
        except gdb.error as e:
            hint = ""
            if str(e).startswith("There is no member named"):
                hint = " (the kernel's structs changed: gdbscripts/xv6gdb needs updating)"
            return f"{e}{hint}"
        except KeyboardInterrupt:
            return "interrupted"
        except Exception as e:      # a bug here must not cost the user a traceback
            return f"internal error in 'xv6 {self.NAME}': {type(e).__name__}: {e}"
        return None

    def usage(self):
        raise Xv6Error(f"usage: xv6 {self.NAME} {self.USAGE}".rstrip())

    def run(self, argv):
        raise NotImplementedError
