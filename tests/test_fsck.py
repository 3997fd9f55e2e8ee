"""Host tests of out/fsck: a fresh image is clean; each corruption gets its own message.

Corruptions are made by editing bytes of a copy of out/fs.img, at offsets found through its
superblock. The last tests feed fsck hundreds of random and mutated images: it must answer with
exit status 0, 1 or 2, never die of a signal.
"""

import os
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FSCK = ROOT / "out" / "fsck"
FS_IMAGE = ROOT / "out" / "fs.img"
BSIZE, IPB, DINODE, DIRENT = 512, 8, 64, 16
NDIRECT = 12
SB_FIELDS = ("size", "nblocks", "ninodes", "nlog", "logstart", "inodestart", "bmapstart")


@pytest.fixture(scope="module", autouse=True)
def built():
    """out/fsck and out/fs.img, built if missing or stale."""
    proc = subprocess.run(["make", "-s", "out/fsck", "out/fs.img"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class Image:
    """A copy of out/fs.img in memory, with the layout read from its superblock."""

    def __init__(self, data=None):
        self.data = bytearray(data if data is not None else FS_IMAGE.read_bytes())
        self.sb = dict(zip(SB_FIELDS, struct.unpack_from("<7I", self.data, BSIZE)))

    # inodes: type, major, minor, nlink (shorts), size, addrs[13]
    def inode_off(self, inum):
        return (self.sb["inodestart"] + inum // IPB) * BSIZE + (inum % IPB) * DINODE

    def get(self, inum, name):
        off = self.inode_off(inum)
        if name in ("type", "nlink"):
            return struct.unpack_from("<h", self.data, off + {"type": 0, "nlink": 6}[name])[0]
        if name == "size":
            return struct.unpack_from("<I", self.data, off + 8)[0]
        return struct.unpack_from(f"<{NDIRECT + 1}I", self.data, off + 12)[name]

    def set(self, inum, name, value):
        off = self.inode_off(inum)
        if name in ("type", "nlink"):
            struct.pack_into("<h", self.data, off + {"type": 0, "nlink": 6}[name], value)
        elif name == "size":
            struct.pack_into("<I", self.data, off + 8, value)
        else:
            struct.pack_into("<I", self.data, off + 12 + 4 * name, value)

    # the bitmap
    def bit_off(self, b):
        return (self.sb["bmapstart"] + b // (BSIZE * 8)) * BSIZE + (b % (BSIZE * 8)) // 8

    def set_bit(self, b, on):
        if on:
            self.data[self.bit_off(b)] |= 1 << (b % 8)
        else:
            self.data[self.bit_off(b)] &= ~(1 << (b % 8)) & 0xFF

    # the root directory (its entries fit in its direct blocks in a fresh image)
    def entry_off(self, name):
        for off in range(0, self.get(1, "size"), DIRENT):
            at = self.get(1, off // BSIZE) * BSIZE + off % BSIZE
            inum, raw = struct.unpack_from("<H14s", self.data, at)
            if inum and raw.rstrip(b"\0") == name.encode():
                return at
        raise KeyError(name)

    def inum(self, name):
        return struct.unpack_from("<H", self.data, self.entry_off(name))[0]

    def set_entry(self, name, inum=None, new_name=None):
        off = self.entry_off(name)
        if inum is not None:
            struct.pack_into("<H", self.data, off, inum)
        if new_name is not None:
            self.data[off + 2:off + 16] = new_name.encode().ljust(14, b"\0")

    # the log
    def set_log(self, n, blocks=()):
        struct.pack_into(f"<i{len(blocks)}i", self.data, self.sb["logstart"] * BSIZE, n, *blocks)

    def block(self, b):
        return self.data[b * BSIZE:(b + 1) * BSIZE]

    def put_block(self, b, data):
        self.data[b * BSIZE:(b + 1) * BSIZE] = data

    def write(self, path):
        Path(path).write_bytes(self.data)
        return path


def fsck(*args, fsck_path=FSCK):
    proc = subprocess.run([str(fsck_path), *map(str, args)], capture_output=True, text=True,
                          errors="replace", timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def check(tmp_path, img, expect_status, *messages):
    status, out, err = fsck(img.write(tmp_path / "fs.img"))
    assert status == expect_status, out + err
    for message in messages:
        assert message in out + err, f"{message!r} not in:\n{out}{err}"
    return out + err


def test_fresh_image_is_clean():
    status, out, err = fsck(FS_IMAGE)
    assert (status, err) == (0, "")
    assert out.strip().endswith("clean")


def test_verbose_counts():
    status, out, _ = fsck("-v", FS_IMAGE)
    img = Image()
    files = sum(img.get(i, "type") == 2 for i in range(1, img.sb["ninodes"]))
    assert status == 0
    assert f"(1 directories, {files} files, 0 devices)" in out


def test_bitmap_bit_cleared_for_used_block(tmp_path):
    img = Image()
    cat = img.inum("cat")
    b = img.get(cat, 0)
    img.set_bit(b, False)
    check(tmp_path, img, 1, f"block {b} is used by inode {cat} (/cat) but free in the bitmap")


def test_bitmap_bit_set_for_unused_block(tmp_path):
    img = Image()
    b = img.sb["size"] - 1
    img.set_bit(b, True)
    check(tmp_path, img, 1, f"block {b} is marked in the bitmap but not used (leaked)")


def test_metadata_block_unmarked(tmp_path):
    img = Image()
    img.set_bit(img.sb["inodestart"], False)
    check(tmp_path, img, 1, f"block {img.sb['inodestart']} (metadata) is not marked")


def test_block_referenced_twice(tmp_path):
    img = Image()
    cat, echo = img.inum("cat"), img.inum("echo")
    shared, lost = img.get(cat, 0), img.get(echo, 1)
    img.set(echo, 1, shared)
    check(tmp_path, img, 1, f"block {shared} used twice: by inode {cat} and inode {echo}",
          f"block {lost} is marked in the bitmap but not used (leaked)")


def test_block_pointer_outside_data_area(tmp_path):
    img = Image()
    cat = img.inum("cat")
    img.set(cat, 2, img.sb["inodestart"])
    check(tmp_path, img, 1, f"inode {cat}: direct block pointer {img.sb['inodestart']} is "
                            "outside the data area")


def test_link_count_off_by_one(tmp_path):
    img = Image()
    cat = img.inum("cat")
    img.set(cat, "nlink", 2)
    check(tmp_path, img, 1, f"inode {cat} (/cat): link count 2, but 1 entry names it")


def test_root_link_count(tmp_path):
    img = Image()
    img.set(1, "nlink", 2)
    check(tmp_path, img, 1, "inode 1 (/): link count 2, but 1 entry names it")


def test_dot_wrong(tmp_path):
    img = Image()
    img.set_entry(".", inum=2)
    check(tmp_path, img, 1, "directory /: '.' names inode 2, not itself (1)")


def test_dotdot_wrong(tmp_path):
    img = Image()
    img.set_entry("..", inum=2)
    check(tmp_path, img, 1, "directory /: '..' names inode 2, not its parent (1)")


def test_dot_missing(tmp_path):
    img = Image()
    img.set_entry(".", new_name="dot")
    check(tmp_path, img, 1, "directory /: no '.' entry")


def test_duplicate_name(tmp_path):
    img = Image()
    echo = img.inum("echo")
    img.set_entry("echo", new_name="cat")
    out = check(tmp_path, img, 1, "directory /: duplicate name 'cat'")
    assert f"inode {echo}" not in out     # still reachable: no link-count or lost report


def test_name_not_nul_padded(tmp_path):
    img = Image()
    off = img.entry_off("cat")
    img.data[off + 2 + 5] = ord("x")
    check(tmp_path, img, 1, "directory /: name 'cat' at offset")


def test_entry_names_free_inode(tmp_path):
    img = Image()
    free = img.sb["ninodes"] - 1
    assert img.get(free, "type") == 0
    cat = img.inum("cat")
    img.set_entry("cat", inum=free)
    check(tmp_path, img, 1, f"directory /: entry 'cat' names free inode {free}",
          f"inode {cat} (file, nlink 1")


def test_entry_names_inode_out_of_range(tmp_path):
    img = Image()
    img.set_entry("cat", inum=img.sb["ninodes"] + 5)
    check(tmp_path, img, 1, f"names inode {img.sb['ninodes'] + 5}, out of range")


def test_directory_named_twice(tmp_path):
    img = Image()
    img.set_entry("cat", inum=1)
    check(tmp_path, img, 1, "directory /: entry 'cat' names directory 1, already named /")


def test_unreachable_allocated_inode(tmp_path):
    img = Image()
    wc = img.inum("wc")
    size = img.get(wc, "size")
    img.set_entry("wc", inum=0)
    check(tmp_path, img, 1,
          f"inode {wc} (file, nlink 1, size {size}) is allocated but not reachable from / (lost)")


def test_bad_type(tmp_path):
    img = Image()
    cat = img.inum("cat")
    img.set(cat, "type", 7)
    check(tmp_path, img, 1, f"inode {cat}: bad type 7")


def test_size_beyond_blocks(tmp_path):
    img = Image()
    cat = img.inum("cat")
    size = img.get(cat, "size")
    nblocks = (size + BSIZE - 1) // BSIZE
    img.set(cat, "size", nblocks * BSIZE + 1)
    check(tmp_path, img, 1, f"inode {cat}: size {nblocks * BSIZE + 1}, but no block for "
                            f"offset {nblocks * BSIZE}")


def test_size_short_of_blocks(tmp_path):
    img = Image()
    cat = img.inum("cat")
    img.set(cat, "size", 100)
    check(tmp_path, img, 1, f"inode {cat}: size 100, but a block pointer for offset 512")


def test_size_beyond_largest_file(tmp_path):
    img = Image()
    cat = img.inum("cat")
    img.set(cat, "size", 0xFFFFFFF0)
    check(tmp_path, img, 1, f"inode {cat}: size {0xFFFFFFF0} is beyond the largest file")


def test_directory_size_not_multiple(tmp_path):
    img = Image()
    img.set(1, "size", img.get(1, "size") - 3)
    check(tmp_path, img, 1, "directory /: size")


def test_truncated_image(tmp_path):
    data = FS_IMAGE.read_bytes()
    (tmp_path / "fs.img").write_bytes(data[:len(data) - BSIZE])
    status, out, err = fsck(tmp_path / "fs.img")
    assert status == 2 and out == ""
    assert "truncated" in err and len(err.strip().splitlines()) == 1


def test_tiny_file(tmp_path):
    (tmp_path / "fs.img").write_bytes(b"xv6")
    status, _, err = fsck(tmp_path / "fs.img")
    assert status == 2 and "too short to hold a superblock" in err


def test_missing_image(tmp_path):
    status, _, err = fsck(tmp_path / "nothing.img")
    assert status == 2 and "cannot open" in err


def test_garbage_superblock(tmp_path):
    img = Image()
    img.put_block(1, random.Random(1).randbytes(BSIZE))
    status, _, err = fsck(img.write(tmp_path / "fs.img"))
    assert status == 2 and "not an xv6 file system" in err


def test_image_longer_than_superblock_says(tmp_path):
    img = Image()
    img.data += bytes(BSIZE)
    check(tmp_path, img, 1, f"superblock: {img.sb['size']} blocks, but the image holds")


def test_log_header_huge_count(tmp_path):
    img = Image()
    img.set_log(1000000)
    check(tmp_path, img, 1, "log: header count 1000000 out of range 0..29")


def test_log_header_names_log_block(tmp_path):
    img = Image()
    img.set_log(1, [img.sb["logstart"]])
    check(tmp_path, img, 1, f"log: entry 0 names block {img.sb['logstart']}")


def test_committed_log_repairs_image(tmp_path):
    """The home bitmap block misses a used block, the logged copy is right: clean only because
    fsck lays the committed log over the home blocks, as recovery would."""
    img = Image()
    bmap, slot = img.sb["bmapstart"], img.sb["logstart"] + 1
    used = img.get(img.inum("cat"), 0)
    img.put_block(slot, img.block(bmap))
    img.set_bit(used, False)
    check(tmp_path, img, 1, f"block {used} is used by inode")    # no commit yet: broken
    img.set_log(1, [bmap])
    out = check(tmp_path, img, 0, "log: committed transaction of 1 block;", "clean")
    assert "block" not in out.split("\n", 1)[1].split("clean")[0]


def test_cat_and_ls():
    status, out, _ = fsck("--cat", FS_IMAGE, "/README")
    assert status == 0 and out == (ROOT / "README.md").read_text()
    status, out, _ = fsck("--ls", FS_IMAGE)
    lines = out.splitlines()
    assert status == 0 and lines[0] == f"1 dir 1 {Image().get(1, 'size')} /"
    inum, kind, nlink, size, path = next(l for l in lines if l.endswith(" /README")).split()
    assert (kind, nlink, int(size)) == ("file", "1", len((ROOT / "README.md").read_bytes()))


def test_cat_missing_path():
    status, out, err = fsck("--cat", FS_IMAGE, "/no/such")
    assert (status, out) == (1, "") and "no such file" in err


def test_usage():
    status, _, err = fsck("--frobnicate", FS_IMAGE)
    assert status == 2 and "usage" in err


# ---- attacking the checker: it must answer, whatever it is fed ----

INTERESTING = [0, 1, 2, 3, 7, 8, 12, 13, 127, 128, 199, 200, 3999, 4000, 0x7FFF, 0xFFFF,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def mutant(rng, base):
    """base with a few words of metadata (superblock, log, inodes, bitmap, root directory)
    replaced by random or boundary values."""
    img = Image(base.data)
    root = img.get(1, 0)
    meta_end = img.sb["bmapstart"] + 1
    for _ in range(rng.randint(1, 12)):
        block = rng.choice([1, img.sb["logstart"], rng.randrange(2, meta_end), root,
                            rng.randrange(img.sb["inodestart"], img.sb["bmapstart"])])
        off = block * BSIZE + rng.randrange(0, BSIZE, 2)
        value = rng.choice(INTERESTING) if rng.random() < 0.6 else rng.getrandbits(32)
        width = rng.choice([2, 4]) if off % 4 == 0 else 2
        img.data[off:off + width] = (value & (1 << 8 * width) - 1).to_bytes(width, "little")
    return img.data


def garbage(rng, base):
    """Random bytes, sometimes behind a valid superblock so that the checker goes deeper."""
    size = rng.choice([rng.randrange(0, 4 * BSIZE), len(base.data)])
    data = bytearray(rng.randbytes(size))
    if size >= 2 * BSIZE and rng.random() < 0.7:
        data[BSIZE:2 * BSIZE] = base.block(1)
    return data


def attack(tmp_path, fsck_path, count, seed):
    rng = random.Random(seed)
    base = Image()
    statuses = []
    for i in range(count):
        is_mutant = i % 3 != 0
        data = mutant(rng, base) if is_mutant else garbage(rng, base)
        path = tmp_path / f"attack-{i}.img"
        path.write_bytes(data)
        status, out, err = fsck(path, fsck_path=fsck_path)
        allowed = (0, 1, 2) if is_mutant else (1, 2)
        assert status in allowed, f"{path}: status {status}\n{out[-2000:]}{err[-2000:]}"
        assert "runtime error" not in err and "AddressSanitizer" not in err, err[-3000:]
        statuses.append(status)
        path.unlink()
    return statuses


def test_random_and_mutated_images(tmp_path):
    statuses = attack(tmp_path, FSCK, 300, seed=2024)
    assert statuses.count(1) > 50 and statuses.count(2) > 50     # both paths exercised


def test_random_images_under_sanitizers(tmp_path):
    """The same attack on a build with AddressSanitizer and UBSan, which abort on any
    out-of-bounds access or undefined behaviour."""
    exe = tmp_path / "fsck-asan"
    proc = subprocess.run(["gcc", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                           "-g", "-O1", f"-I{ROOT / 'xv6' / 'kernel'}", "-o", str(exe),
                           str(ROOT / "xv6" / "mkfs" / "fsck.c")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    status, out, _ = fsck(FS_IMAGE, fsck_path=exe)
    assert status == 0, out
    attack(tmp_path, exe, 120, seed=7)
