"""Synthetic pages for the render tests: balloons of known shape, source text drawn with a
real font, and the matching clean image, mask and blocks (what OCR + inpaint would give)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from imgtrans.lettering.fonts import shipped_fonts
from imgtrans.page import RGB, Page, TextBlock, TextLine

SOURCE_FONT = shipped_fonts("ja")[0]


def draw_balloon(
    img: np.ndarray, shape: str, box: tuple[int, int, int, int], fill: RGB, border: RGB
) -> np.ndarray:
    """Draw a closed balloon (ellipse, rect, round, cloud) in place; returns its bool mask."""
    x0, y0, x1, y1 = box
    m = np.zeros(img.shape[:2], np.uint8)
    cx, cy, ax, ay = (x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 2, (y1 - y0) // 2
    if shape == "ellipse":
        cv2.ellipse(m, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
    elif shape == "rect":
        m[y0:y1, x0:x1] = 1
    elif shape == "round":
        r = min(ax, ay) // 2
        cv2.rectangle(m, (x0 + r, y0), (x1 - r, y1), 1, -1)
        cv2.rectangle(m, (x0, y0 + r), (x1, y1 - r), 1, -1)
        for px, py in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
            cv2.circle(m, (px, py), r, 1, -1)
    elif shape == "cloud":
        cv2.ellipse(m, (cx, cy), (int(ax * 0.8), int(ay * 0.8)), 0, 0, 360, 1, -1)
        for k in range(10):
            t = 2 * np.pi * k / 10
            px, py = int(cx + ax * 0.75 * np.cos(t)), int(cy + ay * 0.75 * np.sin(t))
            cv2.circle(m, (px, py), int(min(ax, ay) * 0.3), 1, -1)
    else:
        raise ValueError(shape)
    edge = cv2.dilate(m, np.ones((7, 7), np.uint8)) - m
    img[edge > 0] = border
    img[m > 0] = fill
    return m.astype(bool)


def draw_source_text(
    img: np.ndarray,
    lines: list[str],
    centre: tuple[int, int],
    size: int,
    colour: RGB,
    vertical: bool = False,
    outline: RGB | None = None,
) -> list[TextLine]:
    """Draw source lines centred at ``centre`` in place; returns their TextLines (polygons
    padded like a detector's)."""
    from imgtrans.lettering.fonts import pil_font

    font = pil_font(SOURCE_FONT.path, SOURCE_FONT.index, size)
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    pitch = int(size * 1.3)
    n = len(lines)
    out = []
    stroke = max(2, size // 8) if outline is not None else 0
    for i, text in enumerate(lines):
        if vertical:
            x = centre[0] + (n - 1) * pitch / 2 - i * pitch
            kw: dict[str, object] = {"direction": "ttb", "features": ["vert"], "anchor": "mm"}
            xy = (x, centre[1])
        else:
            xy = (centre[0], centre[1] - (n - 1) * pitch / 2 + i * pitch)
            kw = {"anchor": "mm"}
        box = draw.textbbox(xy, text, font=font, stroke_width=stroke, **kw)  # type: ignore[arg-type]
        draw.text(xy, text, fill=colour, font=font, stroke_width=stroke, stroke_fill=outline, **kw)  # type: ignore[arg-type]
        pad = size * 0.15
        bx0, by0, bx1, by1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
        poly = ((bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1))
        out.append(TextLine(poly, text, 0.99, "vertical" if vertical else "horizontal"))
    img[...] = np.asarray(pil)
    return out


def make_page(
    lines: list[str],
    translation: str | None,
    *,
    shape: str = "ellipse",
    size: tuple[int, int] = (360, 260),
    balloon_box: tuple[int, int, int, int] | None = None,
    page_bg: RGB = (150, 150, 150),
    fill: RGB = (255, 255, 255),
    border: RGB = (0, 0, 0),
    text: RGB = (0, 0, 0),
    outline: RGB | None = None,
    glyph: int = 24,
    vertical: bool = False,
    balloon: bool = True,
) -> tuple[Page, np.ndarray]:
    """A page with one block; returns it (image, clean, mask set) and the balloon mask."""
    w, h = size
    clean = np.zeros((h, w, 3), np.uint8)
    clean[...] = page_bg
    bbox = balloon_box or (20, 20, w - 20, h - 20)
    if balloon:
        region = draw_balloon(clean, shape, bbox, fill, border)
    else:
        clean[...] = fill
        region = np.ones((h, w), bool)
    image = clean.copy()
    centre = ((bbox[0] + bbox[2]) // 2, (bbox[1] + bbox[3]) // 2)
    tl = draw_source_text(image, lines, centre, glyph, text, vertical, outline)
    diff = (np.abs(image.astype(int) - clean.astype(int)).max(axis=2) > 0).astype(np.uint8)
    mask = cv2.dilate(diff, np.ones((5, 5), np.uint8)) * 255
    block = TextBlock(
        0, tuple(tl), "vertical" if vertical else "horizontal", translation=translation
    )
    page = Page(
        Path("/nonexistent/p.png"),
        "p.png",
        "0" * 64,
        image,
        blocks=(block,),
        mask=mask,
        clean=clean,
    )
    return page, region
