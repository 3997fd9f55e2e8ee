"""The palette in greyscale, and sizes and times in plain units."""

import itertools

import pytest

from viz import style

LEGEND_ORDER = [k for k in style.KINDS if k != "guard"]   # also their order up the address axis


def test_adjacent_kinds_differ_in_luminance():
    lum = {k: style.luminance(style.KIND_COLOR[k]) for k in LEGEND_ORDER}
    for a, b in zip(LEGEND_ORDER, LEGEND_ORDER[1:]):
        assert abs(lum[a] - lum[b]) >= 0.15, (a, b, lum[a], lum[b])


def test_every_two_kinds_differ_in_luminance():
    lum = {k: style.luminance(style.KIND_COLOR[k]) for k in LEGEND_ORDER}
    for a, b in itertools.combinations(LEGEND_ORDER, 2):
        assert abs(lum[a] - lum[b]) >= 0.1, (a, b, lum[a], lum[b])


def test_resident_and_reserved_differ_in_luminance():
    # Reserved pages are the kind's colour at RESERVED_ALPHA over white.
    for kind in style.REGION_KINDS:
        solid = style.luminance(style.KIND_COLOR[kind])
        tint = 1 - style.RESERVED_ALPHA * (1 - solid)
        assert tint - solid >= 0.2, kind


def test_page_cache_band_differs_from_its_neighbours():
    """The memory chart's page-cache band (stacked between the shared regions and the
    page tables) differs from both in grey, or at least in hatching."""
    cache = style.owner_style("page cache (mapped files)")
    for other in ("shared regions", "processes' page tables", "shared copy-on-write"):
        near = style.owner_style(other)
        assert (abs(style.luminance(cache[0]) - style.luminance(near[0])) >= 0.15 or
                cache[1] != near[1]), other


def test_luminance_matches_a_greyscale_conversion():
    from PIL import Image
    for color in style.KIND_COLOR.values():
        rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        grey = Image.new("RGB", (1, 1), rgb).convert("L").getpixel((0, 0))
        assert abs(grey / 255 - style.luminance(color)) < 0.01, color


@pytest.mark.parametrize("n, text", [
    (0, "0 bytes"), (512, "512 bytes"), (4096, "4 KiB"), (12288, "12 KiB"),
    (1 << 30, "1 GiB"), ((1 << 31) - 4 * 4096, "2.0 GiB"), (1536 * 1024, "1.5 MiB"),
    (1023 << 20, "1023 MiB"), (137 * 4096, "548 KiB")])
def test_sizes_in_plain_units(n, text):
    assert style.size_bytes(n) == text
    assert "e+" not in style.size_bytes(n)


@pytest.mark.parametrize("d, text", [
    (0.0123, "12.3 ms"), (8.69, "8.69 s"), (0.00087, "870 µs"), (0.0147, "14.7 ms"),
    (1.0, "1.00 s"), (123.4, "123 s"), (0.000012, "12.0 µs")])
def test_durations_with_three_figures(d, text):
    assert style.duration(d) == text


def test_moments_keep_the_digits_a_short_life_needs():
    born, exited = 8.6912345, 8.7035
    assert style.moment(born, exited - born) == "8.6912 s"
    assert style.moment(exited, exited - born) == "8.7035 s"
    assert style.moment(born, exited - born) != style.moment(exited, exited - born)
    assert style.moment(1234567, 10, ticks=True) == "1234567 ticks"


def test_time_scale_counts_from_its_origin():
    scale = style.TimeScale("s", 0.015, origin=8.7, since="after pid 4 started")
    assert scale.suffix == "ms"
    assert scale.label == "time (ms after pid 4 started)"
    assert scale.format(8.7123) == "12.3 ms"
    assert scale.format(8.7) == "0 ms"
    fmt = scale.formatter()
    fmt.set_locs([8.700, 8.702, 8.704])
    assert [fmt(x) for x in (8.700, 8.702, 8.704)] == ["0", "2", "4"]


def test_ticks_are_round_after_the_origin():
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.add_subplot()
    scale = style.TimeScale("s", 0.0157, origin=1.1612121, since="after pid 4 started")
    ax.set_xlim(1.1605, 1.1767)
    scale.apply(ax.xaxis)
    ticks = [t for t in ax.xaxis.get_major_locator()() if 1.1605 <= t <= 1.1767]
    rel = [(t - 1.1612121) * 1e3 for t in ticks]
    assert len(rel) >= 3
    assert all(abs(r - round(r)) < 1e-6 for r in rel), rel
