"""Pretty-printers for struct proc and struct region.

`print *p` starts with a one-line summary; a proc's fields follow as usual
(`print/r` shows the plain C view). A printer never raises: if the value
cannot be read it says so in the summary.
"""

import gdb
import gdb.printing

from .utils import Xv6Error, flag_string, prot_string, u32
from . import procs


class ProcPrinter:
    """struct proc: 'pid 3 "gdbdemo" RUNNING, sz 0x6000, 4 regions', then the fields."""

    def __init__(self, val):
        self.val = val

    def to_string(self):
        p = self.val
        try:
            return (f'pid {int(p["pid"])} "{procs.proc_name(p)}" {procs.state_name(p)}, '
                    f'sz 0x{u32(p["sz"]):x}, {int(p["nregions"])} regions')
        except (gdb.error, Xv6Error) as e:
            return f"<struct proc: {e}>"

    def children(self):
        try:
            for field in self.val.type.strip_typedefs().fields():
                yield field.name, self.val[field.name]
        except gdb.error:
            return


class RegionPrinter:
    """struct region: '[0x40000000, 0x40003000) rw- private|anonymous, next 0x...'."""

    def __init__(self, val):
        self.val = val

    def to_string(self):
        r = self.val
        try:
            text = (f"[0x{u32(r['start']):08x}, 0x{u32(r['end']):08x}) "
                    f"{prot_string(int(r['prot']))} {flag_string(int(r['flags']))}")
            shm = u32(r["shm"])
            if shm:
                text += f", shm 0x{shm:08x} page {u32(r['shmoff'])}"
            return text + f", next 0x{u32(r['next']):08x}"
        except (gdb.error, Xv6Error) as e:
            return f"<struct region: {e}>"


def build():
    printers = gdb.printing.RegexpCollectionPrettyPrinter("xv6")
    printers.add_printer("proc", "^proc$", ProcPrinter)
    printers.add_printer("region", "^region$", RegionPrinter)
    return printers


gdb.printing.register_pretty_printer(None, build(), replace=True)
