"""Mask stage: the pixels to erase, the glyph strokes of the lines that will be translated.

Erasing whole detector polygons makes the inpainter fill big holes, which smears textured
or coloured backgrounds and can cut into a balloon's outline. The mask is stroke-level
instead: inside each block's polygons, the pixels of the block's measured text colour (and
its outline colour, for outlined lettering), grown by ``dilate`` pixels so the anti-aliased
edge goes too. Ink of that colour that runs out of the polygons (a balloon's outline, the
drawing) is left, except where it reaches the middle of a line (glyphs touching art).
Small marks of the text colour around the block that lie on the same flat background
(ruby, a small line or dot beside a column, stray punctuation) go with the block, so new
text never lands on old strokes. When the strokes cannot be told from the background
(too little contrast) the whole polygon is erased, as before.

Lines of blocks marked not to translate (noise, page numbers, sound effects) are left in
the image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from imgtrans.lettering.colour import measure_colours
from imgtrans.ocr.blocks import glyph_size
from imgtrans.options import MaskOptions
from imgtrans.page import BBox, Page, TextBlock
from imgtrans.stages import Step

CORE_DEPTH = 0.5  # structure deeper than this share of the polygon's depth is a glyph
MIN_CONTRAST = 40.0  # text colour this close to the background: strokes cannot be told apart
EXTRA_REACH = 1.5  # marks up to this many glyph sizes around the block go with it
EXTRA_SIZE = 1.3  # ... when no bigger than this many glyph sizes
HALO = 3  # px past the grown strokes where off-background pixels are erased too
GLOW = 0.3  # a glow around lettering on a flat background: up to this many glyph sizes
TANGLED = 0.25  # share of glyph-joined structure outside the line's middle: "can't tell"
BUSY = 0.5  # share of a polygon off its background colour that makes the background busy


def _kernel(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` (bool) grown by ``radius`` px (a disc; a distance transform when it is big)."""
    if radius <= 0:
        return mask
    if radius <= 3:
        return np.asarray(cv2.dilate(mask.astype(np.uint8), _kernel(radius)) > 0)
    dist = cv2.distanceTransform(np.where(mask, 0, 1).astype(np.uint8), cv2.DIST_L2, 3)
    return np.asarray(dist <= radius)


def polygon_mask(block: TextBlock, box: BBox) -> np.ndarray:
    """bool ``box``-sized mask of the block's line polygons (``box`` in page pixels)."""
    mask = np.zeros((box.height, box.width), np.uint8)
    for line in block.lines:
        pts = np.round(np.asarray(line.polygon, np.float32) - (box.x0, box.y0)).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def text_mask(page: Page, dilate: int) -> np.ndarray:
    """uint8 HxW, 255 over the polygons of translatable blocks, grown by ``dilate`` pixels."""
    mask = np.zeros((page.height, page.width), np.uint8)
    full = BBox(0, 0, page.width, page.height)
    for block in page.blocks:
        if block.translate:
            mask[polygon_mask(block, full)] = 255
    if dilate > 0 and mask.any():
        mask = np.where(_grow(mask, dilate), 255, 0).astype(np.uint8)
    return mask


def _near(crop: np.ndarray, colour: tuple[int, int, int], tol: float) -> np.ndarray:
    """bool: pixels within ``tol`` of ``colour`` in every channel."""
    c = np.array(colour, np.float64)
    lo, hi = np.clip(np.ceil(c - tol), 0, 255), np.clip(np.floor(c + tol), 0, 255)
    return np.asarray(cv2.inRange(crop, lo, hi) > 0)


def _structure(ink: np.ndarray, poly: np.ndarray, reach: int, size: int) -> np.ndarray:
    """Ink components that run out of the polygons by more than ``reach`` px and are bigger
    than a glyph (a balloon's outline, the drawing; a glyph poking out is not structure)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    outside = np.unique(labels[ink & ~_grow(poly, reach)])
    outside = outside[outside > 0]
    big = np.maximum(stats[outside, cv2.CC_STAT_WIDTH], stats[outside, cv2.CC_STAT_HEIGHT])
    return np.isin(labels, outside[big > EXTRA_SIZE * size])


def _solid(part: np.ndarray) -> np.ndarray:
    """``part`` with its holes filled (the inside of a glyph's loop is not its surroundings);
    ``part`` must be empty along its border."""
    flood = part.astype(np.uint8)
    cv2.floodFill(flood, None, (0, 0), 2)
    return np.asarray(flood != 2)


def _extras(
    ink: np.ndarray,
    structure: np.ndarray,
    background: np.ndarray,
    poly: np.ndarray,
    union: np.ndarray,
    size: int,
) -> np.ndarray:
    """Small marks of the text colour on the block's own background, near its polygons."""
    # The background region the block sits on: the flat-colour component under its lines.
    count, labels = cv2.connectedComponents(background.astype(np.uint8), connectivity=4)
    under = labels[poly & background]
    if count < 2 or under.size == 0:
        return np.zeros_like(ink)
    home = labels == np.bincount(under[under > 0], minlength=count).argmax()
    zone = _grow(poly, max(2, round(EXTRA_REACH * size)))
    candidates = ink & ~structure & ~union
    n, comp, stats, _ = cv2.connectedComponentsWithStats(
        np.asarray(candidates, np.uint8), connectivity=8
    )
    out = np.zeros_like(ink)
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if max(w, h) > EXTRA_SIZE * size:
            continue
        part = comp[y : y + h, x : x + w] == i
        if not zone[y : y + h, x : x + w][part].all():
            continue
        solid = _solid(np.pad(part, 2))
        ring = _grow(solid, 2) & ~solid
        ys, xs = np.nonzero(ring)
        ys, xs = ys + y - 2, xs + x - 2
        ok = (ys >= 0) & (xs >= 0) & (ys < ink.shape[0]) & (xs < ink.shape[1])
        if ok.any() and (home[ys[ok], xs[ok]] | ink[ys[ok], xs[ok]]).mean() > 0.9:
            out[y : y + h, x : x + w] |= part
    return out


def block_strokes(image: np.ndarray, block: TextBlock, dilate: int, out: np.ndarray) -> None:
    """Mark one block's strokes to erase in ``out`` (bool HxW, in place).

    ``image``: the page, RGB uint8 HxWx3. Each line is measured on its own (a sign's lines
    may differ in colour) in a window around it that holds its grown strokes and the marks
    that go with them.
    """
    h, w = image.shape[:2]
    size = glyph_size(block)
    reach = max(dilate, round(EXTRA_REACH * size)) + 2
    for line in block.lines:
        win = line.bbox.grow(reach, w, h)
        poly = polygon_mask(replace(block, lines=(line,)), win)
        if poly.any():
            crop = image[win.y0 : win.y1, win.x0 : win.x1]
            union = polygon_mask(block, win)
            out[win.y0 : win.y1, win.x0 : win.x1] |= _line_strokes(crop, poly, union, size, dilate)


def _line_strokes(
    crop: np.ndarray, poly: np.ndarray, union: np.ndarray, size: int, dilate: int
) -> np.ndarray:
    """Strokes of one line (polygon ``poly``; ``union``: all the block's polygons)."""
    # The glyphs are a minority of their polygon (which may poke out of a snug balloon).
    bg = tuple(int(v) for v in np.median(crop[poly], axis=0))
    colours = measure_colours(crop, poly, bg)  # type: ignore[arg-type]
    contrast = float(np.abs(np.array(colours.text) - np.array(bg)).max())
    if not colours.measured or contrast < MIN_CONTRAST:
        return _grow(poly, dilate)
    tol = max(24.0, 0.5 * contrast)
    ink = _near(crop, colours.text, tol)
    if colours.outline is not None:
        ink |= _near(crop, colours.outline, tol)
    structure = _structure(ink, union, dilate + 1, size)
    depth = cv2.distanceTransform(poly.astype(np.uint8), cv2.DIST_L2, 3)
    core = depth > CORE_DEPTH * float(depth.max())
    strokes = ink & poly & (~structure | core)
    if _tangled(ink & poly & structure, core):
        return _grow(poly, dilate)  # the glyphs run into the picture: no telling them apart
    background = _near(crop, bg, 12.0)  # type: ignore[arg-type]
    strokes |= _extras(ink, structure, background, poly, union, size)
    reach = max(dilate + HALO, round(GLOW * size))
    halo = _halo(strokes, poly, background, structure & ~core, dilate, reach)
    return np.asarray(_grow(strokes, dilate) | halo)


def _tangled(structure: np.ndarray, core: np.ndarray) -> bool:
    """Glyphs joined to art of their own colour: the structure (inside the polygon) that
    reaches the middle of the line has much of itself outside the middle, where only the
    middle would be erased and the rest of the glyphs would stay."""
    n, labels = cv2.connectedComponents(structure.astype(np.uint8), connectivity=8)
    if n < 2:
        return False
    joined = np.zeros(n, bool)
    joined[labels[structure & core]] = True
    joined[0] = False
    part = joined[labels]
    return int((part & ~core).sum()) > TANGLED * max(1, int((part & core).sum()))


def _halo(
    strokes: np.ndarray,
    poly: np.ndarray,
    background: np.ndarray,
    keep: np.ndarray,
    dilate: int,
    reach: int,
) -> np.ndarray:
    """Off-background pixels around the strokes: anti-aliasing, compression ringing, a glow.

    On a flat background all of it that touches the strokes goes, up to ``reach`` px out of
    the polygon (a glow); on a busy one (most of the polygon off the background colour)
    only a few pixels past the grown strokes.
    """
    off = poly & ~background & ~_grow(keep, 1)
    if off.sum() > BUSY * poly.sum():
        return np.asarray(_grow(strokes, dilate + HALO) & off)
    off = _grow(poly, reach) & ~background & ~_grow(keep, 1)
    count, labels = cv2.connectedComponents(off.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[off & _grow(strokes, 1)])
    return np.isin(labels, touching[touching > 0])


def stroke_mask(page: Page, dilate: int) -> np.ndarray:
    """uint8 HxW, 255 on the strokes of translatable blocks (see the module docstring)."""
    marked = np.zeros((page.height, page.width), bool)
    for block in page.blocks:
        if block.translate:
            block_strokes(page.image, block, dilate, marked)
    return np.where(marked, 255, 0).astype(np.uint8)


def mask(pages: list[Page], options: MaskOptions) -> list[Page]:
    """Fill ``page.mask`` for every page (needs ``page.blocks`` from the ocr stage)."""
    return [replace(page, mask=stroke_mask(page, options.dilate)) for page in pages]


@dataclass(frozen=True)
class Mask:
    """The mask stage as a callable ``list[Page] -> list[Page]``."""

    options: MaskOptions = MaskOptions()

    def __call__(self, pages: list[Page]) -> list[Page]:
        return mask(pages, self.options)

    def steps(self) -> tuple[Step, ...]:
        """Host work on one page and its lines: a worker step (no model)."""
        return (Step(self, device=False),)
