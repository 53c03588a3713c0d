"""Fit: balloons of many shapes, texts of many lengths. No pixel ever lands outside the
balloon; a text that a simple rectangle would hold at the minimum size never overflows;
an overflow leaves the balloon blank."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from render_synth import make_page

from imgtrans.lettering.layout import LINE_PITCH
from imgtrans.options import RenderOptions
from imgtrans.stages.render import font_chain, render

KO = [
    "오늘",
    "우리는",
    "바다에",
    "가서",
    "수영을",
    "하고",
    "맛있는",
    "저녁을",
    "먹었다",
    "그리고",
    "별을",
    "보았다",
]
EN = [
    "we",
    "went",
    "to",
    "the",
    "sea",
    "to",
    "swim",
    "and",
    "then",
    "had",
    "a",
    "lovely",
    "dinner",
    "under",
    "the",
    "bright",
    "stars",
]
SHAPES = {"ellipse": 1.0, "rect": 1.0, "round": 1.0, "cloud": 0.8}  # inner-ellipse scale
OPTIONS = RenderOptions(min_font_size=10, max_font_size=60)


def _text(lang: str, n: int, rng: random.Random) -> str:
    words = KO if lang == "ko" else EN
    return " ".join(rng.choice(words) for _ in range(n))


def _naive_holds(text: str, lang: str, size: int, inner_w: float, inner_h: float) -> bool:
    """Does greedy wrapping in a ``inner_w x inner_h`` rectangle hold ``text`` at ``size``?

    Deliberately simple (and loose): lines at most 3/4 full, words at most 1/4 line.
    """
    font = font_chain(OPTIONS, lang).font(0, size)
    total = float(font.getlength(text))
    longest = max(float(font.getlength(w)) for w in text.split())
    pitch = math.ceil(size * LINE_PITCH)
    lines = math.ceil(total / (0.75 * inner_w)) + 1
    return longest <= inner_w / 4 and lines * pitch <= inner_h


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_fit_many_lengths(shape: str, lang: str) -> None:
    rng = random.Random(f"{shape}{lang}")
    w, h = 300, 220
    box = (20, 20, w - 20, h - 20)
    for n in (1, 3, 6, 12, 24, 60):
        text = _text(lang, n, rng)
        page, region = make_page(["テスト"], text, shape=shape, size=(w, h), balloon_box=box)
        out = render([page], OPTIONS, lang)[0]
        result = out.blocks[0].render
        assert result is not None and out.output is not None and page.clean is not None
        changed = np.abs(out.output.astype(int) - page.clean.astype(int)).max(axis=2) > 0
        # Never outside the balloon interior, never outside the recorded area.
        assert not (changed & ~region).any(), (shape, lang, n)
        assert result.area is not None
        ys, xs = np.nonzero(changed)
        if len(xs):
            a = result.area
            assert a.x0 <= xs.min() and xs.max() < a.x1 and a.y0 <= ys.min() and ys.max() < a.y1
        # A simple rectangle inside the balloon holds the text at the minimum size ->
        # the fitter must not overflow, and must not pick a smaller size than that rectangle.
        scale = SHAPES[shape]
        margin = 2 + 0.15 * out.blocks[0].style.font_size + 4  # type: ignore[union-attr]
        inner_w = (box[2] - box[0]) * scale / math.sqrt(2) - 2 * margin
        inner_h = (box[3] - box[1]) * scale / math.sqrt(2) - 2 * margin
        if _naive_holds(text, lang, OPTIONS.min_font_size, inner_w, inner_h):
            assert result.status == "ok", (shape, lang, n, text)
            naive = max(
                s
                for s in range(OPTIONS.min_font_size, OPTIONS.max_font_size + 1)
                if _naive_holds(text, lang, s, inner_w, inner_h)
            )
            cap = round(out.blocks[0].style.font_size * 1.25)  # type: ignore[union-attr]
            assert result.font_size is not None
            assert result.font_size >= min(naive, cap) * 0.9, (result.font_size, naive, cap)
        if result.status == "overflow":
            assert not changed.any() and result.lines == ()
        else:
            assert result.status == "ok" and changed.any()
            joined = " ".join(result.lines)
            assert joined.replace(" ", "") == text.replace(" ", "")


def test_overflow_leaves_the_block_blank() -> None:
    page, _ = make_page(["テスト"], _text("en", 200, random.Random(1)), size=(160, 120))
    out = render([page], OPTIONS, "en")[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "overflow"
    assert out.output is not None and np.array_equal(out.output, page.clean)


def test_short_text_is_capped_near_the_source_size() -> None:
    page, _ = make_page(["テスト"], "네", size=(400, 300), glyph=20)
    block = render([page], OPTIONS, "ko")[0].blocks[0]
    assert block.render is not None and block.style is not None
    assert block.render.status == "ok"
    assert block.render.font_size is not None
    assert block.render.font_size <= round(block.style.font_size * 1.25)


def test_skipped_and_untranslated_blocks_draw_nothing() -> None:
    from dataclasses import replace

    page, _ = make_page(["テスト"], None)
    out = render([page], OPTIONS, "ko")[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "untranslated"
    assert np.array_equal(out.output, page.clean)  # type: ignore[arg-type]
    noise = replace(page.blocks[0], translate=False, translation="무시")
    out = render([replace(page, blocks=(noise,))], OPTIONS, "ko")[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "skipped"
    assert np.array_equal(out.output, page.clean)  # type: ignore[arg-type]


def test_render_needs_clean() -> None:
    from dataclasses import replace

    page, _ = make_page(["テスト"], "네")
    with pytest.raises(ValueError, match="render needs page.clean: run the inpaint stage first"):
        render([replace(page, clean=None)], OPTIONS, "ko")
