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

from imgtrans.lettering.colour import colours_of, median_rgb
from imgtrans.morphology import CROSS, Box, Grower, disc, enclosed, fill_holes, flagged, grow
from imgtrans.ocr.blocks import glyph_size
from imgtrans.options import MaskOptions
from imgtrans.page import BBox, Page, TextBlock, TextLine
from imgtrans.stages import Step

CORE_DEPTH = 0.5  # structure deeper than this share of the polygon's depth is a glyph
MIN_CONTRAST = 40.0  # text colour this close to the background: strokes cannot be told apart
EXTRA_REACH = 1.5  # marks up to this many glyph sizes around the block go with it
EXTRA_SIZE = 1.3  # ... when no bigger than this many glyph sizes
HALO = 3  # px past the grown strokes where off-background pixels are erased too
GLOW = 0.3  # a glow around lettering on a flat background: up to this many glyph sizes
TANGLED = 0.25  # share of glyph-joined structure outside the line's middle: "can't tell"
BUSY = 0.5  # share of a polygon off its background colour that makes the background busy


def _fill(lines: tuple[TextLine, ...], box: BBox) -> np.ndarray:
    """bool ``box``-sized mask of the ``lines``' polygons (``box`` in page pixels)."""
    mask = np.zeros((box.height, box.width), np.uint8)
    offset = np.array((box.x0, box.y0), np.float32)
    for line in lines:
        pts = np.round(np.asarray(line.polygon, np.float32) - offset).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.view(bool)


def polygon_mask(block: TextBlock, box: BBox) -> np.ndarray:
    """bool ``box``-sized mask of the block's line polygons (``box`` in page pixels)."""
    return _fill(block.lines, box)


def text_mask(page: Page, dilate: int) -> np.ndarray:
    """uint8 HxW, 255 over the polygons of translatable blocks, grown by ``dilate`` pixels."""
    mask = np.zeros((page.height, page.width), np.uint8)
    full = BBox(0, 0, page.width, page.height)
    for block in page.blocks:
        if block.translate:
            mask[polygon_mask(block, full)] = 255
    if dilate > 0 and mask.any():
        mask = np.where(grow(mask > 0, dilate), 255, 0).astype(np.uint8)
    return mask


def _near(crop: np.ndarray, colour: tuple[int, int, int], tol: float) -> np.ndarray:
    """bool: pixels within ``tol`` of ``colour`` in every channel."""
    c = np.array(colour, np.float64)
    lo, hi = np.clip(np.ceil(c - tol), 0, 255), np.clip(np.floor(c + tol), 0, 255)
    return np.asarray(cv2.inRange(crop, lo, hi) > 0)


def _structure(ink: np.ndarray, poly: np.ndarray, reach: int, size: int) -> np.ndarray:
    """Ink components that run out of the polygons by more than ``reach`` px and are bigger
    than a glyph (a balloon's outline, the drawing; a glyph poking out is not structure)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    out = np.zeros_like(ink)
    big = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) > EXTRA_SIZE * size
    big[0] = False
    if not big.any():
        return out
    flag = np.zeros(n, bool)
    flag[labels[ink & ~grow(poly, reach)]] = True
    for i in np.flatnonzero(flag & big):
        x, y, w, h = (int(v) for v in stats[i, :4])
        out[y : y + h, x : x + w] |= labels[y : y + h, x : x + w] == i
    return out


def _home(background: np.ndarray, poly: np.ndarray) -> np.ndarray | None:
    """The background region the block sits on: the flat-colour component under its lines."""
    count, labels = cv2.connectedComponents(background.view(np.uint8), connectivity=4)
    under = labels[poly & background]
    if count < 2 or under.size == 0:
        return None
    return np.asarray(labels == np.bincount(under[under > 0], minlength=count).argmax())


def _extras(
    ink: np.ndarray,
    structure: np.ndarray,
    background: np.ndarray,
    grower: Grower,
    union: np.ndarray,
    size: int,
) -> np.ndarray:
    """Small marks of the text colour on the block's own background, near its polygons
    (``grower``: the line's polygon): glyph-sized, and ringed by that background."""
    candidates = ink & ~structure & ~union
    n, comp, stats, _ = cv2.connectedComponentsWithStats(candidates.view(np.uint8), connectivity=8)
    out = np.zeros_like(ink)
    # Glyph-sized and wholly in the zone (no pixel of it out of reach of the polygon).
    fits = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= (
        EXTRA_SIZE * size
    )
    fits[0] = False
    if not fits.any():
        return out
    zone = grower.grow(max(2, round(EXTRA_REACH * size)))
    fits[comp[candidates & ~zone]] = False
    home = _home(background, grower.mask) if fits.any() else None
    if home is None:
        return out
    # Only a mark next to a hole of the candidates can have holes of its own to fill.
    holes = enclosed(candidates)
    holed = np.zeros(n, bool)
    if holes.any():
        holed[comp[cv2.dilate(holes.view(np.uint8), CROSS).view(bool) & candidates]] = True
    ringed = home | ink
    for i in (int(v) for v in np.flatnonzero(fits)):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if _ringed(comp, i, (x, y, w, h), ringed, bool(holed[i])):
            out[y : y + h, x : x + w] |= comp[y : y + h, x : x + w] == i
    return out


def _ringed(
    comp: np.ndarray, i: int, box: tuple[int, int, int, int], ringed: np.ndarray, holed: bool
) -> bool:
    """Mark ``i`` of ``comp``: over 90 % of the 2-px ring around it (holes filled) is
    ``ringed`` (its background, or more ink)."""
    x, y, w, h = box
    y0, x0 = max(0, y - 2), max(0, x - 2)
    y1, x1 = min(comp.shape[0], y + h + 2), min(comp.shape[1], x + w + 2)
    if holed:
        padded = fill_holes(np.pad(comp[y : y + h, x : x + w] == i, 2))
        solid = padded[2 - (y - y0) : 2 + h + (y1 - y - h), 2 - (x - x0) : 2 + w + (x1 - x - w)]
    else:
        solid = comp[y0:y1, x0:x1] == i
    ring = cv2.dilate(solid.view(np.uint8), disc(2)).view(bool) & ~solid
    total = int(np.count_nonzero(ring))
    return total > 0 and int(np.count_nonzero(ring & ringed[y0:y1, x0:x1])) / total > 0.9


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
        poly = _fill((line,), win)
        if poly.any():
            crop = image[win.y0 : win.y1, win.x0 : win.x1]
            union = _fill(block.lines, win)
            out[win.y0 : win.y1, win.x0 : win.x1] |= _line_strokes(crop, poly, union, size, dilate)


def _around(mask: np.ndarray, margin: int) -> Box:
    """The bounding box of ``mask`` (not empty) grown by ``margin`` px, within ``mask``."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (
        slice(max(0, int(rows[0]) - margin), int(rows[-1]) + 1 + margin),
        slice(max(0, int(cols[0]) - margin), int(cols[-1]) + 1 + margin),
    )


def _line_strokes(
    crop: np.ndarray, poly: np.ndarray, union: np.ndarray, size: int, dilate: int
) -> np.ndarray:
    """Strokes of one line (polygon ``poly``; ``union``: all the block's polygons)."""
    # Colours and depth need only the polygon (and a pixel around it).
    tight = _around(poly, 1)
    sub, sub_poly = crop[tight], poly[tight]
    # The glyphs are a minority of their polygon (which may poke out of a snug balloon).
    pixels = sub[sub_poly]
    r, g, b = (int(v) for v in median_rgb(pixels))
    bg = (r, g, b)
    colours = colours_of(pixels, sub_poly, bg)
    contrast = float(np.abs(np.array(colours.text) - np.array(bg)).max())
    if not colours.measured or contrast < MIN_CONTRAST:
        return grow(poly, dilate)
    tol = max(24.0, 0.5 * contrast)
    ink = _near(crop, colours.text, tol)
    if colours.outline is not None:
        ink = ink | _near(crop, colours.outline, tol)
    structure = _structure(ink, union, dilate + 1, size)
    depth = cv2.distanceTransform(sub_poly.view(np.uint8), cv2.DIST_L2, 3)
    core = np.zeros_like(poly)
    core[tight] = depth > CORE_DEPTH * float(depth.max())
    inside = ink[tight] & sub_poly
    if _tangled(inside & structure[tight], core[tight]):
        return grow(poly, dilate)  # the glyphs run into the picture: no telling them apart
    strokes = np.zeros_like(poly)
    strokes[tight] = inside & (~structure[tight] | core[tight])
    background = _near(crop, bg, 12.0)
    grower = Grower(poly)
    strokes |= _extras(ink, structure, background, grower, union, size)
    reach = max(dilate + HALO, round(GLOW * size))
    halo = _halo(strokes, grower, background, structure & ~core, dilate, reach)
    return np.asarray(grow(strokes, dilate) | halo)


def _tangled(structure: np.ndarray, core: np.ndarray) -> bool:
    """Glyphs joined to art of their own colour: the structure (inside the polygon) that
    reaches the middle of the line has much of itself outside the middle, where only the
    middle would be erased and the rest of the glyphs would stay."""
    if not structure.any():
        return False
    n, labels = cv2.connectedComponents(structure.view(np.uint8), connectivity=8)
    part = flagged(labels, n, labels[structure & core])
    return int((part & ~core).sum()) > TANGLED * max(1, int((part & core).sum()))


def _halo(
    strokes: np.ndarray,
    grower: Grower,
    background: np.ndarray,
    keep: np.ndarray,
    dilate: int,
    reach: int,
) -> np.ndarray:
    """Off-background pixels around the strokes: anti-aliasing, compression ringing, a glow.

    On a flat background all of it that touches the strokes goes, up to ``reach`` px out of
    the polygon (``grower``) (a glow); on a busy one (most of the polygon off the background
    colour) only a few pixels past the grown strokes.
    """
    out = np.zeros_like(strokes)
    # All of it lies in the polygon's box grown by ``reach``; one more pixel holds what
    # touches it (``reach`` >= dilate + HALO).
    box = _around(grower.mask, reach + 1)
    poly = grower.mask[box]
    kept = ~background[box]
    if keep[box].any():
        kept &= ~grow(keep[box], 1)
    off = poly & kept
    if np.count_nonzero(off) > BUSY * np.count_nonzero(poly):
        out[box] = grow(strokes[box], dilate + HALO) & off
        return out
    off = grower.grow(reach, box) & kept
    count, labels = cv2.connectedComponents(off.view(np.uint8), connectivity=8)
    out[box] = flagged(labels, count, labels[off & grow(strokes[box], 1)])
    return out


def stroke_mask(page: Page, dilate: int) -> np.ndarray:
    """uint8 HxW, 255 on the strokes of translatable blocks (see the module docstring)."""
    marked = np.zeros((page.height, page.width), bool)
    for block in page.blocks:
        if block.translate:
            block_strokes(page.image, block, dilate, marked)
    return marked.view(np.uint8) * np.uint8(255)


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
