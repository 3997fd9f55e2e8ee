"""hostlib: what every host tool shares.

    kconst   kernel constants (#defines, X-macro lists) read from xv6/kernel
    qemu     boot the kernel under QEMU and talk to its console
    cli      the command-line error wrapper and the time-argument parser
    fmt      the one formatter of protections, MAP_ flags, fault error codes

The packages beside it (xvtrace, viz, xv6gdb, the tests) import it from the
repository root; nothing here imports them.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
