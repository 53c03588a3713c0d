"""Fit: balloons of many shapes, texts of many lengths. No pixel ever lands outside the
balloon (unless it overflows); a text that a simple rectangle would hold at the minimum size
never overflows; an overflow is lettered past the balloon, never left blank."""

from __future__ import annotations

import math
import random
from pathlib import Path

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
        # Never outside the balloon interior (unless it overflows), never outside the
        # recorded area.
        assert result.status == "overflow" or not (changed & ~region).any(), (shape, lang, n)
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
        assert result.status in ("ok", "overflow") and changed.any() and result.lines
        joined = " ".join(result.lines)
        assert joined.replace(" ", "") == text.replace(" ", "")


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
    assert not np.array_equal(page.image, page.clean)  # erased before the translation came
    out = render([page], OPTIONS, "ko")[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "untranslated"
    # No translation: the source is put back, never left erased and empty.
    assert np.array_equal(out.output, page.image)  # type: ignore[arg-type]
    noise = replace(page.blocks[0], translate=False, translation="무시")
    out = render([replace(page, blocks=(noise,))], OPTIONS, "ko")[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "skipped"
    assert np.array_equal(out.output, page.image)  # type: ignore[arg-type]  # left as drawn


def test_render_needs_clean() -> None:
    from dataclasses import replace

    page, _ = make_page(["テスト"], "네")
    with pytest.raises(ValueError, match="render needs page.clean: run the inpaint stage first"):
        render([replace(page, clean=None)], OPTIONS, "ko")


def _two_block_page(second_translate: bool = True):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from render_synth import draw_balloon, draw_source_text

    from imgtrans.page import Page, TextBlock

    clean = np.full((260, 480, 3), 150, np.uint8)
    region = draw_balloon(clean, "ellipse", (10, 10, 470, 250), (255, 255, 255), (0, 0, 0))
    image = clean.copy()
    left = draw_source_text(image, ["ひだり"], (150, 130), 24, (0, 0, 0))
    right = draw_source_text(image, ["みぎ"], (340, 130), 24, (0, 0, 0))
    blocks = (
        TextBlock(0, tuple(left), "horizontal", translation="왼쪽 말풍선에 들어갈 긴 문장입니다"),
        TextBlock(
            1, tuple(right), "horizontal", translate=second_translate, translation="오른쪽 문장"
        ),
    )
    # Only translated blocks are erased: keep the skipped block's source pixels.
    base = clean.copy()
    if not second_translate:
        box = blocks[1].bbox
        base[box.y0 : box.y1, box.x0 : box.x1] = image[box.y0 : box.y1, box.x0 : box.x1]
    page = Page(Path("/x/p.png"), "p.png", "0" * 64, image, blocks=blocks, mask=None, clean=base)
    return page, region


def test_two_blocks_in_one_balloon_do_not_overlap() -> None:
    page, region = _two_block_page()
    out = render([page], OPTIONS, "ko")[0]
    results = [b.render for b in out.blocks]
    assert all(r is not None and r.status == "ok" for r in results)
    # No mask on the page: colours were measured under the line polygons.
    assert all(b.style is not None and b.style.text_color == (0, 0, 0) for b in out.blocks)
    a0, a1 = results[0].area, results[1].area  # type: ignore[union-attr]
    assert a0 is not None and a1 is not None
    assert a0.x1 <= a1.x0  # each block keeps to its own side of the balloon
    changed = np.abs(out.output.astype(int) - page.clean.astype(int)).max(axis=2) > 0  # type: ignore[union-attr]
    assert changed[:, : a0.x1].any() and changed[:, a1.x0 :].any()
    assert not (changed & ~region).any()


def test_a_skipped_block_is_never_drawn_over() -> None:
    page, _ = _two_block_page(second_translate=False)
    out = render([page], OPTIONS, "ko")[0]
    assert out.blocks[1].render is not None and out.blocks[1].render.status == "skipped"
    box = out.blocks[1].bbox
    kept = out.output[box.y0 : box.y1, box.x0 : box.x1]  # type: ignore[index]
    assert np.array_equal(kept, page.clean[box.y0 : box.y1, box.x0 : box.x1])  # type: ignore[index]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "ok"


def test_block_poking_out_of_the_image_is_clipped() -> None:
    from dataclasses import replace

    page, _ = make_page(["テスト"], "가장자리", balloon=False, size=(200, 120))
    line = page.blocks[0].lines[0]
    (_, y0), (x1, _), (_, y1) = line.polygon[0], line.polygon[1], line.polygon[2]
    poking = replace(line, polygon=((-15.0, y0), (x1, y0), (x1, y1), (-15.0, y1)))
    page = replace(page, blocks=(replace(page.blocks[0], lines=(poking,)),))
    result = render([page], OPTIONS, "ko")[0].blocks[0].render
    assert result is not None and result.status == "ok" and result.area is not None
    assert result.area.x0 >= 0


@pytest.mark.parametrize(
    ("tm", "status"),
    [("Hello\t안녕\n", "untranslated"), ("Hello\t안녕\nBridge\tBRIDGE\n", "skipped")],
    ids=["no-translation", "source-text-handed-back"],
)
def test_a_block_left_as_drawn_keeps_its_source_text(tmp_path: Path, tm: str, status: str) -> None:
    """A translation memory without the text, or a translation that is the source text (a
    name, a code): that block stays as drawn. It used to be erased with the others, before
    the translations came, and then left blank or lettered again."""
    import json

    from drawing import FONT_KO, Text, draw, save
    from PIL import Image
    from typer.testing import CliRunner

    from imgtrans.cli import app

    source = draw(400, 240, [Text("Hello", (24, 24), 40, font=FONT_KO),
                             Text("Bridge", (24, 160), 40, font=FONT_KO)])  # fmt: skip
    save(source, tmp_path / "in" / "a.png")
    (tmp_path / "tm.tsv").write_text(tm, "utf-8")
    args = ["translate", tmp_path / "in", "--to", "ko", "--tm", tmp_path / "tm.tsv"]
    result = CliRunner().invoke(app, [*map(str, [*args, "-o", tmp_path / "out"]), "-j", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "a.imgtrans.json").read_text("utf-8"))
    renders = {b["text"]: b["render"] for b in doc["blocks"]}
    assert {k: r["status"] for k, r in renders.items()} == {"Hello": "ok", "Bridge": status}
    if status == "skipped":
        assert renders["Bridge"]["reason"] == "the translation is the source text: left as drawn"
    out = np.asarray(Image.open(tmp_path / "out" / "a.png").convert("RGB"))
    assert np.array_equal(out[140:240], source[140:240])  # "Bridge" as it was
    assert not np.array_equal(out[:130], source[:130])  # "Hello" lettered as 안녕
