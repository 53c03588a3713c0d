"""Sound effects and title art: large lettering drawn over the artwork, outside balloons.

Such lettering is part of the drawing; erasing it leaves a smear over the art and the
translation rarely fits its shape, so by default (``--sfx keep``) it is left as drawn and
recorded with ``translate: false`` and a note. A block counts as one when both hold:

- **large**: its glyphs are at least :data:`SIZE_RATIO` times the median glyph size of the
  page's other blocks and at least :data:`MIN_PAGE_SHARE` of the page's height (with no
  other block on the page, the page-height rule alone);
- **over artwork**: the ring of pixels around its box (half a glyph wide) is not one flat
  colour: under :data:`FLAT_SHARE` of it lies within :data:`FLAT_TOL` of the ring's median
  colour. Speech balloons, caption boxes and flat page backgrounds fail this test.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imgtrans.ocr.blocks import glyph_size
from imgtrans.page import TextBlock

SIZE_RATIO = 1.5
MIN_PAGE_SHARE = 0.025
FLAT_SHARE = 0.5
FLAT_TOL = 24
NOTE = "sound effect or title art (large lettering over artwork): kept as drawn"


def flat_ring_share(image: np.ndarray, block: TextBlock) -> float:
    """Share of the ring around the block's box within ``FLAT_TOL`` of the ring's median."""
    h, w = image.shape[:2]
    box = block.bbox.grow(0, w, h)
    win = box.grow(max(4, glyph_size(block) // 2), w, h)
    ring = np.ones((win.height, win.width), bool)
    ring[box.y0 - win.y0 : box.y1 - win.y0, box.x0 - win.x0 : box.x1 - win.x0] = False
    pixels = image[win.y0 : win.y1, win.x0 : win.x1][ring].astype(np.int16)
    if len(pixels) == 0:
        return 1.0
    colour = np.median(pixels, axis=0)
    return float((np.abs(pixels - colour).max(axis=1) <= FLAT_TOL).mean())


def is_sfx(block: TextBlock, others: list[TextBlock], image: np.ndarray) -> bool:
    """True when ``block`` is large lettering over artwork (see the module docstring)."""
    size = glyph_size(block)
    if size < MIN_PAGE_SHARE * image.shape[0]:
        return False
    sizes = [glyph_size(b) for b in others]
    if sizes and size < SIZE_RATIO * float(np.median(sizes)):
        return False
    return flat_ring_share(image, block) < FLAT_SHARE


def keep_sfx(blocks: list[TextBlock], image: np.ndarray) -> list[TextBlock]:
    """``blocks`` with sound effects and title art marked not to translate (kept as drawn).

    ``image``: the page, RGB uint8 HxWx3.
    """
    translatable = [b for b in blocks if b.translate]
    out = []
    for block in blocks:
        others = [b for b in translatable if b is not block]
        if block.translate and is_sfx(block, others, image):
            block = replace(block, translate=False, note=NOTE)
        out.append(block)
    return out
