"""GDB commands for the xv6 kernel's live state: `help xv6` lists them.

Loaded by .gdbinit (`make qemu-gdb`, then `make gdb`); docs/debugging.md
walks through a session. One module per subsystem:

    utils     types, symbols and header constants by name; safe reads
    procs     xv6 ps                  ptable, cpus
    pgtable   xv6 pte, xv6 pgtable    two-level x86 page tables
    regions   xv6 regions, xv6 vmmap  mmap regions, whole address spaces
    pagecache xv6 pagecache           the page cache of mapped files
    kmalloc   xv6 kmalloc, xv6 mem    kernel allocators
    tracebuf  xv6 trace               the per-CPU event trace rings
    printers  pretty-printers for struct proc and struct region
"""

import gdb


class Xv6Prefix(gdb.Command):
    """Walk live xv6 kernel state.

Commands that take a PID default to the process running on the selected
CPU (GDB thread N is CPU N-1: switch with 'thread N'). The functions
$xv6_proc(PID) and $xv6_current() give a struct proc *, e.g.
'print *$xv6_proc(3)->regions'."""

    def __init__(self):
        super().__init__("xv6", gdb.COMMAND_DATA, gdb.COMPLETE_COMMAND, prefix=True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError(f"xv6: no command '{arg.split()[0]}'; 'help xv6' lists them")
        else:
            gdb.execute("help xv6")


Xv6Prefix()

from . import utils, procs, pgtable, regions, pagecache, kmalloc, tracebuf, printers  # noqa: E402,F401,E501
