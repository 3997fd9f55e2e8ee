"""The segmented address axis and the label placement."""

import numpy as np

from viz import labels
from viz.addraxis import BREAK, AddressAxis

PAGE = 4096
LOW = [(0, 0x2000), (0x3000, 0x4000), (0x4000, 0x5000)]
HIGH = [(0x7FFF3000, 0x7FFF7000), (0x7FFF7000, 0x7FFFF000)]


def test_axis_is_monotonic_and_invertible():
    axis = AddressAxis(LOW + HIGH, PAGE)
    a = np.linspace(-0x1000, 0x7FFFF000 + 0x2000, 5001)
    y = axis.forward(a)
    assert np.all(np.diff(y) > 0)
    assert np.allclose(axis.inverse(y), a, rtol=0, atol=1e-3)


def test_big_gap_becomes_a_break_and_both_ends_stay_readable():
    axis = AddressAxis(LOW + HIGH, PAGE)
    assert axis.breaks == [(0x5000, 0x7FFF3000)]
    gap = axis.forward(0x7FFF3000) - axis.forward(0x5000)
    assert np.isclose(gap, BREAK)
    low = axis.forward(0x5000) - axis.forward(0)
    high = axis.forward(0x7FFFF000) - axis.forward(0x7FFF3000)
    assert low > 0.2 * axis.height and high > 0.2 * axis.height
    # Pages within one cluster have equal height.
    assert np.isclose(axis.forward(0x7FFF4000) - axis.forward(0x7FFF3000),
                      axis.forward(0x7FFFF000) - axis.forward(0x7FFFE000))


def test_small_gaps_stay_linear():
    axis = AddressAxis([(0, 0x2000), (0x4000, 0x5000)], PAGE)
    assert axis.breaks == []


def test_ticks_keep_their_distance():
    ranges = [(0x40000000 + i * 3 * PAGE, 0x40000000 + (i * 3 + 1) * PAGE) for i in range(50)]
    axis = AddressAxis(ranges, PAGE)
    sep = axis.height / 20
    ys = sorted(float(axis.forward(a)) for a in axis.ticks(sep))
    assert len(ys) >= 2 and all(b - a >= sep - 1e-9 for a, b in zip(ys, ys[1:]))


def test_lanes_never_overlap():
    rng = np.random.default_rng(3)
    extents = []
    for x in sorted(rng.uniform(0, 1000, 60)):
        w = rng.uniform(30, 120)
        extents.append((x - w / 2, x + w / 2))
    places = labels.assign_lanes(extents, 3, pad=4, max_shift=100)
    placed = [(lane, a + shift, b + shift) for (a, b), p in zip(extents, places)
              if p is not None for lane, shift in [p]]
    assert any(p is None for p in places) and len(placed) > 10
    for i, (la, a0, a1) in enumerate(placed):
        for lb, b0, b1 in placed[i + 1:]:
            assert la != lb or a1 + 4 <= b0 or b1 + 4 <= a0


def test_spread_keeps_order_and_distance():
    pos = labels.spread([10, 11, 12, 50, 95], 8, 0, 100)
    assert all(b - a >= 8 - 1e-9 for a, b in zip(pos, pos[1:]))
    assert pos[0] >= 4 and pos[-1] <= 96
    assert labels.spread([1, 2, 3], 40, 0, 100) is None
