"""Test helpers: draw known text with the shipped fonts, and score what OCR read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FONT_JA = FONTS / "NotoSansJP-Bold-subset.otf"
FONT_KO = FONTS / "NotoSansKR-Bold-subset.otf"
FONT_ZH = FONTS / "NotoSansSC-Bold-subset.otf"


@dataclass(frozen=True)
class Text:
    text: str
    xy: tuple[int, int]
    size: int = 32
    vertical: bool = False
    font: Path = FONT_JA
    fill: tuple[int, int, int] = (0, 0, 0)


def draw(
    width: int, height: int, texts: list[Text], background: tuple[int, int, int] = (255, 255, 255)
) -> np.ndarray:
    """RGB uint8 page with ``texts`` drawn; vertical text uses the font's vert forms."""
    img = Image.new("RGB", (width, height), background)
    d = ImageDraw.Draw(img)
    for t in texts:
        font = ImageFont.truetype(str(t.font), t.size)
        if t.vertical:
            d.text(t.xy, t.text, font=font, fill=t.fill, direction="ttb", features=["vert"])
        else:
            d.text(t.xy, t.text, font=font, fill=t.fill)
    return np.asarray(img).copy()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(read: str, truth: str) -> float:
    """Character error rate of ``read`` against ``truth`` (spaces ignored)."""
    r, t = read.replace(" ", ""), truth.replace(" ", "")
    return edit_distance(r, t) / max(1, len(t))


def save(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path
