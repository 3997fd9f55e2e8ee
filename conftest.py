"""pytest's root: being here puts the repository root on sys.path, so the host
tests import hostlib, xvtrace, viz, xv6gdb and tests.harness the way the
tools do (python3 -m ... from the root)."""
