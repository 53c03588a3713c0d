"""Drawing primitives for the example pages: panels, screentone, balloons and lettering.

Everything is drawn from geometry and fixed numbers (no randomness, no third-party art), so
the pages are byte-for-byte reproducible with the same Pillow and fonts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Box = tuple[int, int, int, int]
Colour = tuple[int, int, int]
BLACK: Colour = (0, 0, 0)
WHITE: Colour = (255, 255, 255)


@dataclass(frozen=True)
class LineTruth:
    """One drawn line (or vertical column) of text and its box [x0, y0, x1, y1] (Pillow textbbox, pixels)."""

    text: str
    bbox: Box


@dataclass(frozen=True)
class BlockTruth:
    """One balloon or caption: its lines in reading order and the joined block text."""

    kind: str  # "balloon" | "caption"
    lang: str  # "ja" | "zh" | "en"
    direction: str  # "horizontal" | "vertical"
    lines: tuple[LineTruth, ...]
    container: Box  # the balloon or caption box drawn around the text
    text: str = field(default="")

    def bbox(self) -> Box:
        xs0, ys0, xs1, ys1 = zip(*(line.bbox for line in self.lines), strict=True)
        return (min(xs0), min(ys0), max(xs1), max(ys1))


def join_lines(lines: list[str], lang: str) -> str:
    """Block text from its lines: CJK lines join with no space, Latin ones with one space."""
    return ("" if lang in ("ja", "zh") else " ").join(lines)


def panel(draw: ImageDraw.ImageDraw, box: Box, width: int = 5) -> None:
    draw.rectangle(box, outline=BLACK, width=width)


def vertical_gradient(img: Image.Image, box: Box, top: Colour, bottom: Colour) -> None:
    """Fill ``box`` with a linear top-to-bottom gradient."""
    x0, y0, x1, y1 = box
    t = np.linspace(0.0, 1.0, y1 - y0)[:, None, None]
    rows = (1 - t) * np.array(top, float) + t * np.array(bottom, float)
    tile = np.broadcast_to(rows, (y1 - y0, x1 - x0, 3)).round().astype(np.uint8)
    img.paste(Image.fromarray(np.ascontiguousarray(tile)), (x0, y0))


def screentone(
    img: Image.Image, box: Box, pitch: int = 9, r_top: float = 0.5, r_bot: float = 3.5
) -> None:
    """Halftone dots on a square grid inside ``box``, dot radius growing top to bottom."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    yy, xx = np.mgrid[0:h, 0:w]
    dy = (yy % pitch) - pitch / 2 + 0.5
    dx = (xx % pitch) - pitch / 2 + 0.5
    radius = r_top + (r_bot - r_top) * (yy / max(h - 1, 1))
    dots = dx * dx + dy * dy <= radius * radius
    region = np.asarray(img.crop(box)).copy()
    region[dots] = (40, 40, 40)
    img.paste(Image.fromarray(region), (x0, y0))


def speed_lines(img: Image.Image, box: Box, centre: tuple[int, int], n: int = 48) -> None:
    """Radial focus lines from outside ``box`` toward ``centre``, clipped to ``box``."""
    x0, y0, x1, y1 = box
    layer = img.crop(box)
    draw = ImageDraw.Draw(layer)
    cx, cy = centre[0] - x0, centre[1] - y0
    inner = 0.42 * min(x1 - x0, y1 - y0)
    outer = 2.0 * max(x1 - x0, y1 - y0)
    for i in range(n):
        angle = 2 * np.pi * i / n
        c, s = np.cos(angle), np.sin(angle)
        start = (cx + inner * (1.0 + 0.3 * (i % 4) / 3) * c, cy + inner * s)
        draw.line([start, (cx + outer * c, cy + outer * s)], fill=(90, 90, 90), width=2 + (i % 3))
    img.paste(layer, (x0, y0))


def hills(draw: ImageDraw.ImageDraw, box: Box, fill: Colour, phase: float = 0.0) -> None:
    """A rolling hill silhouette along the bottom of ``box``."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    pts = [(x0, y1)]
    for x in range(x0, x1 + 1, 10):
        t = (x - x0) / max(x1 - x0, 1)
        y = y1 - h * (0.25 + 0.12 * np.sin(6.0 * t + phase) + 0.06 * np.sin(17.0 * t + phase))
        pts.append((x, int(round(y))))
    pts.append((x1, y1))
    draw.polygon(pts, fill=fill, outline=BLACK)


def figure(draw: ImageDraw.ImageDraw, x: int, y: int, scale: float, shirt: Colour) -> None:
    """A simple character: round head, body, arms, drawn with thick outlines."""
    s = scale
    head = (x - 40 * s, y, x + 40 * s, y + 80 * s)
    draw.ellipse(head, fill=(250, 226, 200), outline=BLACK, width=4)
    draw.arc((x - 22 * s, y + 30 * s, x - 8 * s, y + 44 * s), 180, 360, fill=BLACK, width=4)
    draw.arc((x + 8 * s, y + 30 * s, x + 22 * s, y + 44 * s), 180, 360, fill=BLACK, width=4)
    draw.arc((x - 16 * s, y + 50 * s, x + 16 * s, y + 66 * s), 20, 160, fill=BLACK, width=3)
    body = [
        (x - 55 * s, y + 200 * s),
        (x - 35 * s, y + 90 * s),
        (x + 35 * s, y + 90 * s),
        (x + 55 * s, y + 200 * s),
    ]
    draw.polygon(body, fill=shirt, outline=BLACK)
    draw.line([(x - 38 * s, y + 100 * s), (x - 80 * s, y + 170 * s)], fill=BLACK, width=6)
    draw.line([(x + 38 * s, y + 100 * s), (x + 80 * s, y + 170 * s)], fill=BLACK, width=6)


def balloon(
    draw: ImageDraw.ImageDraw,
    box: Box,
    fill: Colour = WHITE,
    outline: Colour = BLACK,
    tail: tuple[int, int] | None = None,
) -> None:
    """An elliptic speech balloon with an optional wedge tail pointing at ``tail``."""
    x0, y0, x1, y1 = box
    if tail is not None:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        dx, dy = tail[0] - cx, tail[1] - cy
        norm = float(np.hypot(dx, dy)) or 1.0
        half = 0.12 * min(x1 - x0, y1 - y0)
        px, py = -dy / norm * half, dx / norm * half
        base = [(cx + px, cy + py), (cx - px, cy - py)]
        draw.polygon([base[0], tail, base[1]], fill=fill)
        draw.line([base[0], tail, base[1]], fill=outline, width=4, joint="curve")
    draw.ellipse(box, fill=fill, outline=outline, width=4)


def caption(draw: ImageDraw.ImageDraw, box: Box, fill: Colour = (255, 250, 215)) -> None:
    draw.rectangle(box, fill=fill, outline=BLACK, width=3)


def _text_box(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    **kw: object,
) -> Box:
    x0, y0, x1, y1 = draw.textbbox(xy, text, font=font, **kw)  # type: ignore[arg-type]
    return (int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1)))


def letter_horizontal(
    draw: ImageDraw.ImageDraw,
    box: Box,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    fill: Colour = BLACK,
    spacing: float = 1.35,
) -> list[LineTruth]:
    """Centre ``lines`` in ``box``, one below the other; returns each line's text box."""
    x0, y0, x1, y1 = box
    size = font.size
    step = int(round(size * spacing))
    total = step * (len(lines) - 1) + size
    top = (y0 + y1 - total) / 2
    out = []
    for i, line in enumerate(lines):
        width = draw.textlength(line, font=font)
        xy = ((x0 + x1 - width) / 2, top + i * step)
        draw.text(xy, line, font=font, fill=fill)
        out.append(LineTruth(line, _text_box(draw, xy, line, font)))
    return out


def letter_vertical(
    draw: ImageDraw.ImageDraw,
    box: Box,
    columns: list[str],
    font: ImageFont.FreeTypeFont,
    fill: Colour = BLACK,
    spacing: float = 1.5,
) -> list[LineTruth]:
    """Centre vertical ``columns`` in ``box``, first column rightmost (manga reading order).

    Drawn with raqm (``direction="ttb"``, ``features=["vert"]``), each column top-aligned.
    """
    x0, y0, x1, y1 = box
    size = font.size
    step = int(round(size * spacing))
    kw = {"direction": "ttb", "features": ["vert"]}
    heights = [font.getbbox(c, **kw)[3] for c in columns]  # type: ignore[arg-type]
    total_w = step * (len(columns) - 1) + size
    right = (x0 + x1 + total_w) / 2 - size
    top = (y0 + y1 - max(heights)) / 2
    out = []
    for i, col in enumerate(columns):
        xy = (right - i * step, top)
        draw.text(xy, col, font=font, fill=fill, **kw)  # type: ignore[arg-type]
        out.append(LineTruth(col, _text_box(draw, xy, col, font, **kw)))
    return out
