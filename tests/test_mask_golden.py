"""Golden stroke masks of generated pages, compared pixel for pixel.

The mask stage is tuned for speed (issue K) with outputs that must not move: these pages
hold its cases (balloon outline, vertical column with ruby, textured tag, outlined and
light-on-dark lettering, glyphs over hatching, marks beside a line). Regenerate after a
deliberate change with ``IMGTRANS_UPDATE_GOLDEN=1 pytest tests/test_mask_golden.py`` and
review the PNGs (white: erased).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from render_synth import make_page

from imgtrans.page import Page, TextBlock, TextLine
from imgtrans.stages.mask import stroke_mask

GOLDEN = Path(__file__).parent / "golden"


def _line(x0: int, y0: int, x1: int, y1: int, vertical: bool = False) -> TextLine:
    direction = "vertical" if vertical else "horizontal"
    return TextLine(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), "x", 0.99, direction)


def _page(img: np.ndarray, *blocks: tuple[TextLine, ...]) -> Page:
    made = tuple(TextBlock(i, lines, lines[0].direction) for i, lines in enumerate(blocks))
    return Page(Path("g.png"), "g.png", "0" * 64, img, blocks=made)


def _hatched_panel() -> Page:
    """Two balloons and a caption on a page with hatching, dots beside the lines, a
    vertical column with ruby and a glyph touching the balloon's outline."""
    img = np.full((420, 560, 3), 235, np.uint8)
    for x in range(0, 560, 6):  # hatching art
        cv2.line(img, (x, 0), (x - 200, 420), (60, 60, 60), 1)
    cv2.ellipse(img, (150, 130), (120, 80), 0, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(img, (150, 130), (120, 80), 0, 0, 360, (0, 0, 0), 3)
    for i, word in enumerate(("HELLO", "THERE!")):
        cv2.putText(img, word, (80, 120 + 34 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    cv2.circle(img, (232, 112), 3, (0, 0, 0), -1)  # a stray mark beside the first line
    cv2.ellipse(img, (420, 210), (90, 150), 0, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(img, (420, 210), (90, 150), 0, 0, 360, (0, 0, 0), 3)
    for y in range(100, 320, 36):  # a vertical column of glyph-like boxes with ruby
        cv2.rectangle(img, (406, y), (432, y + 26), (0, 0, 0), 3)
        cv2.line(img, (406, y + 13), (432, y + 13), (0, 0, 0), 3)
    for y in (105, 125, 185):
        cv2.rectangle(img, (440, y), (448, y + 9), (0, 0, 0), 2)
    cv2.rectangle(img, (20, 330), (300, 400), (40, 90, 200), -1)  # a coloured caption box
    cv2.putText(img, "LATER...", (40, 378), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (255, 230, 0), 3)
    cv2.putText(img, "!", (262, 180), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    return _page(
        img,
        (_line(74, 96, 232, 128), _line(74, 130, 250, 162)),
        (_line(400, 94, 438, 330, vertical=True),),
        (_line(34, 344, 250, 392),),
        (_line(256, 148, 290, 186),),
    )


def _tag() -> Page:
    """White lettering on a striped coloured tag."""
    img = np.zeros((120, 320, 3), np.uint8)
    img[:, :] = (200, 120, 40)
    img[::5] = (150, 80, 20)
    img[:, ::7] = (220, 160, 90)
    cv2.putText(img, "TAG", (40, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 4)
    return _page(img, (_line(20, 25, 230, 105),))


def _synth(**kw: object) -> Callable[[], Page]:
    return lambda: make_page(**kw)[0]  # type: ignore[arg-type]


SCENES: dict[str, Callable[[], Page]] = {
    "hatched_panel": _hatched_panel,
    "tag": _tag,
    "dark_vertical": _synth(
        lines=["縦書きの", "テスト"],
        translation=None,
        vertical=True,
        fill=(30, 30, 34),
        border=(220, 220, 220),
        text=(255, 255, 255),
        page_bg=(40, 40, 90),
    ),
    "outlined_caption": _synth(
        lines=["キャプション"],
        translation=None,
        balloon=False,
        fill=(60, 120, 200),
        text=(0, 0, 0),
        outline=(255, 255, 255),
        glyph=30,
    ),
    "cloud": _synth(lines=["OK！", "行くぞ！"], translation=None, shape="cloud", size=(320, 260)),
}


@pytest.mark.parametrize("name", sorted(SCENES))
@pytest.mark.parametrize("dilate", [1, 3, 6])
def test_stroke_mask_matches_its_golden(name: str, dilate: int) -> None:
    mask = stroke_mask(SCENES[name](), dilate)
    golden = GOLDEN / f"mask_{name}_d{dilate}.png"
    if os.environ.get("IMGTRANS_UPDATE_GOLDEN") == "1":
        cv2.imwrite(str(golden), mask)
    expected = cv2.imread(str(golden), cv2.IMREAD_GRAYSCALE)
    assert expected is not None, f"missing golden {golden}: run with IMGTRANS_UPDATE_GOLDEN=1"
    differ = int(np.count_nonzero(mask != expected))
    if differ:
        actual = golden.with_suffix(".actual.png")
        cv2.imwrite(str(actual), mask)
        pytest.fail(f"{differ} pixels differ from {golden.name} (this run: {actual.name})")
    assert mask.any()  # every scene has strokes to erase
