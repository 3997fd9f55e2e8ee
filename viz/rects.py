"""Many rectangles drawn as one artist.

A PolyCollection of n rectangles is n paths: with the segmented address
axis (a non-affine scale) matplotlib transforms each path on its own, and
Agg fills and hatches each on its own; a busy process has thousands. Here
they are one compound path (a MOVETO, three LINETOs and a CLOSEPOLY per
rectangle) in a PathCollection: one transform, one fill, one hatch pass.
The data stay real times and addresses.
"""

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.path import Path

CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                 dtype=Path.code_type)


def compound(rects):
    """One Path of the rectangles, each given as its four (x, y) corners."""
    corners = np.asarray(rects, dtype=float).reshape(-1, 4, 2)
    verts = np.concatenate([corners, corners[:, :1]], axis=1).reshape(-1, 2)
    return Path(verts, np.tile(CODES, len(corners)))


def collection(rects, **kw):
    """A PathCollection drawing the rectangles (see compound) with the
    keyword arguments of a PolyCollection (facecolors, hatch, label...)."""
    kw.setdefault("facecolors", "none")
    return PathCollection([compound(rects)], **kw)


def split(path):
    """The rectangles of a compound path, as (x0, x1, y0, y1): for tests."""
    v = path.vertices.reshape(-1, 5, 2)[:, :4]
    return [(float(r[:, 0].min()), float(r[:, 0].max()), float(r[:, 1].min()),
             float(r[:, 1].max())) for r in v]
