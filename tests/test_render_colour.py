"""Colours: measured from the source strokes, on dark balloons, with outlines, and WCAG."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from render_synth import make_page

from imgtrans.lettering.colour import (
    Colours,
    choose,
    contrast_ratio,
    measure_colours,
    median_rgb,
    quantile_u8,
)
from imgtrans.options import RenderOptions
from imgtrans.page import RGB
from imgtrans.stages.render import render

TOL = 24  # per channel


def _close(a: RGB, b: RGB, tol: int = TOL) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tol


def _drawn_colours(out: np.ndarray, clean: np.ndarray, background: RGB) -> Colours:
    """Measure the lettering that render drew, as if it were a source page."""
    changed = np.abs(out.astype(int) - clean.astype(int)).max(axis=2) > 0
    return measure_colours(out, changed, background)


def test_wcag_contrast_reference_values() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((120, 120, 120), (120, 120, 120)) == pytest.approx(1.0)
    # #777 on white is the classic just-below-AA grey (4.48:1).
    assert contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(
    ("fill", "text"),
    [
        ((255, 255, 255), (0, 0, 0)),
        ((25, 25, 30), (250, 250, 250)),
        ((20, 40, 110), (255, 220, 60)),
    ],
    ids=["black-on-white", "white-on-black", "yellow-on-navy"],
)
def test_text_colour_is_measured_and_drawn(fill: RGB, text: RGB) -> None:
    page, _ = make_page(
        ["色のテスト", "です"], "색깔 시험입니다", fill=fill, text=text, border=(128, 128, 128)
    )
    out = render([page], RenderOptions(), "ko")[0]
    block = out.blocks[0]
    assert block.style is not None and block.render is not None
    assert _close(block.style.text_color, text), block.style
    assert _close(block.style.background_color, fill), block.style
    assert block.style.outline_color is None
    assert block.render.status == "ok" and block.render.outline_width == 0
    drawn = _drawn_colours(out.output, page.clean, fill)  # type: ignore[arg-type]
    assert drawn.outline is None and _close(drawn.text, text), drawn


def test_outlined_source_gets_an_outline_of_its_colour() -> None:
    text, outline, fill = (0, 0, 0), (255, 255, 255), (60, 120, 200)
    page, _ = make_page(
        ["OUTLINE"],
        "Outlined words",
        balloon=False,
        fill=fill,
        text=text,
        outline=outline,
        glyph=34,
    )
    out = render([page], RenderOptions(), "en")[0]
    style, result = out.blocks[0].style, out.blocks[0].render
    assert style is not None and result is not None and result.status == "ok"
    assert _close(style.text_color, text) and style.outline_color is not None
    assert _close(style.outline_color, outline), style
    assert result.outline_width >= 1
    drawn = _drawn_colours(out.output, page.clean, fill)  # type: ignore[arg-type]
    assert drawn.outline is not None, drawn
    assert _close(drawn.text, text) and _close(drawn.outline, outline), drawn


def test_anti_aliasing_is_not_mistaken_for_an_outline() -> None:
    page, _ = make_page(["アンチエイリアス"], "x", glyph=14, text=(0, 0, 0))
    out = render([page], RenderOptions(), "en")[0]
    assert out.blocks[0].style is not None and out.blocks[0].style.outline_color is None


def test_low_contrast_text_gets_a_contrasting_outline() -> None:
    grey, bg = (128, 128, 128), (100, 100, 100)
    assert contrast_ratio(grey, bg) < 4.5
    text, outline = choose(Colours(grey, bg, None, True))
    assert text == grey and outline is not None and contrast_ratio(outline, grey) >= 4.5
    page, _ = make_page(["灰色"], "회색", fill=bg, text=grey, border=(0, 0, 0))
    block = render([page], RenderOptions(), "ko")[0].blocks[0]
    assert block.style is not None and block.style.outline_color is not None
    assert block.render is not None and block.render.outline_width >= 1


def test_dark_ink_on_yellowed_paper_gets_no_added_outline() -> None:
    """Old newsprint: ~4:1, under WCAG AA for small text, but the page was read that way;
    a white outline 1/10 of the size around brown ink reads as white lettering."""
    ink, paper = (66, 56, 45), (187, 143, 117)
    assert 3.0 < contrast_ratio(ink, paper) < 4.5
    assert choose(Colours(ink, paper, None, True)) == (ink, None)
    assert choose(Colours(ink, paper, None, False))[1] is not None  # not measured: outline
    page, _ = make_page(["新聞"], "신문", fill=paper, text=ink, border=(0, 0, 0))
    block = render([page], RenderOptions(), "ko")[0].blocks[0]
    assert block.style is not None and block.style.outline_color is None
    assert block.render is not None and block.render.outline_width == 0


def test_rerender_without_original_keeps_a_given_style_or_picks_contrast() -> None:
    page, _ = make_page(["テスト"], "시험", fill=(20, 20, 20), text=(255, 255, 255))
    erased = replace(page, image=page.clean)  # original not available any more
    block = render([erased], RenderOptions(), "ko")[0].blocks[0]
    assert block.style is not None and block.style.text_color == (255, 255, 255)
    assert contrast_ratio(block.style.text_color, block.style.background_color) >= 4.5
    edited = replace(block.style, text_color=(255, 0, 0))
    again = replace(erased, blocks=(replace(erased.blocks[0], style=edited),))
    out = render([again], RenderOptions(), "ko")[0]
    assert out.blocks[0].style == edited
    drawn = _drawn_colours(out.output, page.clean, (20, 20, 20))  # type: ignore[arg-type]
    assert _close(drawn.text, (255, 0, 0)), drawn


def test_counted_quantile_and_median_equal_numpys() -> None:
    """quantile_u8 and median_rgb count instead of partitioning: same floats as NumPy."""
    rng = np.random.default_rng(5)
    for _ in range(400):
        n = int(rng.integers(1, 2000))
        lo, hi = sorted(int(v) for v in rng.integers(0, 256, 2))
        values = rng.integers(lo, hi + 1, (n, 3)).astype(np.uint8)
        for q in (0.99, 0.5, float(rng.random())):
            expected = float(np.quantile(values[:, 0].astype(np.float32), q))
            assert quantile_u8(values[:, 0], q) == expected
        assert median_rgb(values) == tuple(float(v) for v in np.median(values, axis=0))
