"""Sound effects and title art: kept as drawn by default (--sfx keep), lettered on request."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from drawing import FONT_KO, save
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.ocr.sfx import NOTE, keep_sfx
from imgtrans.page import TextBlock, TextLine

runner = CliRunner()


def art_page() -> np.ndarray:
    """Busy coloured artwork, a white balloon with dialogue, big outlined BOOM on the art."""
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, :] = (120, 170, 210)
    rng = np.random.default_rng(3)
    for _ in range(200):
        p = rng.integers(0, [640, 480], size=(2, 2))
        colour = tuple(int(v) for v in rng.integers(60, 230, 3))
        cv2.line(img, tuple(map(int, p[0])), tuple(map(int, p[1])), colour, int(rng.integers(3, 9)))
    cv2.ellipse(img, (420, 110), (170, 70), 0, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(img, (420, 110), (170, 70), 0, 0, 360, (0, 0, 0), 3)
    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    d.text((320, 92), "Where are you?", font=ImageFont.truetype(str(FONT_KO), 26), fill=(0, 0, 0))
    big = ImageFont.truetype(str(FONT_KO), 110)
    d.text(
        (60, 280), "BOOM", font=big, fill=(250, 230, 40), stroke_width=6, stroke_fill=(20, 20, 20)
    )
    return np.asarray(pil).copy()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sfx")
    save(art_page(), root / "in" / "p.png")
    (root / "tm.tsv").write_text("Where are you?\t어디 있어?\nBOOM\t쾅\n", encoding="utf-8")
    return root


def translate(root: Path, out: str, *extra: str) -> tuple[dict[str, dict], np.ndarray]:
    args = ["translate", root / "in", "--to", "ko", "--tm", root / "tm.tsv", "-o", root / out]
    result = runner.invoke(app, [str(a) for a in [*args, "-j", "1", *extra]])
    assert result.exit_code == 0, result.output
    doc = json.loads((root / out / "p.imgtrans.json").read_text("utf-8"))
    blocks = {b["text"]: b for b in doc["blocks"]}
    return blocks, np.asarray(Image.open(root / out / "p.png").convert("RGB"))


def test_sound_effect_over_art_is_kept_as_drawn_by_default(pages: Path) -> None:
    blocks, out = translate(pages, "keep")
    boom, line = blocks["BOOM"], blocks["Where are you?"]
    assert boom["translate"] is False and boom["note"] == NOTE
    assert boom["translation"] is None and boom["render"]["status"] == "skipped"
    x0, y0, x1, y1 = boom["bbox"]
    source = art_page()
    assert (out[y0:y1, x0:x1] == source[y0:y1, x0:x1]).all()  # not erased, not lettered
    assert line["translate"] is True and line["render"]["status"] == "ok"


def test_sfx_translate_erases_and_letters_it(pages: Path) -> None:
    blocks, out = translate(pages, "translate", "--sfx", "translate")
    boom = blocks["BOOM"]
    assert boom["translate"] is True and boom["translation"] == "쾅"
    assert boom["render"]["status"] == "ok"
    x0, y0, x1, y1 = boom["bbox"]
    assert (out[y0:y1, x0:x1] != art_page()[y0:y1, x0:x1]).any(axis=2).mean() > 0.1


def line(x0: int, y0: int, x1: int, y1: int, text: str) -> TextLine:
    return TextLine(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), text, 0.99)


def test_large_text_on_a_flat_background_or_like_its_page_is_translated() -> None:
    """A big heading on a flat page is not art; big text among text as big is not either."""
    img = np.full((600, 800, 3), 255, np.uint8)
    heading = TextBlock(0, (line(100, 40, 700, 140, "SALE"),), "horizontal")
    small = TextBlock(1, (line(100, 300, 400, 330, "today only"),), "horizontal")
    assert [b.translate for b in keep_sfx([heading, small], img)] == [True, True]
    noisy = np.random.default_rng(1).integers(0, 255, (600, 800, 3)).astype(np.uint8)
    assert [b.translate for b in keep_sfx([heading, small], noisy)] == [False, True]
    twin = TextBlock(2, (line(100, 400, 700, 500, "BIG TOO"),), "horizontal")
    assert [b.translate for b in keep_sfx([heading, twin], noisy)] == [True, True]
