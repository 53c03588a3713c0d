"""Draw the example pages in examples/pages/ and their ground truth.

    python examples/make_pages.py [--out examples/pages]

Writes ``manga_ja_vertical.png`` (vertical Japanese in balloons), ``manhua_zh.png``
(horizontal Chinese, a caption box and a dark balloon), ``comic_en.png`` (English balloons
and captions), ``poster_ja.png`` (horizontal Japanese signs and a dark box) and
``ground_truth.json`` (per page: each block's lines in reading order with their text boxes,
the joined block text, and the balloon/caption box). Everything is drawn here from shapes
and the fonts shipped in ``fonts/``; the output is deterministic. ``examples/tm.tsv`` holds a
Korean translation for every block text.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from page_art import (
    BLACK,
    WHITE,
    BlockTruth,
    balloon,
    caption,
    figure,
    hills,
    join_lines,
    letter_horizontal,
    letter_vertical,
    panel,
    screentone,
    speed_lines,
    vertical_gradient,
)
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT_JP = ROOT / "fonts" / "NotoSansJP-Bold-subset.otf"
FONT_SC = ROOT / "fonts" / "NotoSansSC-Bold-subset.otf"
FONT_LATIN = ROOT / "fonts" / "NotoSansKR-Bold-subset.otf"
PAGE_W, PAGE_H = 1000, 1400
PAPER = (252, 252, 250)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def block(kind: str, lang: str, direction: str, lines: list, container: tuple) -> BlockTruth:  # type: ignore[type-arg]
    text = join_lines([line.text for line in lines], lang)
    return BlockTruth(kind, lang, direction, tuple(lines), container, text)


def manga_ja_vertical() -> tuple[Image.Image, list[BlockTruth]]:
    """Four panels, screentone and gradients, four balloons of vertical Japanese."""
    img = Image.new("RGB", (PAGE_W, PAGE_H), PAPER)
    d = ImageDraw.Draw(img)
    p1, p2, p3, p4 = (
        (40, 40, 960, 520),
        (40, 550, 490, 1000),
        (520, 550, 960, 1000),
        (40, 1030, 960, 1360),
    )
    vertical_gradient(img, p1, (235, 235, 235), (150, 150, 150))
    hills(d, p1, (110, 110, 110))
    figure(d, 250, 250, 1.0, (200, 200, 200))
    screentone(img, p2)
    figure(d, 330, 700, 1.2, (240, 240, 240))
    speed_lines(img, p3, (740, 800))
    vertical_gradient(img, p4, (60, 60, 60), (200, 200, 200))
    hills(d, p4, (30, 30, 30), phase=1.5)
    for p in (p1, p2, p3, p4):
        panel(d, p)
    f = font(FONT_JP, 40)
    specs = [
        ((620, 70, 900, 470), ["今日は", "いい天気だね"], (560, 300)),
        ((60, 570, 300, 960), ["早く逃げて", "ください"], (330, 700)),
        ((600, 600, 900, 980), ["あの山の上に", "何かある"], (560, 900)),
        ((560, 1050, 900, 1340), ["本当に", "行くの"], (480, 1250)),
    ]
    blocks = []
    for box, columns, tail in specs:
        balloon(d, box, tail=tail)
        lines = letter_vertical(d, box, columns, f)
        blocks.append(block("balloon", "ja", "vertical", lines, box))
    return img, blocks


def manhua_zh() -> tuple[Image.Image, list[BlockTruth]]:
    """Three panels, horizontal Chinese in balloons, a caption box and a dark balloon."""
    img = Image.new("RGB", (PAGE_W, PAGE_H), PAPER)
    d = ImageDraw.Draw(img)
    p1, p2, p3 = (40, 40, 960, 480), (40, 510, 960, 940), (40, 970, 960, 1360)
    vertical_gradient(img, p1, (200, 225, 250), (245, 245, 255))
    hills(d, p1, (120, 170, 110))
    figure(d, 700, 200, 1.0, (220, 90, 80))
    vertical_gradient(img, p2, (250, 240, 220), (230, 210, 180))
    figure(d, 220, 640, 1.1, (80, 120, 200))
    figure(d, 760, 640, 1.1, (220, 90, 80))
    vertical_gradient(img, p3, (70, 70, 90), (150, 150, 170))
    speed_lines(img, p3, (500, 1170))
    for p in (p1, p2, p3):
        panel(d, p)
    f = font(FONT_SC, 40)
    specs = [
        ("caption", (70, 70, 370, 140), ["第二天早上"], None, False),
        ("balloon", (160, 180, 600, 420), ["你今天", "去哪里了？"], (640, 300), False),
        ("balloon", (300, 540, 700, 760), ["我在图书馆", "看了一下午书"], (230, 660), False),
        ("balloon", (560, 780, 940, 920), ["外面下雨了"], (760, 760), False),
        ("balloon", (300, 1060, 700, 1280), ["快跑！"], None, True),
    ]
    return img, _letter_horizontal_blocks(d, specs, f, "zh")


def _letter_horizontal_blocks(
    d: ImageDraw.ImageDraw, specs: list, f: ImageFont.FreeTypeFont, lang: str
) -> list[BlockTruth]:  # type: ignore[type-arg]
    blocks = []
    for kind, box, lines, tail, dark in specs:
        if kind == "caption":
            caption(d, box)
        else:
            balloon(d, box, fill=BLACK if dark else WHITE, outline=BLACK, tail=tail)
        if dark:
            d.ellipse(box, outline=WHITE, width=3)
        drawn = letter_horizontal(d, box, lines, f, fill=WHITE if dark else BLACK)
        blocks.append(block(kind, lang, "horizontal", drawn, box))
    return blocks


def comic_en() -> tuple[Image.Image, list[BlockTruth]]:
    """A western-style colour page: captions and balloons in upper-case English."""
    img = Image.new("RGB", (PAGE_W, PAGE_H), PAPER)
    d = ImageDraw.Draw(img)
    p1, p2, p3 = (40, 40, 960, 600), (40, 630, 490, 1360), (520, 630, 960, 1360)
    vertical_gradient(img, p1, (255, 210, 150), (255, 245, 225))
    hills(d, p1, (150, 110, 80), phase=0.7)
    figure(d, 800, 300, 1.0, (60, 150, 90))
    vertical_gradient(img, p2, (180, 220, 240), (240, 250, 255))
    figure(d, 260, 1000, 1.1, (200, 70, 70))
    vertical_gradient(img, p3, (230, 230, 240), (190, 190, 210))
    speed_lines(img, p3, (740, 1150))
    for p in (p1, p2, p3):
        panel(d, p)
    f = font(FONT_LATIN, 34)
    specs = [
        ("caption", (70, 70, 520, 140), ["MEANWHILE AT THE LAB"], None, False),
        ("balloon", (100, 200, 640, 470), ["WHERE DID", "EVERYONE GO?"], (760, 320), False),
        ("balloon", (70, 680, 460, 940), ["THE DOOR WAS", "OPEN ALL NIGHT"], (260, 1000), False),
        ("caption", (60, 1250, 470, 1330), ["Ten minutes later"], None, False),
        ("balloon", (550, 680, 930, 960), ["WE HAVE TO", "FIND THEM"], None, False),
        ("balloon", (580, 1000, 900, 1200), ["LOOK OUT!"], None, True),
    ]
    return img, _letter_horizontal_blocks(d, specs, f, "en")


def poster_ja() -> tuple[Image.Image, list[BlockTruth]]:
    """A screenshot-like page: horizontal Japanese signs, a dark notice and a balloon."""
    img = Image.new("RGB", (PAGE_W, 900), PAPER)
    d = ImageDraw.Draw(img)
    vertical_gradient(img, (0, 0, PAGE_W, 900), (240, 244, 250), (205, 215, 230))
    hills(d, (0, 500, PAGE_W, 900), (160, 190, 150), phase=2.0)
    figure(d, 820, 520, 1.0, (240, 180, 60))
    f = font(FONT_JP, 40)
    specs = [
        ("caption", (60, 50, 640, 130), ["駅はこちらです"], None, False),
        ("caption", (60, 200, 640, 340), ["本日の営業は", "午後六時までです"], None, False),
        ("balloon", (80, 360, 620, 600), ["明日また来ます"], (800, 560), False),
        ("balloon", (100, 640, 560, 860), ["立入禁止"], None, True),
    ]
    return img, _letter_horizontal_blocks(d, specs, f, "ja")


PAGES: dict[str, Callable[[], tuple[Image.Image, list[BlockTruth]]]] = {
    "manga_ja_vertical.png": manga_ja_vertical,
    "manhua_zh.png": manhua_zh,
    "comic_en.png": comic_en,
    "poster_ja.png": poster_ja,
}


def make_pages(out_dir: Path) -> dict[str, object]:
    """Draw every page into ``out_dir`` (PNG, RGB) and write ground_truth.json there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    truth: dict[str, object] = {}
    for name, draw_page in PAGES.items():
        img, blocks = draw_page()
        img.save(out_dir / name, optimize=True)
        truth[name] = {
            "width": img.width,
            "height": img.height,
            "blocks": [
                {"id": i, **asdict(b), "bbox": list(b.bbox())} for i, b in enumerate(blocks)
            ],
        }
    text = json.dumps(truth, ensure_ascii=False, indent=1)
    # One line per box: "[x0, y0, x1, y1]" instead of a number per line.
    text = re.sub(r"\[\s+(-?\d+),\s+(-?\d+),\s+(-?\d+),\s+(-?\d+)\s+\]", r"[\1, \2, \3, \4]", text)
    (out_dir / "ground_truth.json").write_text(text + "\n", encoding="utf-8")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description="Draw the imgtrans example pages.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "pages")
    args = parser.parse_args()
    for name, page in make_pages(args.out).items():
        print(name, [b["text"] for b in page["blocks"]])  # type: ignore[index]


if __name__ == "__main__":
    main()
