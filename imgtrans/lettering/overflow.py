"""When a translation does not fit its area at the minimum legible size.

Text with no balloon (a caption, a label) first gets the flat background of its own colour
around its box, as far as no other block uses it: that is where a letterer would put it
(the block stays ``ok``). Then the area grows past the balloon (or box), onto pixels no
other block uses, and the
text is lettered there on a backing of the block's background colour (the block is marked
``overflow``). When even the largest growth cannot hold it, the block is ``kept``: the
source pixels that were erased are put back, so a block is never erased and left empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from imgtrans.lettering.balloon import Area
from imgtrans.page import BBox

GROWTH_STEPS = (1, 2, 3, 4)  # multiples of the growth step tried, smallest first
FREE, BLOCKED = -1, -2
FLAT_TOL = 24  # a pixel this close to the background colour (every channel) is background


def legible_minimum(height: int, width: int, floor: int, source_size: int) -> int:
    """The smallest font size lettering may use on a ``width x height`` page.

    ``max(floor, 0.8 % of the page height)``, the height taken as at most 1.5 widths (a tall
    webtoon strip is read a screen at a time), but never above the source glyphs' own
    size: text the source set that small was read at that size.
    """
    page = max(floor, round(0.008 * min(height, 1.5 * width)))
    return max(floor, min(page, source_size))


def owner_map(shape: tuple[int, int], areas: list[Area], blocked: list[BBox]) -> np.ndarray:
    """int32 ``H x W``: index of the area each pixel belongs to, FREE, or BLOCKED (the boxes
    of text left as it is). Later areas win where two overlap."""
    owners = np.full(shape, FREE, np.int32)
    for box in blocked:
        owners[box.y0 : box.y1, box.x0 : box.x1] = BLOCKED
    for i, area in enumerate(areas):
        h, w = area.mask.shape
        view = owners[area.y0 : area.y0 + h, area.x0 : area.x0 + w]
        view[area.mask & (view != BLOCKED)] = i
    return owners


def grown_areas(
    area: Area,
    box: BBox,
    step: int,
    owners: np.ndarray,
    index: int,
    flat: tuple[np.ndarray, tuple[int, int, int]] | None = None,
) -> Iterator[Area]:
    """Rectangles around ``box`` grown by ``k * step`` for each k of GROWTH_STEPS, holding
    the area itself plus every pixel no other block owns (page coordinates clipped).

    ``flat`` = (image, colour): only pixels of ``image`` within FLAT_TOL of ``colour`` (the
    flat background around text that has no balloon), so nothing needs covering.
    """
    height, width = owners.shape
    core = area.bbox if area.mask.any() else box
    core = BBox.union([core, box])
    for k in GROWTH_STEPS:
        g = core.grow(k * step, width, height)
        mine = owners[g.y0 : g.y1, g.x0 : g.x1]
        mask = (mine == FREE) | (mine == index)
        if flat is not None:
            image, colour = flat
            crop = image[g.y0 : g.y1, g.x0 : g.x1].astype(np.int16)
            mask &= np.abs(crop - np.array(colour, np.int16)).max(axis=2) <= FLAT_TOL
            mask = _touching(
                mask, BBox(core.x0 - g.x0, core.y0 - g.y0, core.x1 - g.x0, core.y1 - g.y0)
            )
        yield Area(mask, g.x0, g.y0, balloon=False)


def _touching(mask: np.ndarray, box: BBox) -> np.ndarray:
    """The parts of ``mask`` connected to its pixels inside ``box`` (window coordinates):
    the flat background around the text, not the next panel's past a frame line."""
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    ids = np.unique(labels[box.y0 : box.y1, box.x0 : box.x1])
    return np.isin(labels, ids[ids > 0])


def backing_box(full: np.ndarray, area: Area, pad: int) -> BBox | None:
    """Page box of the drawn coverage ``full`` (window of ``area``) grown by ``pad``, clipped
    to the area's window; None when nothing is drawn."""
    ys, xs = np.nonzero(full)
    if not len(ys):
        return None
    h, w = area.mask.shape
    x0, x1 = max(0, int(xs.min()) - pad), min(w, int(xs.max()) + 1 + pad)
    y0, y1 = max(0, int(ys.min()) - pad), min(h, int(ys.max()) + 1 + pad)
    return BBox(area.x0 + x0, area.y0 + y0, area.x0 + x1, area.y0 + y1)


def paint_backing(out: np.ndarray, area: Area, box: BBox, colour: tuple[int, int, int]) -> None:
    """Fill ``box`` (page coordinates, inside the area's window) with ``colour`` where the
    area allows, in place: the plate the overflowing text is lettered on."""
    sub = area.mask[box.y0 - area.y0 : box.y1 - area.y0, box.x0 - area.x0 : box.x1 - area.x0]
    out[box.y0 : box.y1, box.x0 : box.x1][sub] = colour


def restore(
    out: np.ndarray,
    original: np.ndarray,
    clean: np.ndarray,
    box: BBox,
    owners: np.ndarray | None,
    index: int,
) -> None:
    """Put the ``original`` pixels back inside ``box`` wherever the erased image ``clean``
    differs from them (what erasing took away), in place, except on pixels another block's
    area owns (their lettering stays)."""
    sl = (slice(box.y0, box.y1), slice(box.x0, box.x1))
    take = (original[sl] != clean[sl]).any(axis=2)
    if owners is not None:
        mine = owners[sl]
        take &= (mine == FREE) | (mine == index) | (mine == BLOCKED)
    out[sl][take] = original[sl][take]
