"""Power-cut test: kill QEMU in the middle of a file-system workload and check the disk.

Each kill: boot a fresh copy of out/fs.img, run `crashwork SEED`, SIGKILL QEMU after a random
(seeded) delay, then
  1. out/fsck the crashed disk (a committed log is laid over its home blocks, as recovery will);
  2. find the step K whose tree (tests/crashmodel.py) the disk holds: every file under /cw whole
     records in sequence, every name, link and directory as after exactly K steps, and the rest
     of the disk as mkfs and init left it;
  3. boot again (the kernel replays the log), and check fsck and step 2 again: same K.
The first run is not killed: it checks the finished workload and times it, which sets the range
of the kill delays (shortened whenever a later workload finishes sooner).

    python3 -m tests.crashtest --kills 20 --seed 1

Prints one PASS/FAIL line per run and `crash test: N of M kills survived`; exit status 0 if all
passed. Disks and console logs are kept in out/test/crash/.
"""

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from tests import crashmodel, harness

CRASH_DIR = harness.LOG_DIR / "crash"
START = "crashwork: seed"
DONE = "crashwork: done"


class Failure(Exception):
    """A check failed; the message says which and how."""


def fsck(*args):
    """Run out/fsck; returns (exit status, stdout bytes, stderr text)."""
    proc = subprocess.run([str(harness.FSCK), *map(str, args)], capture_output=True)
    return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace").strip()


def listing(image):
    """{path: (inum, type, nlink, size)} from fsck --ls."""
    status, out, err = fsck("--ls", image)
    if status != 0:
        raise Failure(f"fsck --ls: {err or 'exit status %d' % status}")
    tree = {}
    for line in out.decode(errors="replace").splitlines():
        inum, kind, nlink, size, path = line.split(" ", 4)
        tree[path] = (int(inum), kind, int(nlink), int(size))
    return tree


def contents(image, path):
    status, out, err = fsck("--cat", image, path)
    if status != 0:
        raise Failure(f"fsck --cat {path}: {err}")
    return out


def check_clean(image, when):
    """fsck must find nothing wrong. Returns how many logged blocks it laid over."""
    status, out, err = fsck(image)
    text = out.decode(errors="replace").strip().splitlines()
    if status != 0:
        raise Failure(f"fsck {when}: " + "; ".join((text or [err])[:6]))
    overlay = [m for l in text if (m := re.match(r"log: committed transaction of (\d+)", l))]
    return int(overlay[0][1]) if overlay else 0


class Baseline:
    """What the disk holds outside /cw: out/fs.img's files, plus the console init makes."""

    def __init__(self):
        self.tree = listing(harness.FS_IMAGE)
        del self.tree["/"]
        self.data = {p: contents(harness.FS_IMAGE, p) for p, e in self.tree.items()
                     if e[1] == "file"}

    def check(self, image, tree):
        for path, entry in self.tree.items():
            if tree.get(path) != entry:
                raise Failure(f"{path} changed: {tree.get(path)} instead of {entry}")
            if path in self.data and contents(image, path) != self.data[path]:
                raise Failure(f"the contents of {path} changed")
        extra = [p for p in tree if p not in self.tree and p != "/" and p != crashmodel.TOP
                 and not p.startswith(crashmodel.TOP + "/")]
        if extra != ["/console"] or tree["/console"][1] != "dev":
            raise Failure(f"unexpected paths outside {crashmodel.TOP}: {extra}")


def workload_tree(image, tree):
    """{path: None | (inum, contents)} under /cw, checking that each file is whole records."""
    out, seen = {}, {}
    for path, (inum, kind, _, _) in tree.items():
        if path != crashmodel.TOP and not path.startswith(crashmodel.TOP + "/"):
            continue
        if kind == "dir":
            out[path] = None
            continue
        if inum not in seen:
            seen[inum] = contents(image, path)
            _, trouble = crashmodel.records(seen[inum])
            if trouble:
                raise Failure(f"{path}: {trouble}")
        out[path] = (inum, seen[inum])
    return out


def same_tree(model, actual):
    """Do the model's tree (file index, contents) and the disk's (inum, contents) agree, with
    the same names sharing an inode?"""
    if model.keys() != actual.keys():
        return False
    pairs = {}
    for path, m in model.items():
        a = actual[path]
        if (m is None) != (a is None):
            return False
        if m is not None:
            if m[1] != a[1] or pairs.setdefault(m[0], a[0]) != a[0]:
                return False
    return len(set(pairs.values())) == len(pairs)


def differences(model, actual):
    missing = sorted(model.keys() - actual.keys())
    extra = sorted(actual.keys() - model.keys())
    changed = sorted(p for p in model.keys() & actual.keys()
                     if (model[p] and model[p][1]) != (actual[p] and actual[p][1]))
    return (len(missing) + len(extra) + len(changed),
            f"missing {missing[:3]}, unexpected {extra[:3]}, different contents {changed[:3]}")


def matching_steps(actual, seed, nsteps):
    """Every K whose tree the disk holds (a mkdir undone by the next step's rmdir gives two);
    Failure naming the closest step if there is none."""
    matches, best = [], None
    for k, model in enumerate(crashmodel.snapshots(seed, nsteps)):
        if same_tree(model, actual):
            matches.append(k)
        elif not matches:
            score = differences(model, actual)
            if best is None or score[0] < best[1][0]:
                best = (k, score)
    if not matches:
        raise Failure(f"the disk matches no step of the workload; closest is step {best[0]}: "
                      f"{best[1][1]}")
    return matches


def verify(image, baseline, seed, nsteps, when):
    """fsck clean and the disk as after some step K. Returns (the matching Ks, blocks laid
    over)."""
    overlaid = check_clean(image, when)
    tree = listing(image)
    baseline.check(image, tree)
    try:
        return matching_steps(workload_tree(image, tree), seed, nsteps), overlaid
    except Failure as e:
        raise Failure(f"{when}: {e}") from None


def boot(image, log, cpus, command=None, kill_after=None, timeout=120):
    """Boot on image; optionally type command and SIGKILL QEMU kill_after seconds after its
    first line. Returns (seconds from the first line to the kill or to the prompt, seconds from
    the first line to the done line or None if the kill came first)."""
    console = harness.Console(harness.qemu_argv(cpus, image, "/dev/null"), log)
    try:
        text, trouble = console.wait_for_prompt(0, 60, 60)
        if trouble:
            raise Failure(f"boot: {trouble}")
        if command is None:
            return 0.0, True
        start = console.mark()
        console.send(command + "\n")
        deadline = time.monotonic() + timeout
        while START not in console.text(start):
            if time.monotonic() > deadline or console.eof:
                raise Failure(f"{command} did not start")
            time.sleep(0.005)
        began = time.monotonic()
        if kill_after is not None:
            done = None
            while (now := time.monotonic() - began) < kill_after:
                if done is None and DONE in console.text(start):
                    done = now
                time.sleep(min(0.002, kill_after - now))
            console.proc.kill()     # the power cut
            if done is None and DONE in console.text(start):
                done = kill_after
            return time.monotonic() - began, done
        text, trouble = console.wait_for_prompt(start, timeout, timeout)
        if trouble or DONE not in text:
            raise Failure(f"{command}: {trouble or 'no done line'}: {text.strip()[-200:]!r}")
        return time.monotonic() - began, time.monotonic() - began
    finally:
        console.close()


def run_one(n, seed, nsteps, delay, baseline, cpus):
    """One run: (PASS/FAIL line, ok, seconds the workload took to finish or None if the kill
    came first). delay None: no kill."""
    CRASH_DIR.mkdir(parents=True, exist_ok=True)
    image = CRASH_DIR / "fs-crash.img"
    log = CRASH_DIR / f"console-{n}.log"
    name = f"crash {n} (seed {seed})"
    finished = None
    try:
        subprocess.run(["cp", str(harness.FS_IMAGE), str(image)], check=True)
        ran, finished = boot(image, log, cpus, f"crashwork {seed} {nsteps}", delay)
        k1, overlaid = verify(image, baseline, seed, nsteps, "after the cut")
        boot(image, CRASH_DIR / f"console-{n}-reboot.log", cpus)
        k2, _ = verify(image, baseline, seed, nsteps, "after recovery")
        if k2 != k1:
            raise Failure(f"step {k1[0]} before recovery, step {k2[0]} after")
        if delay is None and min(nsteps, crashmodel.MAXFILES) not in k1:
            raise Failure(f"the finished workload left step {k1[0]}")
    except Failure as e:
        return f"FAIL {name}: {e} (console {log})", False, finished
    how = "not killed" if delay is None else f"killed {ran:.2f} s in"
    late = " (after the workload ended)" if delay is not None and finished is not None else ""
    log_note = f", log replay of {overlaid} blocks" if overlaid else ""
    return (f"PASS {name}: {how}{late}, disk at step {k1[-1]} of {nsteps}, fsck clean before and "
            f"after recovery{log_note}"), True, finished


def run(kills, seed, nsteps=400, cpus=2, out=sys.stdout):
    """The calibration run, then kills runs. Returns (passed, failed) counting every run."""
    if not (harness.KERNEL.exists() and harness.FS_IMAGE.exists() and harness.FSCK.exists()):
        print("FAIL crash test: out/kernel, out/fs.img or out/fsck is missing (run make)",
              file=out, flush=True)
        return 0, 1
    began = time.monotonic()
    baseline = Baseline()
    line, ok, duration = run_one(0, seed, nsteps, None, baseline, cpus)
    print(line, file=out, flush=True)
    passed, failed = int(ok), int(not ok)
    duration = duration or 2.0
    rng = random.Random(seed)
    survived = midway = 0
    for n in range(1, kills + 1):
        # The workload's time varies with the machine's load: aim at the shortest seen so far.
        line, ok, finished = run_one(n, seed + n, nsteps, rng.uniform(0, duration), baseline,
                                     cpus)
        print(line, file=out, flush=True)
        if finished is None:
            midway += 1
        else:
            duration = min(duration, finished)
        survived += ok
        passed, failed = passed + ok, failed + (not ok)
    print(f"crash test: {survived} of {kills} kills survived ({midway} during the workload, "
          f"{nsteps} steps of about {duration:.1f} s; {time.monotonic() - began:.0f} s in all)",
          file=out, flush=True)
    return passed, failed


def main(argv=None):
    harness.exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, metavar="N",
                        help="power cuts to survive (default 20)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="seed of the first workload and of the kill delays; kill n runs "
                             "workload S+n (default 1)")
    parser.add_argument("--steps", type=int, default=400, metavar="N",
                        help="steps of each workload (default 400, at most 512)")
    parser.add_argument("--cpus", type=int, default=2, metavar="N", help="CPUs (default 2)")
    args = parser.parse_args(argv)
    passed, failed = run(args.kills, args.seed, args.steps, args.cpus)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
