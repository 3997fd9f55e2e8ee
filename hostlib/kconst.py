"""Kernel constants for the host tools, read from the kernel's own headers.

The one reader of xv6/kernel on the host: integer #defines (PGSIZE,
KERNBASE, MMAPTOP, PROT_ and MAP_ bits, KSTACKSIZE...), and the X-macro
lists of traceevents.h, whose values become constants under the names the
kernel gives them (OWNER_REGION, ERR_NOMEM, TRACESTAT_LOST, EV_FORK...).
A trace decoder does not use this for the events of a capture: a capture
carries its own schema (docs/trace.md).

    kernel["PGSIZE"]                 the source tree's value, read once
    Constants(kernel_dir)            another tree's (GDB: the one the
                                     kernel's debug information names)

Only object-like macros whose body is an integer expression of numbers and
names already known are kept; anything else (casts, function-like macros)
is skipped, which is what the tools want.
"""

import re
from pathlib import Path

from . import ROOT

KERNEL_DIR = ROOT / "xv6" / "kernel"
HEADERS = ("param.h", "mmu.h", "memlayout.h", "mman.h", "traceevents.h")
OPTIONAL = ("kmstat.h", "kmalloc.c", "pagecache.c")  # read when present (SLAB_MAGIC, FREE_END, PC_DIRTY)


class KconstError(Exception):
    """A header is missing or lacks a name; the message is meant for the user."""


_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)]*\))?[ \t]*([^\n]*)$",
                     re.MULTILINE)
_NUMBER = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")
_SAFE = re.compile(r"^[0-9a-fA-FxX()+\-*/%<>|&~^ \t]*$")

# X-macro lists whose entries become constants: list -> (prefix, name slot, value slot).
XLISTS = {"TRACE_EVENTS": ("EV_", 0, 1), "TRACE_STATS": ("TRACESTAT_", 0, 1)}


def strip_comments(source):
    """C source with comments removed and continued lines joined."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.DOTALL)
    source = re.sub(r"//[^\n]*", "", source)
    return source.replace("\\\n", " ")


def evaluate(body, known):
    """Value of a macro body such as '(KERNBASE - 0x1000)', as a 32-bit
    unsigned number, or None if it is not a plain integer expression of
    numbers and names in known."""
    expr = re.sub(r"\b[A-Za-z_]\w*\b",
                  lambda m: str(known[m.group(0)]) if m.group(0) in known else "@",
                  _NUMBER.sub(lambda m: m.group(1), body.strip()))
    if not expr or "@" in expr or not _SAFE.match(expr):
        return None
    try:
        return int(eval(expr.replace("/", "//"), {"__builtins__": {}}, {})) & 0xFFFFFFFF
    except (SyntaxError, ArithmeticError, ValueError, TypeError):
        return None


class Constants:
    """The constants of one kernel source directory, read on first use."""

    def __init__(self, kernel_dir=KERNEL_DIR):
        self.kernel_dir = Path(kernel_dir)
        self.clear()

    def clear(self):
        self._values = None
        self._macros = None

    def _source(self, name):
        try:
            return strip_comments((self.kernel_dir / name).read_text())
        except OSError as e:
            raise KconstError(f"cannot read {self.kernel_dir / name}: {e.strerror}") from None

    def _load(self):
        values, macros = {}, {}
        for name in HEADERS + OPTIONAL:
            if name in OPTIONAL and not (self.kernel_dir / name).is_file():
                continue
            for macro, params, body in _DEFINE.findall(self._source(name)):
                macros.setdefault(macro, body)
                value = None if params else evaluate(body, values)
                if value is not None:
                    values[macro] = value
        self._macros = macros
        for enum, label, value in self._xlist(macros, "TRACE_ENUMS"):
            values[f"{enum}_{label}"] = int(value, 0) & 0xFFFFFFFF
        for macro, (prefix, name_at, value_at) in XLISTS.items():
            for entry in self._xlist(macros, macro):
                values[prefix + entry[name_at]] = int(entry[value_at], 0)
        self._values = values

    @staticmethod
    def _xlist(macros, macro):
        if macro not in macros:
            raise KconstError(f"the kernel headers have no #define {macro}")
        return [tuple(a.strip() for a in m.split(","))
                for m in re.findall(r"\bX\(([^()]*)\)", macros[macro])]

    def _loaded(self):
        if self._values is None:
            self._load()
        return self._values

    def __getitem__(self, name):
        try:
            return self._loaded()[name]
        except KeyError:
            raise KconstError(f"no integer #define {name} in the kernel headers "
                              f"({self.kernel_dir})") from None

    def get(self, name, default=None):
        return self._loaded().get(name, default)

    def with_prefix(self, prefix):
        """{name: value} of every constant whose name starts with prefix."""
        return {k: v for k, v in self._loaded().items() if k.startswith(prefix)}

    def macro(self, name):
        """The body of #define name as text (comments removed)."""
        self._loaded()
        if name not in self._macros:
            raise KconstError(f"the kernel headers have no #define {name}")
        return self._macros[name]

    def xlist(self, macro):
        """The entries of an X-macro list, e.g. xlist("TRACE_STATS") ->
        [("ON", "0", "on"), ...], as strings in the order written."""
        self._loaded()
        return self._xlist(self._macros, macro)

    def trace_stats(self):
        """The TRACECTL_STATUS counter names, by selector value."""
        stats = {int(value, 0): name for _, value, name in self.xlist("TRACE_STATS")}
        return [stats[i] for i in range(len(stats))]


kernel = Constants()
