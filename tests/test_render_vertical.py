"""Vertical text: columns right to left, vertical punctuation forms, direction choice."""

from __future__ import annotations

import numpy as np
import pytest
from render_synth import make_page

from imgtrans.lettering.balloon import Area
from imgtrans.lettering.layout import Layout, Placed, Spec, draw_masks, fit
from imgtrans.lettering.linebreak import atoms
from imgtrans.options import RenderOptions
from imgtrans.stages.render import font_chain, render

JA = "「それで、いいの？」わたしはそう言った……ちょっと待ってよ。"


def _ink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_columns_run_right_to_left() -> None:
    chain = font_chain(RenderOptions(), "ja")
    mask = np.zeros((220, 260), bool)
    mask[10:210, 10:250] = True
    spec = Spec(tuple(atoms(JA, "ja")), chain, direction="vertical")
    fitted = fit(Area(mask, 0, 0, balloon=True), spec, 10, 40)
    assert fitted is not None
    layout = fitted[0]
    assert layout.direction == "vertical" and len(layout.lines) >= 2
    assert "".join(layout.lines) == JA
    boxes = []
    for placed in layout.placed:  # draw each column alone: where does its ink fall?
        single = Layout(layout.size, 0, "vertical", (placed,))
        boxes.append(_ink_box(draw_masks(single, mask.shape, chain)[0] > 0))
    for right, left in zip(boxes, boxes[1:], strict=False):
        assert left[2] <= right[0], boxes  # the next column lies wholly to the left
    for x0, y0, x1, y1 in boxes:
        if y1 - y0 > layout.size * 2:
            assert y1 - y0 > x1 - x0  # columns are taller than wide


@pytest.mark.parametrize("mark", ["ー", "…", "〜"])
def test_vertical_forms(mark: str) -> None:
    chain = font_chain(RenderOptions(), "ja")
    shape = (120, 120)
    vert = draw_masks(Layout(60, 0, "vertical", (Placed(mark, 60, 20),)), shape, chain)[0]
    horiz = draw_masks(Layout(60, 0, "horizontal", (Placed(mark, 20, 80),)), shape, chain)[0]
    vx0, vy0, vx1, vy1 = _ink_box(vert > 0)
    hx0, hy0, hx1, hy1 = _ink_box(horiz > 0)
    assert hx1 - hx0 > hy1 - hy0  # lying in a row
    assert vy1 - vy0 > vx1 - vx0  # standing in a column


def _page(vertical: bool, translation: str = "縦書きのテストです。よろしく。"):
    page, _ = make_page(
        ["縦書きの", "テスト"], translation, vertical=vertical, size=(300, 260), glyph=24
    )
    return page


@pytest.mark.parametrize(
    ("lang", "source_vertical", "option", "expected"),
    [
        ("ja", True, "auto", "vertical"),
        ("zh-Hant", True, "auto", "vertical"),
        ("ja", False, "auto", "horizontal"),
        ("ja", True, "horizontal", "horizontal"),
        ("ja", False, "vertical", "vertical"),
        ("ko", True, "auto", "horizontal"),
        ("en", True, "vertical", "horizontal"),
    ],
)
def test_direction_choice(lang: str, source_vertical: bool, option: str, expected: str) -> None:
    text = "Vertical test" if lang == "en" else ("세로 시험" if lang == "ko" else None)
    page = _page(source_vertical, text) if text else _page(source_vertical)
    out = render([page], RenderOptions(direction=option), lang)[0]  # type: ignore[arg-type]
    result = out.blocks[0].render
    assert result is not None and result.status == "ok" and result.direction == expected
    changed = np.abs(out.output.astype(int) - page.clean.astype(int)).max(axis=2) > 0  # type: ignore[union-attr]
    x0, y0, x1, y1 = _ink_box(changed)
    if expected == "vertical" and len(result.lines) == 1:
        assert y1 - y0 > x1 - x0
