"""Render stage: letter each block's translation into the erased page.

For every block: measure its style (text colour from the original strokes, background
from the ring around it, outline), find the area it may fill (the balloon around it or its
box grown a little), fit the translation with the real fonts (largest size, words kept
whole, balanced lines, vertical columns for Japanese/Chinese when the source was vertical)
and draw it. Words are never split while a smaller size down to the legible minimum
(:func:`~imgtrans.lettering.overflow.legible_minimum`) holds them whole. A translation that
does not fit even then is lettered in the area grown past the balloon, on a backing of the
background colour (``overflow``); when even that fails the source is put back (``kept``).
A block is never erased and left empty, never clipped, never drawn outside its area.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from imgtrans.lettering import script_of
from imgtrans.lettering.balloon import Area, find_area, separate
from imgtrans.lettering.colour import choose, measure_colours, ring_colour
from imgtrans.lettering.fonts import FontChain, build_chain
from imgtrans.lettering.layout import Layout, Spec, fit, widest_line_centre
from imgtrans.lettering.linebreak import atoms
from imgtrans.lettering.overflow import (
    GROWTH_STEPS,
    backing_box,
    grown_areas,
    legible_minimum,
    owner_map,
    paint_backing,
    restore,
)
from imgtrans.ocr.blocks import glyph_size
from imgtrans.options import RenderOptions
from imgtrans.page import RGB, BBox, Direction, Page, RenderResult, TextBlock, TextStyle

log = logging.getLogger(__name__)

OUTLINE_RATIO = 0.1  # outline width as a fraction of the font size
SIZE_CAP = 1.25  # the translation is set at most this much larger than the source glyphs


def font_chain(options: RenderOptions, target_lang: str) -> FontChain:
    """The font chain for a run; raises MissingFontError when it cannot draw the target script.

    Called once when a run starts so that a missing font fails fast.
    """
    return _chain(tuple(Path(p) for p in options.fonts), target_lang)


@functools.lru_cache(maxsize=8)
def _chain(fonts: tuple[Path, ...], target_lang: str) -> FontChain:
    return build_chain(fonts, target_lang)


def render(pages: list[Page], options: RenderOptions, target_lang: str) -> list[Page]:
    """Letter every page; returns pages with ``output`` and each block's style and render.

    Needs ``page.clean`` (RGB uint8, text erased). ``page.image`` is the original, used to
    measure text colours (it may equal ``clean`` when re-lettering from sidecars: a block
    that already has a ``style`` keeps it). ``page.mask`` (uint8 0/255) marks the source
    text; without it the line polygons are used.

    Raises ValueError when a page has no ``clean`` image, and MissingFontError when a
    translation holds a character that no font (user, shipped, fontconfig) can draw.
    """
    chain = font_chain(options, target_lang)
    return [_render_page(page, options, target_lang, chain) for page in pages]


@dataclass(frozen=True)
class Render:
    """The render stage as a picklable callable ``list[Page] -> list[Page]``."""

    options: RenderOptions
    target_lang: str

    def __call__(self, pages: list[Page]) -> list[Page]:
        return render(pages, self.options, self.target_lang)


@dataclass
class _Work:
    """One page being lettered: the output drawn into in place, and what the fallbacks
    for a translation that does not fit need (built only when one is needed)."""

    page: Page
    out: np.ndarray
    text_mask: np.ndarray
    areas: list[Area]
    alone: list[BBox]
    _owners: np.ndarray | None = None

    def owners(self) -> np.ndarray:
        if self._owners is None:
            self._owners = owner_map(self.text_mask.shape, self.areas, self.alone)
        return self._owners


def _render_page(page: Page, options: RenderOptions, lang: str, chain: FontChain) -> Page:
    clean = page.clean
    if clean is None:
        raise ValueError(f"render needs page.clean: run the inpaint stage first ({page.rel_path})")
    if clean.shape != page.image.shape or clean.dtype != np.uint8:
        raise ValueError(
            f"page.clean must be RGB uint8 shaped like page.image, got {clean.dtype} "
            f"{clean.shape} vs {page.image.shape} ({page.rel_path})"
        )
    text_mask = _text_mask(page)
    blocks = [_prepare(b, page, text_mask, options, lang) for b in page.blocks]
    todo = [i for i, b in enumerate(blocks) if b.render is None]
    alone = _left_alone(blocks, clean)
    areas = separate(
        [_area(clean, blocks[i], alone) for i in todo],
        [_box(blocks[i], clean) for i in todo],
    )
    work = _Work(page, clean.copy(), text_mask, areas, alone)
    _put_back_untranslated(work.out, page, blocks)
    for k, i in enumerate(todo):
        blocks[i] = _letter(blocks[i], k, work, options, lang, chain)
    for status in ("overflow", "kept"):
        n = sum(1 for b in blocks if b.render is not None and b.render.status == status)
        if n:
            log.info("%s: %d block(s) %s", page.rel_path, n, _SAID[status])
    return replace(page, output=work.out, blocks=tuple(blocks))


_SAID = {
    "overflow": "did not fit their area at the minimum size and were lettered past it",
    "kept": "could not be lettered legibly and were left as they were",
}


def _stays(block: TextBlock) -> bool:
    """The block's source is left as drawn: not translated (noise, a page number, a sound
    effect), the translator gave no translation for it, or gave back the source text."""
    return block.render is not None and block.render.status in ("skipped", "untranslated")


def _left_alone(blocks: list[TextBlock], image: np.ndarray) -> list[BBox]:
    """Boxes (grown a little) of the text left as it is, which lettering keeps clear of.

    Not those that overlap a block being lettered: a mark inside its lines or a misread
    over its balloon (``っ`` read as a page number "7") sits where its lettering must go.
    """
    boxes = [b.bbox for b in blocks if not _stays(b)]
    out = []
    for other in blocks:
        if not _stays(other):
            continue
        box = other.bbox
        if any(
            min(box.x1, b.x1) > max(box.x0, b.x0) and min(box.y1, b.y1) > max(box.y0, b.y0)
            for b in boxes
        ):
            continue
        margin = max(2, round(glyph_size(other) * 0.3))
        out.append(box.grow(margin, image.shape[1], image.shape[0]))
    return out


def _put_back_untranslated(out: np.ndarray, page: Page, blocks: list[TextBlock]) -> None:
    """The source pixels of every block left as drawn (no translation, or the source text
    handed back) put back where erasing took them: erasing runs beside translation, before
    it is known which blocks get none, and such a block is never left erased and empty.
    Not inside the box of a block being lettered, whose own erased strokes stay erased."""
    clean = page.clean
    assert clean is not None
    lettered = [b.bbox for b in blocks if b.render is None]
    for block in blocks:
        if not _stays(block):
            continue
        margin = max(4, glyph_size(block) // 2)  # the mask's growth and halo
        box = block.bbox.grow(margin, page.width, page.height)
        sl = (slice(box.y0, box.y1), slice(box.x0, box.x1))
        take = (page.image[sl] != clean[sl]).any(axis=2)
        for other in lettered:
            x0, y0 = max(other.x0, box.x0) - box.x0, max(other.y0, box.y0) - box.y0
            x1, y1 = min(other.x1, box.x1) - box.x0, min(other.y1, box.y1) - box.y0
            if x0 < x1 and y0 < y1:
                take[y0:y1, x0:x1] = False
        out[sl][take] = page.image[sl][take]


def _area(clean: np.ndarray, block: TextBlock, alone: list[BBox]) -> Area:
    """The block's area, less the boxes of text left as it is (not erased)."""
    assert block.style is not None
    area = find_area(clean, _box(block, clean), block.style.font_size)
    h, w = area.mask.shape
    mask = area.mask
    for box in alone:
        x0, y0 = max(box.x0 - area.x0, 0), max(box.y0 - area.y0, 0)
        x1, y1 = min(box.x1 - area.x0, w), min(box.y1 - area.y0, h)
        if x0 < x1 and y0 < y1:
            mask = mask.copy() if mask is area.mask else mask
            mask[y0:y1, x0:x1] = False
    return Area(mask, area.x0, area.y0, area.balloon, area.centre)


def _box(block: TextBlock, image: np.ndarray) -> BBox:
    """The block's box clipped to the image (detector polygons may poke out of it)."""
    return block.bbox.grow(0, image.shape[1], image.shape[0])


def _text_mask(page: Page) -> np.ndarray:
    """bool HxW: source text pixels (the mask stage's mask, else the line polygons)."""
    if page.mask is not None:
        return np.asarray(page.mask) > 0
    mask = np.zeros((page.height, page.width), np.uint8)
    for block in page.blocks:
        for line in block.lines:
            pts = np.round(np.array(line.polygon, np.float64)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def _alignment(block: TextBlock) -> str:
    """Left, right or centre: whichever edge the source lines line up on best."""
    boxes = [ln.bbox for ln in block.lines]
    if block.direction == "vertical" or len(boxes) < 2:
        return "center"
    spread = {
        "left": np.std([b.x0 for b in boxes]),
        "center": np.std([(b.x0 + b.x1) / 2 for b in boxes]),
        "right": np.std([b.x1 for b in boxes]),
    }
    return min(spread, key=lambda k: spread[k])


def measure_style(page: Page, text_mask: np.ndarray, block: TextBlock) -> TextStyle:
    """Colours, outline, source glyph size and alignment of one block."""
    assert page.clean is not None
    size = glyph_size(block)
    box = _box(block, page.image)
    win = box.grow(max(size, 4), page.width, page.height)
    sl = (slice(win.y0, win.y1), slice(win.x0, win.x1))
    in_box = np.zeros((win.height, win.width), bool)
    in_box[box.y0 - win.y0 : box.y1 - win.y0, box.x0 - win.x0 : box.x1 - win.x0] = True
    strokes = text_mask[sl] & in_box
    background = ring_colour(page.clean[sl], in_box, text_mask[sl])
    colours = measure_colours(page.image[sl], strokes, background)
    text, outline = choose(colours)
    return TextStyle(text, background, outline, size, _alignment(block))  # type: ignore[arg-type]


def _direction(block: TextBlock, options: RenderOptions, lang: str) -> Direction:
    """Vertical only for Japanese/Chinese targets: as the source (auto) or as asked."""
    if script_of(lang) not in ("ja", "zh"):
        return "horizontal"
    return block.direction if options.direction == "auto" else options.direction


def _prepare(
    block: TextBlock, page: Page, text_mask: np.ndarray, options: RenderOptions, lang: str
) -> TextBlock:
    """The block with its style; with its render too when there is nothing to letter."""
    if not block.translate:
        return replace(block, render=RenderResult("skipped", direction=block.direction))
    style = block.style if block.style is not None else measure_style(page, text_mask, block)
    direction = _direction(block, options, lang)
    if block.translation is None:
        return replace(block, style=style, render=RenderResult("untranslated", direction=direction))
    if not block.translation.strip():
        return replace(block, style=style, render=RenderResult("ok", direction=direction))
    if _folded(block.translation) == _folded(block.text):
        # A name, a code, a number the translator handed back as it was: the source
        # lettering is better than any redrawing of it.
        same = RenderResult("skipped", direction=direction, reason=SAME_TEXT)
        return replace(block, style=style, render=same)
    return replace(block, style=style, render=None)


SAME_TEXT = "the translation is the source text: left as drawn"


def _folded(text: str) -> str:
    """``text`` compared loosely: Unicode NFKC, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _letter(
    block: TextBlock, k: int, work: _Work, options: RenderOptions, lang: str, chain: FontChain
) -> TextBlock:
    """Fit and draw one block's translation into ``work.out`` (in place); returns the block.

    In its area when it fits at the legible minimum or larger (``ok``); else in the area
    grown past it, on a backing of the background colour (``overflow``); else the source
    is put back (``kept``). A block is never erased and left empty.
    """
    style, text = block.style, block.translation
    assert style is not None and text is not None
    area = work.areas[k]
    direction = _direction(block, options, lang)
    spec = Spec(
        tuple(atoms(text, lang)),
        chain.covering(text),
        direction,
        style.alignment,
        OUTLINE_RATIO if style.outline_color is not None else 0.0,
    )
    page = work.page
    least = legible_minimum(page.height, page.width, options.min_font_size, style.font_size)
    cap = min(options.max_font_size, max(least, round(style.font_size * SIZE_CAP)))
    base = RenderResult("ok", None, (), area.bbox, direction, area.polygon(), area.balloon)
    fitted = fit(area, spec, least, cap)
    if fitted is None and area.mask.any():
        # Lines centred on the area's middle can miss an uneven area (the L left of another
        # block's share of a balloon): centred on the source text instead, or on the
        # area's widest line (a narrow box widening higher up), they may fit.
        for centre in (
            _box(block, work.out).center,
            widest_line_centre(area, least, direction),
        ):
            area = replace(area, centre=centre)
            fitted = fit(area, spec, least, cap)
            if fitted is not None:
                break
    if fitted is not None:
        return replace(block, render=_draw(work.out, area, fitted, style, base))
    return replace(block, render=_fallback(block, k, work, spec, (least, cap), base))


def _fallback(
    block: TextBlock, k: int, work: _Work, spec: Spec, sizes: tuple[int, int], base: RenderResult
) -> RenderResult:
    """A text that its area cannot hold at the legible minimum: the flat background around
    a caption, else an area grown past it on a backing (``overflow``), else ``kept``."""
    style, area, (least, cap) = block.style, work.areas[k], sizes
    assert style is not None
    box = _box(block, work.out)
    step = max(2 * least, round(0.25 * max(box.width, box.height)))
    if not area.balloon:
        flat = (work.out, style.background_color)
        for grown in grown_areas(area, box, step, work.owners(), k, flat):
            fitted = fit(grown, spec, least, cap)
            if fitted is not None:
                why = "area grown onto the flat background around it"
                ok = replace(base, area=grown.bbox, area_polygon=grown.polygon(), reason=why)
                return _draw(work.out, grown, fitted, style, ok)
    # Past the balloon the text covers what is around it: never larger than the source.
    for grown in grown_areas(area, box, step, work.owners(), k):
        fitted = fit(grown, spec, least, max(least, min(cap, style.font_size)))
        if fitted is None:
            continue
        backing = backing_box(fitted[2], grown, max(2, round(fitted[0].size * 0.3)))
        if backing is not None:
            paint_backing(work.out, grown, backing, style.background_color)
        why = f"does not fit its area at {least} px (the legible minimum) or larger"
        over = replace(base, status="overflow", area=grown.bbox, area_polygon=grown.polygon())
        over = replace(over, balloon=False, backing=backing, reason=why + ": lettered past it")
        return _draw(work.out, grown, fitted, style, over)
    page = work.page
    near = box.grow(max(box.width, box.height) // 4 + 1, page.width, page.height)
    assert page.clean is not None
    restore(work.out, page.image, page.clean, near, work.owners(), k)
    why = f"does not fit at {least} px even in an area grown by {GROWTH_STEPS[-1] * step} px"
    return replace(base, status="kept", reason=why + ": source left as it was")


def _draw(
    out: np.ndarray,
    area: Area,
    fitted: tuple[Layout, np.ndarray, np.ndarray],
    style: TextStyle,
    base: RenderResult,
) -> RenderResult:
    layout, fill, full = fitted
    _composite(out, area, fill, full, style.text_color, style.outline_color)
    return replace(
        base,
        font_size=layout.size,
        lines=layout.lines,
        outline_width=layout.stroke,
        split_words=layout.split_words,
    )


def _composite(
    out: np.ndarray, area: Area, fill: np.ndarray, full: np.ndarray, text: RGB, outline: RGB | None
) -> None:
    """Blend outline (glyph+stroke coverage) then text (glyph coverage) into ``out`` in place."""
    ys, xs = np.nonzero(full if outline is not None else fill)
    if not len(ys):
        return
    # Only the glyphs' box: elsewhere the coverage is 0 and the pixels stay as they are.
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    fill, full = fill[y0:y1, x0:x1], full[y0:y1, x0:x1]
    view = out[area.y0 + y0 : area.y0 + y1, area.x0 + x0 : area.x0 + x1]
    acc = view.astype(np.float64)
    if outline is not None:
        a = (full.astype(np.float64) / 255)[..., None]
        acc = acc * (1 - a) + np.array(outline, np.float64) * a
    a = (fill.astype(np.float64) / 255)[..., None]
    acc = acc * (1 - a) + np.array(text, np.float64) * a
    view[...] = np.clip(np.round(acc), 0, 255).astype(np.uint8)
