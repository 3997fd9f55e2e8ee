"""Shared helpers: types and symbols by name, kernel constants, safe reads.

Nothing here knows a struct offset. Types come from the kernel's debug
information (looked up once, looked up again when symbols are reloaded);
#define constants, which -ggdb does not record, come from the kernel's own
headers, found next to the sources the debug information names.

Every `xv6` command derives from Xv6Command: it writes its output with
gdb.write and reports any problem as one line `xv6: <message>`, never as a
Python traceback.
"""

import re
from pathlib import Path

import gdb

PGSIZE = 4096                 # x86 paging facts
PTE_P, PTE_W, PTE_U, PTE_PS = 0x1, 0x2, 0x4, 0x80
PTE_COW = 0x200  # mmu.h: a software bit, shared copy-on-write


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

_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([^\n]*)$", re.MULTILINE)
_NUMBER = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")
_SAFE = re.compile(r"^[0-9a-fA-FxX()+\-*/%<>|&~^ \t]*$")


class Constants:
    """Integer #defines of the kernel headers, by name.

    The headers are found from the debug info (the directory of proc.c), or
    else in the source tree this package belongs to. Only object-like
    macros whose value is an integer expression are kept. kmalloc.c is read
    too, for SLAB_MAGIC."""

    HEADERS = ("param.h", "memlayout.h", "mman.h")
    OPTIONAL = ("kmstat.h", "kmalloc.c")     # read if present

    def __init__(self):
        self._values = None

    def clear(self, _event=None):
        self._values = None

    def kernel_dir(self):
        candidates = []
        try:
            sym = gdb.lookup_global_symbol("ptable")
            if sym is not None and sym.symtab is not None:
                candidates.append(Path(sym.symtab.fullname()).parent)
        except gdb.error:
            pass
        candidates.append(Path(__file__).resolve().parents[2] / "xv6" / "kernel")
        for d in candidates:
            if all((d / h).is_file() for h in self.HEADERS):
                return d
        raise Xv6Error("cannot find the kernel headers (" + ", ".join(self.HEADERS) +
                       ") next to the kernel sources; looked in " +
                       ", ".join(str(d) for d in candidates))

    def _load(self):
        values = {}
        kdir = self.kernel_dir()
        for header in self.HEADERS + self.OPTIONAL:
            if header in self.OPTIONAL and not (kdir / header).is_file():
                continue
            try:
                text = (kdir / header).read_text()
            except OSError as e:
                raise Xv6Error(f"cannot read {kdir / header}: {e.strerror}") from None
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
            text = re.sub(r"//[^\n]*", "", text)
            for name, body in _DEFINE.findall(text):
                value = _evaluate(body, values)
                if value is not None:
                    values[name] = value
        return values

    def __getitem__(self, name):
        if self._values is None:
            self._values = self._load()
        try:
            return self._values[name]
        except KeyError:
            raise Xv6Error(f"no #define {name} in the kernel headers "
                           f"({', '.join(self.HEADERS)})") from None

    def get(self, name, default=None):
        if self._values is None:
            self._values = self._load()
        return self._values.get(name, default)

    def with_prefix(self, prefix):
        """{name: value} of every constant whose name starts with prefix."""
        if self._values is None:
            self._values = self._load()
        return {k: v for k, v in self._values.items() if k.startswith(prefix)}


def _evaluate(body, known):
    """Value of a macro body such as '(KERNBASE - 0x1000)', or None if it is
    not a plain integer expression of numbers and known names."""
    expr = re.sub(r"\b[A-Za-z_]\w*\b",
                  lambda m: str(known[m.group(0)]) if m.group(0) in known else "@",
                  _NUMBER.sub(lambda m: m.group(1), body.strip()))
    if not expr or "@" in expr or not _SAFE.match(expr):
        return None
    expr = expr.replace("/", "//")
    try:
        return int(eval(expr, {"__builtins__": {}}, {})) & 0xFFFFFFFF
    except (SyntaxError, ArithmeticError, ValueError, TypeError):
        return None


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
    if cr0 & 0x80000000:
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
    """PROT_ bits as 'rwx'."""
    c = constants
    return "".join(ch if prot & c[name] else "-"
                   for ch, name in (("r", "PROT_READ"), ("w", "PROT_WRITE"), ("x", "PROT_EXEC")))


def flag_string(flags):
    """MAP_ bits by name, e.g. 'private|anonymous|populate'."""
    names = []
    left = flags
    seen = set()
    for name, bit in sorted(constants.with_prefix("MAP_").items(), key=lambda kv: kv[1]):
        if name == "MAP_FAILED" or bit == 0 or bit in seen or bit & (bit - 1):
            continue
        seen.add(bit)
        if flags & bit:
            names.append(name[4:].lower())
            left &= ~bit
    if left:
        names.append(f"0x{left:x}")
    return "|".join(names) if names else "-"


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
    run(argv). Errors become one line 'xv6: message'."""

    NAME = None
    USAGE = ""

    def __init__(self):
        super().__init__("xv6 " + self.NAME, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            if not gdb.selected_inferior().threads():
                raise Xv6Error("not connected to the kernel: 'target remote 127.0.0.1:PORT' "
                               "(make gdb does that, with QEMU started by make qemu-gdb)")
            self.run(gdb.string_to_argv(arg))
        except Xv6Error as e:
            gdb.write(f"xv6: {e}\n")
        except gdb.MemoryError as e:
            gdb.write(f"xv6: {e}{paging_note()}\n")
        except gdb.error as e:
            hint = ""
            if str(e).startswith("There is no member named"):
                hint = " (the kernel's structs changed: gdbscripts/xv6gdb needs updating)"
            gdb.write(f"xv6: {e}{hint}\n")
        except KeyboardInterrupt:
            gdb.write("xv6: interrupted\n")
        except Exception as e:      # a bug here must not cost the user a traceback
            gdb.write(f"xv6: internal error in 'xv6 {self.NAME}': {type(e).__name__}: {e}\n")

    def usage(self):
        raise Xv6Error(f"usage: xv6 {self.NAME} {self.USAGE}".rstrip())

    def run(self, argv):
        raise NotImplementedError
