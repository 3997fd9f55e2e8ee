"""What every host command line shares: exit codes, one-line errors instead of
tracebacks, warnings capped in number, and time arguments ("1.5", "200ms")."""

import os
import re
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_BADINPUT, EXIT_DAMAGED = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_INTERNAL = 130, 70
MAX_WARNINGS = 10
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def run_main(prog, body, user_errors, debug_var):
    """body() with every failure turned into one line on stderr and an exit
    status: user_errors (bad input, bad options) and OSError give
    EXIT_BADINPUT; a closed output pipe is not an error; anything else is a
    bug, reported as such (the environment variable debug_var set shows its
    traceback)."""
    try:
        return body()
    except user_errors as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_BADINPUT
    except BrokenPipeError:
        # Output closed early (e.g. piped into head): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_BADINPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as e:
        if os.environ.get(debug_var):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} "
              f"(set {debug_var}=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def print_warnings(prog, warnings, limit=MAX_WARNINGS):
    """The first limit warnings on stderr, then how many more there were."""
    for w in warnings[:limit]:
        print(f"{prog}: warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"{prog}: warning: ... and {len(warnings) - limit} more", file=sys.stderr)


def parse_time(trace, text, error):
    """A time on the command line: a number in the trace's unit (seconds, or
    TSC ticks when the rate is unknown), or with a unit (s, ms, us, ns) when
    the TSC rate is known. Raises error(message) when text is not one."""
    m = re.fullmatch(r"\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*([a-zµ]*)\s*", text or "")
    if not m:
        raise error(f"bad time {text!r}: expected a number, e.g. 1.5 or 200ms")
    try:
        value, unit = float(m.group(1)), m.group(2)
    except ValueError:
        raise error(f"bad time {text!r}: expected a number, e.g. 1.5 or 200ms") from None
    if not unit:
        return value
    if unit not in UNITS:
        raise error(f"bad time unit {unit!r} in {text!r}: use s, ms, us or ns")
    if not trace.rate_known:
        raise error("this trace has no TSC rate: give times in TSC ticks, without a unit")
    return value * UNITS[unit]
