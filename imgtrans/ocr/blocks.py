"""Group lines into blocks, order them for reading, decide the page's source language.

Grouping: adjacent vertical columns of similar width (glyph size) and overlapping height
form one block read right to left; stacked horizontal lines of similar height that overlap
horizontally form one block read top to bottom. Blocks are ordered in manga order
(right to left, top to bottom) when the page is vertical Japanese, else left to right.
"""

from __future__ import annotations

import re
import unicodedata

from imgtrans.page import BBox, TextBlock, TextLine

KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


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


def _close(a: TextLine, b: TextLine) -> bool:
    ba, bb = a.bbox, b.bbox
    if a.direction != b.direction:
        return False
    if a.direction == "vertical":
        size_a, size_b = ba.width, bb.width
        gap = max(ba.x0, bb.x0) - min(ba.x1, bb.x1)
        overlap = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        span = min(ba.height, bb.height)
    else:
        size_a, size_b = ba.height, bb.height
        gap = max(ba.y0, bb.y0) - min(ba.y1, bb.y1)
        overlap = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        span = min(ba.width, bb.width)
    size = max(size_a, size_b)
    similar = min(size_a, size_b) >= size / 1.6
    return similar and gap <= 0.9 * size and overlap > 0.2 * span


def group_lines(lines: list[TextLine]) -> list[list[TextLine]]:
    """Union-find over neighbouring lines; each group sorted in reading order."""
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _close(lines[i], lines[j]):
                parent[find(i)] = find(j)
    groups: dict[int, list[TextLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(find(i), []).append(line)
    out = []
    for group in groups.values():
        if group[0].direction == "vertical":
            group.sort(key=lambda ln: -ln.bbox.center[0])
        else:
            group.sort(key=lambda ln: ln.bbox.center[1])
        out.append(group)
    return out


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
    lines: list[TextLine], min_confidence: float
) -> tuple[list[TextBlock], str | None]:
    """Lines of one page -> (blocks in reading order, detected language)."""
    language = detect_language([ln.text for ln in lines if ln.confidence >= min_confidence])
    vertical = sum(ln.direction == "vertical" for ln in lines)
    manga = vertical > len(lines) / 2 and language in ("ja", "zh", None)
    groups = order_blocks(group_lines(lines), manga)
    blocks = []
    for number, group in enumerate(groups):
        reasons = [is_noise(ln, min_confidence) for ln in group]
        note = reasons[0] if all(reasons) else None
        blocks.append(
            TextBlock(
                id=number,
                lines=tuple(group),
                direction=group[0].direction,
                translate=note is None,
                note=note,
            )
        )
    return blocks, language
