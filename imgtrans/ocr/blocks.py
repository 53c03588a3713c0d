"""Group lines into blocks, order them for reading, decide the page's source language.

Grouping: adjacent vertical columns of similar width (glyph size) and overlapping height
form one block read right to left; stacked horizontal lines of similar height that overlap
horizontally form one block read top to bottom. Blocks are ordered in manga order
(right to left, top to bottom) when the page is vertical Japanese, else left to right.
"""

from __future__ import annotations

import re
import unicodedata

import cv2
import numpy as np

from imgtrans.page import BBox, Direction, TextBlock, TextLine

KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
INK_LEVEL = 60  # grey levels from the local median that count as drawn ink
GAP_INK = 0.02  # share of ink between two lines that means they are separated
SIMILAR = 1.7  # lines whose glyph sizes differ by more than this factor are not one block
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
SURE = 0.8  # recognition confidence above which a line's script is taken as read
OTHER_COLOUR = 110  # glyph colours this far apart (largest channel difference): two texts


def detect_language(texts: list[str]) -> str | None:
    """Script census of what was read -> ``ja`` (any kana), ``ko``, ``zh``, ``en``, or None."""
    joined = "".join(texts)
    counts = {
        "kana": len(KANA.findall(joined)),
        "han": len(HAN.findall(joined)),
        "hangul": len(HANGUL.findall(joined)),
        "latin": len(LATIN.findall(joined)),
    }
    cjk = counts["kana"] + counts["han"]
    if counts["hangul"] > max(cjk, counts["latin"]):
        return "ko"
    if cjk >= counts["latin"] and cjk > 0:
        # A few kana among Han is Japanese; Chinese text has none.
        return "ja" if counts["kana"] >= max(1, 0.05 * cjk) else "zh"
    if counts["latin"] > 0:
        return "en"
    return None


def is_noise(line: TextLine, min_confidence: float) -> str | None:
    """Why a line should not be translated (kept in the sidecar), or None."""
    text = line.text.strip()
    if not text:
        return "empty"
    if line.confidence < min_confidence:
        return f"low confidence {line.confidence:.2f}"
    meaningful = [c for c in text if unicodedata.category(c)[0] in "LN"]
    if not meaningful:
        return "punctuation only"
    if all(c.isdigit() for c in meaningful) and len(meaningful) <= 4:
        return "number only (page number?)"
    return None


def _stray(line: TextLine, page_script: str | None) -> str | None:
    """A few letters in another script than the page's, read unsurely: a drawing read as
    text (a stick figure as ``ORX`` on a Chinese page), not a word to translate."""
    letters = sum(_letters(line.text).values())
    script = script_family(line.text)
    if page_script is None or script in (None, page_script):
        return None
    if line.confidence < SURE and letters <= 3:
        return f"{letters} {script} letter(s) at low confidence {line.confidence:.2f} on a page in another script (a drawing?)"
    return None


def glyph_size(block: TextBlock) -> int:
    """Source glyph size in pixels: the median line thickness, less the detector's margin."""
    sizes = [ln.bbox.width if ln.direction == "vertical" else ln.bbox.height for ln in block.lines]
    return max(4, round(float(np.median(sizes)) * 0.8)) if sizes else 16


def _single_glyph(line: TextLine, box: BBox) -> bool:
    """A line of one glyph (or two) in a squarish box: it has no direction of its own (the
    recogniser calls a column's first character, detected alone, a horizontal line)."""
    long, short = max(box.width, box.height), min(box.width, box.height)
    return len(line.text.strip()) <= 2 and long <= 1.5 * short


def _pair_direction(a: TextLine, b: TextLine, ba: BBox, bb: BBox) -> Direction | None:
    """The direction two lines share (a single glyph takes the other's), or None."""
    if a.direction == b.direction or _single_glyph(b, bb):
        return a.direction
    return b.direction if _single_glyph(a, ba) else None


def script_family(text: str) -> str | None:
    """``cjk`` (Han, kana), ``hangul`` or ``latin``: the script most of the text's letters
    are in; None for a text with no letters (digits, punctuation)."""
    counts = _letters(text)
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else None


def _letters(text: str) -> dict[str, int]:
    """Letters of ``text`` per script family."""
    return {
        "cjk": len(HAN.findall(text)) + len(KANA.findall(text)),
        "hangul": len(HANGUL.findall(text)),
        "latin": len(LATIN.findall(text)),
    }


def _other_scripts(a: TextLine, b: TextLine) -> bool:
    """Two lines read with confidence in different scripts are two texts, however close: a
    label and its transliteration on a ticket (南丰站 / Nanfeng), a brand name over Chinese
    copy. A misread (low confidence) line does not count."""
    if min(a.confidence, b.confidence) < SURE:
        return False
    fa, fb = script_family(a.text), script_family(b.text)
    return fa is not None and fb is not None and fa != fb


def _close(a: TextLine, b: TextLine, ba: BBox, bb: BBox) -> bool:
    """``ba``, ``bb``: the lines' boxes (computed once per line by the caller)."""
    direction = _pair_direction(a, b, ba, bb)
    if direction is None or _other_scripts(a, b):
        return False
    if direction == "vertical":
        size_a, size_b = ba.width, bb.width
        gap = max(ba.x0, bb.x0) - min(ba.x1, bb.x1)
        overlap = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        span = min(ba.height, bb.height)
    else:
        size_a, size_b = ba.height, bb.height
        gap = max(ba.y0, bb.y0) - min(ba.y1, bb.y1)
        overlap = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        span = min(ba.width, bb.width)
        if _one_row(ba, bb):
            return True
    size = max(size_a, size_b)
    similar = min(size_a, size_b) >= size / SIMILAR
    if direction == "vertical" and _shifted(ba, bb, size):
        return False
    return similar and gap <= 0.9 * size and overlap > 0.2 * span


def _shifted(ba: BBox, bb: BBox, size: int) -> bool:
    """Columns of one balloon start level; a column that starts more than a glyph lower than
    its neighbour and ends lower too is the next balloon, joined to this one."""
    top, bottom = bb.y0 - ba.y0, bb.y1 - ba.y1
    return abs(top) > 1.2 * size and abs(bottom) > 0.4 * size and top * bottom > 0


def _one_row(ba: BBox, bb: BBox) -> bool:
    """Two pieces of one horizontal line (the detector splits widely spaced words)."""
    low, high = sorted((ba.height, bb.height))
    overlap = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
    gap = max(ba.x0, bb.x0) - min(ba.x1, bb.x1)
    return high <= 1.3 * low and overlap > 0.6 * low and 0 <= gap <= 0.8 * high


def group_direction(group: list[TextLine]) -> Direction:
    """The direction of most of a group's lines, not counting single glyphs (which have
    none of their own)."""
    votes = [ln.direction for ln in group if not _single_glyph(ln, ln.bbox)] or [
        ln.direction for ln in group
    ]
    both: tuple[Direction, Direction] = ("vertical", "horizontal")
    return max(both, key=votes.count)


def _reading_order(group: list[TextLine]) -> list[TextLine]:
    """Columns right to left; rows top to bottom, the pieces of one row left to right."""
    if group_direction(group) == "vertical":
        return sorted(group, key=lambda ln: -ln.bbox.center[0])
    rows: list[list[TextLine]] = []
    for line in sorted(group, key=lambda ln: ln.bbox.center[1]):
        if rows and _one_row(rows[-1][-1].bbox, line.bbox):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.bbox.x0)]


def _ink_span(gray: np.ndarray, box: BBox, vertical: bool) -> tuple[int, int]:
    """Extent of a line's glyph ink across its reading direction (x for columns, y for rows).

    The detector's boxes are grown well past the glyphs, so neighbouring lines' boxes overlap;
    the ink tells where the glyphs really are.
    """
    crop = gray[box.y0 : box.y1, box.x0 : box.x1]
    if crop.size == 0:
        return (box.x0, box.x1) if vertical else (box.y0, box.y1)
    ink = np.abs(crop.astype(np.int16) - int(np.median(crop))) > INK_LEVEL
    profile = ink.any(axis=0) if vertical else ink.any(axis=1)
    hits = np.flatnonzero(profile)
    origin = box.x0 if vertical else box.y0
    if hits.size == 0:
        return (origin, origin + int(profile.size))
    return (origin + int(hits[0]), origin + int(hits[-1]) + 1)


def _separated(gray: np.ndarray, a: TextLine, b: TextLine, ba: BBox, bb: BBox) -> bool:
    """True when something is drawn between two lines: a balloon's outline, a panel border.

    Lines of one balloon have only the balloon's background between their glyphs.
    """
    vertical = _pair_direction(a, b, ba, bb) == "vertical"
    sa, sb = _ink_span(gray, ba, vertical), _ink_span(gray, bb, vertical)
    lo, hi = (sa[1], sb[0]) if sa[0] <= sb[0] else (sb[1], sa[0])
    if hi - lo < 3:
        return False
    if vertical:
        y0, y1 = max(ba.y0, bb.y0), min(ba.y1, bb.y1)
        gap = gray[y0:y1, lo + 1 : hi - 1]
    else:
        x0, x1 = max(ba.x0, bb.x0), min(ba.x1, bb.x1)
        gap = gray[lo + 1 : hi - 1, x0:x1]
    if gap.size == 0:
        return False
    ink = np.abs(gap.astype(np.int16) - int(np.median(gap))) > INK_LEVEL
    return float(ink.mean()) > GAP_INK


def ink_colour(image: np.ndarray, box: BBox) -> np.ndarray | None:
    """The colour of a line's glyphs (int RGB): the median of the pixels far from the
    colour of the box's edge (its background); None when too little stands out."""
    crop = image[box.y0 : box.y1, box.x0 : box.x1]
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return None
    edge = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]).astype(np.int16)
    background = np.median(edge, axis=0)
    pixels = crop.reshape(-1, 3).astype(np.int16)
    far = np.abs(pixels - background).max(axis=1) > INK_LEVEL
    if far.sum() < max(12, 0.02 * len(pixels)):
        return None
    colour: np.ndarray = np.median(pixels[far], axis=0)
    return colour


def _other_colours(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Two lines lettered in clearly different colours (an ad's green and red slogans side
    by side) are two texts."""
    return a is not None and b is not None and float(np.abs(a - b).max()) > OTHER_COLOUR


def group_lines(lines: list[TextLine], image: np.ndarray | None = None) -> list[list[TextLine]]:
    """Union-find over neighbouring lines; each group sorted in reading order.

    With the page ``image`` (RGB uint8), lines with a drawn separation between them (the
    outlines of two balloons side by side) or lettered in clearly different colours are
    kept apart.
    """
    parent = list(range(len(lines)))
    gray = None if image is None else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    boxes = [line.bbox for line in lines]
    colours: dict[int, np.ndarray | None] = {}

    def colour(k: int) -> np.ndarray | None:
        if k not in colours:
            colours[k] = None if image is None else ink_colour(image, boxes[k])
        return colours[k]

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b, ba, bb = lines[i], lines[j], boxes[i], boxes[j]
            if not _close(a, b, ba, bb):
                continue
            if gray is not None and _separated(gray, a, b, ba, bb):
                continue
            if _other_colours(colour(i), colour(j)):
                continue
            parent[find(i)] = find(j)
    groups: dict[int, list[TextLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(find(i), []).append(line)
    return [_reading_order(group) for group in groups.values()]


def order_blocks(groups: list[list[TextLine]], manga: bool) -> list[list[TextLine]]:
    """Reading order of blocks: rows top to bottom; within a row right-to-left for manga."""
    boxes = {id(g): BBox.union([ln.bbox for ln in g]) for g in groups}
    rest = sorted(groups, key=lambda g: boxes[id(g)].y0)
    ordered: list[list[TextLine]] = []
    while rest:
        top = boxes[id(rest[0])]
        # A row: blocks whose top lies above the middle of the first block of the row.
        row = [g for g in rest if boxes[id(g)].y0 < top.y0 + top.height / 2]
        row.sort(key=lambda g: -boxes[id(g)].center[0] if manga else boxes[id(g)].center[0])
        ordered.extend(row)
        rest = [g for g in rest if all(g is not r for r in row)]
    return ordered


def build_blocks(
    lines: list[TextLine], min_confidence: float, image: np.ndarray | None = None
) -> tuple[list[TextBlock], str | None]:
    """Lines of one page -> (blocks in reading order, detected language)."""
    language = detect_language([ln.text for ln in lines if ln.confidence >= min_confidence])
    vertical = sum(ln.direction == "vertical" for ln in lines)
    manga = vertical > len(lines) / 2 and language in ("ja", "zh", None)
    groups = order_blocks(group_lines(lines, image), manga)
    page_script = script_family("".join(ln.text for ln in lines if ln.confidence >= SURE))
    blocks = []
    for number, group in enumerate(groups):
        reasons = [is_noise(ln, min_confidence) or _stray(ln, page_script) for ln in group]
        note = reasons[0] if all(reasons) else None
        blocks.append(
            TextBlock(
                id=number,
                lines=tuple(group),
                direction=group_direction(group),
                translate=note is None,
                note=note,
            )
        )
    return blocks, language
