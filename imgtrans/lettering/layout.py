"""Fit text into an area: the largest font size whose wrapped lines fit, measured with the
real fonts, lines balanced, horizontal rows or vertical columns (right to left).

For a given size, each line (or column) gets a slot: the band of the area it would occupy
when the block of lines is centred in the area, and the widest run of area pixels across
that whole band. The text is wrapped greedily into the slots, then the slots are narrowed
as far as the same number of lines still holds the text, so the last line is no stub. The
size is found by binary search; :func:`draw_masks` then proves that no glyph pixel falls
outside the area (a size that would spill is rejected, never clipped).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from imgtrans.lettering.balloon import Area
from imgtrans.lettering.fonts import FontChain, pil_font
from imgtrans.lettering.linebreak import Atom, join, split_words, wrap
from imgtrans.page import Direction

LINE_PITCH = 1.2  # line (or column) advance in font sizes
_VERT = ["vert", "vrt2"]
MEMO_LIMIT = 2_000  # strings remembered per font chain, size and direction (memory stays flat)


@dataclass(frozen=True)
class Placed:
    """One line at its anchor in area-window coordinates.

    Horizontal: ``x`` is the left end of the advance, ``y`` the baseline. Vertical: ``x``
    is the column's centre, ``y`` its top.
    """

    text: str
    x: float
    y: float


@dataclass(frozen=True)
class Layout:
    size: int
    stroke: int
    direction: Direction
    placed: tuple[Placed, ...]
    split_words: tuple[str, ...] = ()  # words wider than a line, split across lines

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.placed)


@dataclass(frozen=True)
class Spec:
    """What to fit: atoms of the text, its fonts and how to place it."""

    items: tuple[Atom, ...]
    chain: FontChain
    direction: Direction = "horizontal"
    align: str = "center"  # "left", "center", "right" (horizontal only)
    stroke_ratio: float = 0.0  # outline width as a fraction of the size (0: no outline)
    split: bool = True  # an atom wider than a line may be split into its parts


def stroke_width(size: int, ratio: float) -> int:
    return 0 if ratio <= 0 else max(1, round(size * ratio))


class _Measure:
    """Advance of a string at one size along the writing direction, memoised per font, size
    and direction across blocks and pages (the fit asks for the same words at every size)."""

    def __init__(self, chain: FontChain, size: int, direction: Direction) -> None:
        self.chain, self.size, self.vertical = chain, size, direction == "vertical"
        self.cache: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        hit = self.cache.get(text)
        if hit is None:
            hit = sum(self.run(i, t) for i, t in self.chain.runs(text))
            if len(self.cache) >= MEMO_LIMIT:  # bounded: a worker letters pages for hours
                self.cache.clear()
            self.cache[text] = hit
        return hit

    def run(self, index: int, text: str) -> float:
        spec = self.chain.specs[index]
        return _advance(spec.path, spec.index, self.size, self.vertical, text)


@functools.lru_cache(maxsize=128)
def _measure(chain: FontChain, size: int, direction: Direction) -> _Measure:
    """One :class:`_Measure` per chain, size and direction, its memo kept between blocks."""
    return _Measure(chain, size, direction)


@functools.lru_cache(maxsize=65536)
def _advance(path: Path, face: int, size: int, vertical: bool, text: str) -> float:
    font = pil_font(path, face, size)
    if vertical:
        return float(font.getlength(text, direction="ttb", features=_VERT))
    return float(font.getlength(text))


def _slot(area: Area, lo: int, hi: int, centre: float, vertical: bool) -> tuple[int, int]:
    """Widest run of area pixels (start, end) across the whole band ``[lo, hi)``.

    Horizontal: the band is rows, the run horizontal; vertical: columns and a vertical run.
    The run holding ``centre`` wins over a wider one elsewhere, then the nearest run within
    a line's thickness; (0, 0) when there is none.
    """
    key = (lo, hi, centre, vertical)
    hit = area.slot_memo.get(key)
    if hit is None:
        hit = area.slot_memo[key] = _find_slot(area, lo, hi, centre, vertical)
    return hit


def _find_slot(area: Area, lo: int, hi: int, centre: float, vertical: bool) -> tuple[int, int]:
    holes = area.holes_across if vertical else area.holes_down
    if lo < 0 or hi >= holes.shape[0] or hi <= lo:
        return (0, 0)
    ok = holes[hi] == holes[lo]
    padded = np.concatenate(([False], ok, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = list(zip(edges[::2], edges[1::2], strict=True))
    if not runs:
        return (0, 0)

    # The run holding the centre, else the nearest one (the widest of equally near ones)
    # within a line's thickness of it: lines of a block stack, never jump to another part
    # of an area (past a balloon's outline or a panel's frame, across art).
    def away(run: tuple[int, int]) -> float:
        return max(run[0] - centre, centre - run[1] + 1, 0)

    a, b = min(runs, key=lambda r: (away(r), r[0] - r[1]))
    if away((a, b)) > hi - lo:
        return (0, 0)
    return (int(a), int(b))


def _slots(area: Area, n: int, size: int, spec: Spec) -> list[tuple[int, int, int]]:
    """``(band start, run start, run end)`` of each of ``n`` lines at ``size``, in reading
    order, for a block of lines centred in the area."""
    vertical = spec.direction == "vertical"
    pitch = math.ceil(size * LINE_PITCH)
    spans = area.spans
    if spans is None:
        return [(0, 0, 0)] * n
    span_x, span_y, median_x, median_y = spans
    # Lines stack across x for columns, across y for rows.
    centre, centre_along = (span_x, median_y) if vertical else (span_y, median_x)
    start = centre - n * pitch / 2
    out = []
    for i in range(n):
        k = n - 1 - i if vertical else i  # columns run right to left
        lo = math.floor(start + k * pitch)
        a, b = _slot(area, lo, lo + pitch, centre_along, vertical)
        out.append((lo, a, b))
    return out


def _inset(size: int, spec: Spec) -> int:
    return 2 * stroke_width(size, spec.stroke_ratio) + 1


def _wrap_in(
    slots: list[tuple[int, int, int]], size: int, spec: Spec, measure: _Measure
) -> list[str] | None:
    widths = [max(0.0, float(b - a - _inset(size, spec))) for _, a, b in slots]
    lines = wrap(spec.items, widths, measure, spec.split)
    if lines is None:
        return None
    return _balance(spec, widths, len(lines), measure) or lines


def _balance(
    spec: Spec, widths: list[float], n: int, measure: Callable[[str], float]
) -> list[str] | None:
    """The same text in ``n`` lines at the narrowest uniformly scaled widths."""
    if n < 2:
        return None
    lo, hi, best = 0.4, 1.0, None
    for _ in range(7):
        mid = (lo + hi) / 2
        scaled = [w * mid for w in widths[:n]]
        lines = wrap(spec.items, scaled, measure, spec.split, max(widths[:n]))
        if lines is not None and len(lines) == n:
            best, hi = lines, mid
        else:
            lo = mid
    return best


def _fit_at(
    area: Area, size: int, spec: Spec
) -> tuple[list[str], list[tuple[int, int, int]]] | None:
    """Lines (and their slots) holding the text at ``size`` in the fewest lines, or None."""
    pitch = math.ceil(size * LINE_PITCH)
    depth = area.mask.shape[1] if spec.direction == "vertical" else area.mask.shape[0]
    measure = _measure(spec.chain, size, spec.direction)
    for n in range(_fewest_lines(area, spec, measure), depth // pitch + 1):
        slots = _slots(area, n, size, spec)
        lines = _wrap_in(slots, size, spec, measure)
        if lines is None:
            continue
        if len(lines) < n:  # fewer lines than slots: re-centre them when they still fit
            fewer = _slots(area, len(lines), size, spec)
            inset = _inset(size, spec)
            fits = all(
                measure(t) <= b - a - inset for t, (_, a, b) in zip(lines, fewer, strict=True)
            )
            slots = fewer if fits else slots[: len(lines)]
        return lines, slots
    return None


def _fewest_lines(area: Area, spec: Spec, measure: _Measure) -> int:
    """A lower bound on the lines the text needs: n lines no longer than the area is long
    hold at most n lengths plus the n - 1 spaces dropped at the breaks (10 % of slack for
    kerning across words), so fewer cannot hold it."""
    along = area.extent[1] if spec.direction == "vertical" else area.extent[0]
    if along <= 0:
        return 1
    total = measure(join(spec.items))
    space = measure(" ")
    return max(1, math.floor(0.9 * (total + space) / (along + space)))


def _place(
    area: Area, lines: list[str], slots: list[tuple[int, int, int]], size: int, spec: Spec
) -> Layout:
    measure = _measure(spec.chain, size, spec.direction)
    pitch = math.ceil(size * LINE_PITCH)
    half = _inset(size, spec) / 2
    placed = []
    if spec.direction == "vertical":
        for text, (lo, a, b) in zip(lines, slots, strict=True):
            length = measure(text)
            top = a + (b - a - length) / 2 if area.balloon else a + half
            placed.append(Placed(text, lo + pitch / 2, top))
        return Layout(size, stroke_width(size, spec.stroke_ratio), "vertical", tuple(placed))
    ascent, descent = spec.chain.font(0, size).getmetrics()
    align = "center" if area.balloon else spec.align
    for text, (lo, a, b) in zip(lines, slots, strict=True):
        width = measure(text)
        if align == "left":
            x = a + half
        elif align == "right":
            x = b - half - width
        else:
            x = a + (b - a - width) / 2
        placed.append(Placed(text, x, lo + pitch / 2 + (ascent - descent) / 2))
    return Layout(size, stroke_width(size, spec.stroke_ratio), "horizontal", tuple(placed))


def draw_masks(
    layout: Layout, shape: tuple[int, int], chain: FontChain
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage masks (uint8 ``h x w`` 0..255) of the glyphs and of glyphs plus outline."""
    fill = Image.new("L", (shape[1], shape[0]), 0)
    full = Image.new("L", (shape[1], shape[0]), 0)
    vertical = layout.direction == "vertical"
    measure = _measure(chain, layout.size, layout.direction)
    for p in layout.placed:
        pos = p.y if vertical else p.x
        for index, text in chain.runs(p.text):
            font = chain.font(index, layout.size)
            xy = (p.x, pos) if vertical else (pos, p.y)
            kw: dict[str, object] = (
                {"anchor": "mt", "direction": "ttb", "features": _VERT}
                if vertical
                else {"anchor": "ls"}
            )
            ImageDraw.Draw(fill).text(xy, text, fill=255, font=font, **kw)  # type: ignore[arg-type]
            ImageDraw.Draw(full).text(
                xy,
                text,
                fill=255,
                font=font,
                stroke_width=layout.stroke,
                stroke_fill=255,
                **kw,  # type: ignore[arg-type]
            )
            pos += measure.run(index, text)
    return np.asarray(fill), np.asarray(full)


def _largest(area: Area, spec: Spec, min_size: int, max_size: int) -> int | None:
    """Binary search for the largest size at which the text wraps into the area."""
    lo, hi, best = min_size, max_size, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if _fit_at(area, mid, spec) is not None:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def fit(
    area: Area, spec: Spec, min_size: int, max_size: int
) -> tuple[Layout, np.ndarray, np.ndarray] | None:
    """The largest layout in ``[min_size, max_size]`` whose pixels all lie in the area.

    Shrink before breaking: words (Korean eojeol, Latin words; budoux phrases for Japanese
    and Chinese) are kept whole at every size down to ``min_size``. Only when that fails
    may a word wider than every line at that size be split (``spec.split``), Korean between
    syllables, Latin with a hyphen; ``Layout.split_words`` names them. Returns the layout and
    its masks (see :func:`draw_masks`), or None when even ``min_size`` does not fit.
    """
    if not spec.items or max_size < min_size or not area.mask.any():
        return None
    found = _fit_spec(area, replace(spec, split=False), min_size, max_size)
    if found is not None or not spec.split:
        return found
    # Only a word that no line holds whole at the minimum size may be split, at any size.
    measure = _measure(spec.chain, min_size, spec.direction)
    widest = _widest_line(area, min_size, spec.direction) - _inset(min_size, spec)
    items = tuple(replace(a, breakable=measure(a.text) > widest) for a in spec.items)
    if not any(a.breakable for a in items):
        return None
    return _fit_spec(area, replace(spec, items=items), min_size, max_size)


def _fit_spec(
    area: Area, spec: Spec, min_size: int, max_size: int
) -> tuple[Layout, np.ndarray, np.ndarray] | None:
    size = _largest(area, spec, min_size, max_size)
    if size is None:
        return None
    return _drawn_inside(area, spec, _least_ragged(area, spec, size, min_size), min_size)


def _widest_line(area: Area, size: int, direction: Direction) -> int:
    """The longest run of area pixels across any band of one line pitch at ``size``."""
    return _widest_run(area, size, direction)[0]


def widest_line_centre(area: Area, size: int, direction: Direction) -> tuple[float, float]:
    """Page point at the middle of the longest line of one pitch at ``size`` the area holds
    (where a text too wide for the area's middle may still fit)."""
    _, lo, a, b = _widest_run(area, size, direction)
    band = lo + math.ceil(size * LINE_PITCH) / 2
    if direction == "vertical":
        return (area.x0 + band, area.y0 + (a + b) / 2)
    return (area.x0 + (a + b) / 2, area.y0 + band)


def _widest_run(area: Area, size: int, direction: Direction) -> tuple[int, int, int, int]:
    """(length, band start, run start, run end) of the longest run of area pixels across
    any band of one line pitch at ``size``; all 0 when there is none."""
    vertical = direction == "vertical"
    holes = area.holes_across if vertical else area.holes_down
    pitch = math.ceil(size * LINE_PITCH)
    best = (0, 0, 0, 0)
    for lo in range(0, holes.shape[0] - pitch, max(1, pitch // 4)):
        ok = np.concatenate(([False], holes[lo + pitch] == holes[lo], [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(ok))
        if len(edges):
            lengths = edges[1::2] - edges[::2]
            k = int(lengths.argmax())
            if int(lengths[k]) > best[0]:
                best = (int(lengths[k]), lo, int(edges[2 * k]), int(edges[2 * k + 1]))
    return best


def _drawn_inside(
    area: Area, spec: Spec, size: int, min_size: int
) -> tuple[Layout, np.ndarray, np.ndarray] | None:
    """From ``size`` down, the first layout whose drawn pixels (outline included) all lie in
    the area: fonts draw a little past their advances, so the wrap alone cannot promise it."""
    while size >= min_size:
        found = _fit_at(area, size, spec)
        if found is not None:
            layout = _place(area, found[0], found[1], size, spec)
            layout = replace(layout, split_words=split_words(spec.items, layout.lines))
            fill, full = draw_masks(layout, area.mask.shape, spec.chain)
            if not (full.astype(bool) & ~area.mask).any():
                return layout, fill, full
        size = min(size - 1, int(size * 0.95))
    return None


STUB = 0.5  # a line filling less than this share of its slot is a stub
RAGGED_GIVE = 0.9  # size that may be given up to avoid a stub line


def _least_ragged(area: Area, spec: Spec, size: int, min_size: int) -> int:
    """``size``, or a slightly smaller one at which no line is a stub (a lone short word
    on a wide line), when there is one within ``RAGGED_GIVE``."""
    floor = max(min_size, math.ceil(size * RAGGED_GIVE))
    for s in range(size, floor - 1, -1):
        found = _fit_at(area, s, spec)
        if found is None:
            continue
        lines, slots = found
        if len(lines) < 2:
            return s
        measure = _measure(spec.chain, s, spec.direction)
        inset = _inset(s, spec)
        fills = [
            measure(t) / max(1.0, b - a - inset) for t, (_, a, b) in zip(lines, slots, strict=True)
        ]
        if min(fills) >= STUB:
            return s
    return size
