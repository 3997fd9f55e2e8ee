"""xvtrace: host tools for the xv6 kernel event trace.

    decode   capture bytes -> Trace (header, schema, records)   decode.py
    replay   Trace -> address spaces and physical memory at any time
    check    Trace -> invariant violations (the kernel leak detector)
    export   Trace -> Perfetto/Chrome JSON, CTF 1.8
    writer   events -> capture bytes (tests, tools)

Run as ``python3 -m xvtrace --help`` from the repository root; the format is in
docs/trace.md.
"""

from .decode import Trace, load
from .schema import Schema, TraceError

__all__ = ["Trace", "Schema", "TraceError", "load"]
