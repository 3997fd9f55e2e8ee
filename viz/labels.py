"""Placing labels so that none overlaps another.

Two shapes of the problem: labels along a time axis, each tied to an
instant, go into a few horizontal lanes (first lane with room wins; a label
that fits nowhere is dropped and counted); labels beside a bar, each tied
to a height, are spread vertically as little as possible.
All sizes are in display pixels.
"""


def assign_lanes(extents, lanes, pad=6, max_shift=0.0):
    """extents: (left, right) of each label in placing order. Returns, per
    label, (lane, shift): its lane (0 is nearest the axis) and how far right
    of its wanted place it had to move (at most max_shift), or None if it
    fits nowhere. Lower lanes win, then smaller shifts."""
    taken = [[] for _ in range(lanes)]       # occupied (left, right) per lane

    def fits(lane, a, b):
        return all(b + pad <= x or a >= y + pad for x, y in taken[lane])

    out = []
    for left, right in extents:
        best = None
        for lane in range(lanes):
            shifts = [0.0] + sorted(y + pad - left for x, y in taken[lane] if y + pad > left)
            for shift in shifts:
                if shift > max_shift:
                    break
                if fits(lane, left + shift, right + shift):
                    if best is None or shift < best[1]:
                        best = (lane, shift)
                    break
            if best is not None and best[1] == 0:
                break
        if best is not None:
            taken[best[0]].append((left + best[1], right + best[1]))
        out.append(best)
    return out


def spread(wanted, height, lo, hi):
    """Centres for labels of the given height, as close as possible to the
    wanted centres (sorted ascending), inside [lo, hi], not overlapping.
    Returns None if they cannot all fit."""
    n = len(wanted)
    if n == 0:
        return []
    if n * height > hi - lo:
        return None
    pos = [min(max(w, lo + height / 2), hi - height / 2) for w in wanted]
    for i in range(1, n):                    # push up
        pos[i] = max(pos[i], pos[i - 1] + height)
    if pos[-1] > hi - height / 2:            # then back down from the top
        pos[-1] = hi - height / 2
        for i in range(n - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - height)
    return pos


def overlaps(a, b, pad=0):
    """Do two (x0, y0, x1, y1) boxes overlap?"""
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad
