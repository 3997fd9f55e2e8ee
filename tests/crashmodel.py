"""A model of xv6/user/crashwork.c: the file tree under /cw after each of its steps.

crashwork makes one disk-changing system call per step, so after a power cut the disk must hold
exactly the tree of some step. snapshots(seed, nsteps) gives those trees; records() reads back
the records of one file. The choices here mirror crashwork.c call for call (same generator, same
order of draws): change both together.
"""

import struct
from dataclasses import dataclass, field

TOP = "/cw"
MAXLIVE, MAXFILES, MAXNAMES = 8, 512, 3
MAXDIRS, LIVEDIRS, MAXDEPTH = 64, 8, 2
FILELIMIT = 12288
HEADER, RECMAX = 24, 1536
MAGIC = 0x4B525743
WRITE, CREATE, MKDIR, LINK, UNLINK, RMDIR = range(6)


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def make_record(file_id, seq, length, step):
    """The bytes crashwork writes as record seq of file file_id at the given step."""
    payload = bytes((7 * file_id + 13 * seq + i + step) & 0xFF for i in range(HEADER, length))
    rec = struct.pack("<6I", MAGIC, file_id, seq, length, step, 0) + payload
    return rec[:20] + struct.pack("<I", fnv1a(rec)) + rec[24:]


def records(data):
    """Check that data is whole records of one file, in sequence. Returns (count, None) or
    (count so far, what is wrong)."""
    off = seq = 0
    file_id = None
    while off < len(data):
        if len(data) - off < HEADER:
            return seq, f"torn record at offset {off}: {len(data) - off} bytes, less than a header"
        magic, fid, rseq, length, step, _ = struct.unpack_from("<6I", data, off)
        if magic != MAGIC:
            return seq, f"no record header at offset {off}"
        if file_id is not None and fid != file_id:
            return seq, f"record at offset {off} belongs to file {fid}, not {file_id}"
        if rseq != seq:
            return seq, f"record at offset {off} has sequence number {rseq}, expected {seq}"
        if not HEADER <= length <= RECMAX or off + length > len(data):
            return seq, f"torn record at offset {off}: length {length}, {len(data) - off} bytes left"
        if data[off:off + length] != make_record(fid, rseq, length, step):
            return seq, f"record {seq} at offset {off}: bad checksum or payload"
        file_id = fid
        off += length
        seq += 1
    return seq, None


class Rng:
    """xorshift32, as in crashwork.c."""

    def __init__(self, seed):
        self.x = (seed & 0xFFFFFFFF) or 1

    def rnd(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


@dataclass
class File:
    names: list                 # [(dir index, base name)]
    data: bytes = b""
    seq: int = 0
    links: int = 0

    @property
    def alive(self):
        return bool(self.names)


@dataclass
class Dir:
    parent: int
    depth: int
    base: str
    alive: bool = True
    entries: int = 0


@dataclass
class Workload:
    rng: Rng
    files: list = field(default_factory=list)
    dirs: list = field(default_factory=list)
    step: int = 0

    def dirpath(self, d):
        return TOP if d == 0 else f"{self.dirpath(self.dirs[d].parent)}/{self.dirs[d].base}"

    def namepath(self, name):
        return f"{self.dirpath(name[0])}/{name[1]}"

    # which files and directories a step may pick, in creation order
    def live_files(self, ok):
        return [f for f in self.files if f.alive and ok(f)]

    def live_dirs(self, ok):
        return [i for i, d in enumerate(self.dirs) if d.alive and ok(d)]

    def pick_file(self, ok):
        eligible = self.live_files(ok)
        return eligible[self.rng.rnd(len(eligible))]

    def pick_dir(self, ok):
        eligible = self.live_dirs(ok)
        return eligible[self.rng.rnd(len(eligible))]

    def can_write(self, f):
        return len(f.data) < FILELIMIT

    def can_link(self, f):
        return len(f.names) < MAXNAMES

    def can_parent(self, d):
        return d.depth < MAXDEPTH

    def can_remove(self, d):
        return d.depth > 0 and d.entries == 0

    def possible(self, op):
        if op == WRITE:
            return bool(self.live_files(self.can_write))
        if op == CREATE:
            return len(self.live_files(lambda f: True)) < MAXLIVE and len(self.files) < MAXFILES
        if op == MKDIR:
            return len(self.live_dirs(lambda d: True)) < LIVEDIRS and len(self.dirs) < MAXDIRS
        if op == LINK:
            return bool(self.live_files(self.can_link))
        if op == UNLINK:
            return bool(self.live_files(lambda f: True))
        return bool(self.live_dirs(self.can_remove))

    def choose(self):
        r = self.rng.rnd(100)
        op = (WRITE if r < 45 else CREATE if r < 57 else MKDIR if r < 65 else LINK if r < 73
              else UNLINK if r < 88 else RMDIR)
        for candidate in (op, WRITE, CREATE):
            if self.possible(candidate):
                return candidate
        return UNLINK

    # the steps
    def write(self):
        f = self.pick_file(self.can_write)
        length = HEADER + self.rng.rnd(RECMAX - HEADER + 1)
        f.data += make_record(self.files.index(f), f.seq, length, self.step)
        f.seq += 1

    def create(self):
        d = self.pick_dir(lambda d: True)
        self.files.append(File([(d, f"f{len(self.files)}")]))
        self.dirs[d].entries += 1

    def mkdir(self):
        p = self.pick_dir(self.can_parent)
        self.dirs.append(Dir(p, self.dirs[p].depth + 1, f"d{len(self.dirs)}"))
        self.dirs[p].entries += 1

    def link(self):
        f = self.pick_file(self.can_link)
        d = self.pick_dir(lambda d: True)
        f.names.append((d, f"l{self.files.index(f)}n{f.links}"))
        f.links += 1
        self.dirs[d].entries += 1

    def unlink(self):
        f = self.pick_file(lambda f: True)
        name = f.names.pop(self.rng.rnd(len(f.names)))
        self.dirs[name[0]].entries -= 1

    def rmdir(self):
        d = self.pick_dir(self.can_remove)
        self.dirs[d].alive = False
        self.dirs[self.dirs[d].parent].entries -= 1

    def run_step(self):
        if self.step == 0:
            self.dirs.append(Dir(0, 0, TOP[1:]))
        else:
            [self.write, self.create, self.mkdir, self.link, self.unlink,
             self.rmdir][self.choose()]()
        self.step += 1

    def tree(self):
        """{path: None for a directory, or (file index, contents)} of everything under /cw."""
        out = {self.dirpath(i): None for i, d in enumerate(self.dirs) if d.alive}
        for i, f in enumerate(self.files):
            for name in f.names:
                out[self.namepath(name)] = (i, f.data)
        return out


def snapshots(seed, nsteps):
    """The tree after 0, 1, ... nsteps steps of `crashwork seed nsteps`."""
    w = Workload(Rng(seed))
    yield {}
    for _ in range(min(nsteps, MAXFILES)):
        w.run_step()
        yield w.tree()
