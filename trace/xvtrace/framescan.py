"""The frames of an undamaged capture, found and checked all at once:
decode.scan's fast path.

Most captures are whole: every frame follows the one before, its checksum
matches, its sequence number is the next, and the last ends with the data.
walk() finds the frames with numpy (every place the magic occurs, then
the chain of frame lengths from the first); clean() checks all of the
above at once and returns what scan() returns, or None for a capture with
anything odd in it, which scan() then decodes frame by frame with its
warnings.
"""

import numpy as np

from . import decode

U32_MAX = 0xFFFFFFFF


def walk(data):
    """Byte offsets of the frames chained from the first magic by their
    lengths, as far as the chain goes (np.int64 array)."""
    size = len(data)
    found = []
    for align in range(4):
        words = np.frombuffer(data, dtype="<u4", count=(size - align) // 4, offset=align)
        found.append(np.flatnonzero(words == decode.MAGIC) * 4 + align)
    starts = np.sort(np.concatenate(found))
    if not len(starts):
        return starts
    raw = np.frombuffer(data, dtype=np.uint8)
    starts = starts[starts + decode.FRAME.size <= size]
    if not len(starts):
        return starts
    lengths = raw[starts + 6].astype(np.int64) | raw[starts + 7].astype(np.int64) << 8
    ends = starts + decode.FRAME.size + lengths
    follower = np.searchsorted(starts, ends)
    follower[(follower >= len(starts)) | (ends > size)] = -1
    follower[follower >= 0] = np.where(starts[follower[follower >= 0]] == ends[follower >= 0],
                                       follower[follower >= 0], -1)
    chain, at, nxt = [], 0, follower.tolist()
    while at >= 0:
        chain.append(at)
        at = nxt[at]
    return starts[chain]


def fields(data, starts):
    """(kind, cpu, length, seq, sum) of the frames at starts."""
    raw = np.frombuffer(data, dtype=np.uint8)
    rows = raw[starts[:, None] + np.arange(decode.FRAME.size)]
    head = rows.copy().view(np.dtype([("magic", "<u4"), ("kind", "u1"), ("cpu", "u1"),
                                      ("length", "<u2"), ("seq", "<u4"), ("sum", "<u4")]))
    head = head.reshape(-1)
    return head["kind"], head["cpu"], head["length"].astype(np.int64), head["seq"], head["sum"]


def sums(data, starts, length):
    """The checksums of the frames at starts: whole words at once, the few
    others (a header's length need not be a multiple of 4) one by one."""
    out = np.zeros(len(starts), dtype=np.uint64)
    words = length % 4 == 0
    out[words] = decode.frame_sum_array(data, starts[words], length[words])
    for j in np.flatnonzero(~words).tolist():
        pos, end = int(starts[j]), int(starts[j] + decode.FRAME.size + length[j])
        out[j] = decode.frame_sum(data[pos + 4:pos + 12] + data[pos + decode.FRAME.size:end])
    return out


def payloads(data, body, length):
    """The payloads at byte offsets body with lengths length (multiples of 8),
    one after another, as a numpy byte array: gathered as 64-bit words, a
    batch of frames of one length and alignment at a time (a list of 10^5
    slices to join would cost as much memory as a third of the records)."""
    words = length // 8
    out = np.empty(int(words.sum()), dtype=np.uint64)
    dest = np.cumsum(words) - words
    align = body % 8
    for a in np.unique(align).tolist():
        view = np.frombuffer(data, dtype="<u8", count=(len(data) - a) // 8, offset=a)
        for n in np.unique(words[align == a]).tolist():
            which = np.flatnonzero((align == a) & (words == n))
            step = np.arange(n)
            for i in range(0, len(which), 4096):
                batch = which[i:i + 4096]
                out[dest[batch][:, None] + step] = view[((body[batch] - a) // 8)[:, None] + step]
    return out.view(np.uint8)


def clean(data, source):
    """scan()'s result for an undamaged capture, or None."""
    starts = walk(data)
    if not len(starts):
        return None
    kind, _, length, seq, fsum = fields(data, starts)
    last_end = int(starts[-1]) + decode.FRAME.size + int(length[-1])
    records = kind == decode.KIND_RECORDS
    if (last_end != len(data) or
            not np.isin(kind, (decode.KIND_HEADER, decode.KIND_RECORDS)).all() or
            (length[records] % decode.RECORD_SIZE).any() or
            ((seq[1:].astype(np.int64) - seq[:-1]) & U32_MAX != 1).any()):
        return None
    if (sums(data, starts, length) != fsum).any():
        return None
    mv = memoryview(data)
    header = schema = payload = None
    for pos, n in zip(starts[~records].tolist(), length[~records].tolist()):
        this = bytes(mv[pos + decode.FRAME.size:pos + decode.FRAME.size + n])
        if payload is None:
            header, schema = decode.parse_header(this)
            payload = this
        elif this != payload:
            return None             # a later header: scan() says what it means
    if header is None:
        return None
    first = int(starts[0])
    warnings = [f"skipped {first} bytes before the first frame"] if first else []
    joined = payloads(data, starts[records] + decode.FRAME.size, length[records])
    return joined, dict(header=header, schema=schema, frames=len(starts), damaged=0,
                        missing_frames=0, first_seq=int(seq[0]), truncated=False,
                        warnings=warnings)
