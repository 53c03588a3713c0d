"""One balloon, one block: lines of one balloon or caption together, two balloons apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_JA, FONT_KO, cer
from PIL import Image, ImageDraw, ImageFont

from imgtrans.ocr.blocks import build_blocks, group_lines
from imgtrans.page import Page, TextLine
from imgtrans.stages.ocr import OcrEngine


def page(image: Image.Image) -> Page:
    return Page(Path("b.png"), "b.png", "0" * 64, np.asarray(image.convert("RGB")).copy())


def column(
    d: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    size: int = 34,
    fill: tuple[int, int, int] = (0, 0, 0),
) -> None:
    font = ImageFont.truetype(str(FONT_JA), size)
    d.text(xy, text, font=font, fill=fill, direction="ttb", features=["vert"])


def test_a_small_balloon_joined_to_a_big_one_is_its_own_block(ocr_engine: OcrEngine) -> None:
    """No outline between them: the small balloon's column starts well below the others."""
    img = Image.new("RGB", (560, 480), (150, 150, 150))
    d = ImageDraw.Draw(img)
    d.ellipse((250, 20, 520, 440), fill="white", outline="black", width=4)
    d.ellipse((190, 170, 330, 390), fill="white", outline="black", width=4)
    d.ellipse((254, 24, 516, 436), fill="white")  # the two interiors run into each other
    column(d, (410, 70), "腰の銃で撃つ")
    column(d, (365, 70), "脳みそを")
    column(d, (320, 70), "ぶちまけるか")
    column(d, (276, 215), "あっ？")
    [out] = ocr_engine([page(img)])
    texts = [b.text for b in out.blocks]
    assert len(texts) == 2, texts
    assert cer(texts[0], "腰の銃で撃つ脳みそをぶちまけるか") <= 0.1
    assert cer(texts[1], "あっ？") <= 0.34


def test_a_two_line_caption_is_one_block(ocr_engine: OcrEngine) -> None:
    img = Image.new("RGB", (520, 260), (40, 40, 40))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 40, 470, 200), fill=(240, 225, 180), outline="black", width=3)
    font = ImageFont.truetype(str(FONT_KO), 44)
    d.text((150, 62), "MOMENTS", font=font, fill="black")
    d.text((160, 122), "LATER...", font=font, fill="black")
    [out] = ocr_engine([page(img)])
    assert [cer(b.text, "MOMENTS LATER...") <= 0.15 for b in out.blocks] == [True], [
        b.text for b in out.blocks
    ]


def box(x0: float, y0: float, x1: float, y1: float, text: str) -> TextLine:
    return TextLine(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), text, 0.99)


def test_words_of_one_row_split_by_the_detector_are_one_block_in_order() -> None:
    lines = [
        box(479, 98, 616, 139, "YORK"),
        box(322, 94, 458, 141, "NEW"),
        box(647, 99, 876, 141, "EVENING"),
        box(330, 300, 520, 340, "Elsewhere"),  # another caption far below
    ]
    groups = group_lines(lines)
    assert [[ln.text for ln in g] for g in groups] == [["NEW", "YORK", "EVENING"], ["Elsewhere"]]


def test_a_column_s_first_glyph_read_alone_joins_its_column() -> None:
    """A first column of one character (面 / 見せてみろ): its squarish box reads as a
    horizontal line. A single glyph has no direction of its own: it joins the column."""
    from imgtrans.ocr.blocks import build_blocks

    img = Image.new("RGB", (300, 300), "white")
    d = ImageDraw.Draw(img)
    column(d, (190, 40), "面", size=32)
    column(d, (150, 40), "見せてみろ", size=32)
    glyph = TextLine(((186, 36), (226, 36), (226, 76), (186, 76)), "面", 0.99, "horizontal")
    rest = TextLine(((146, 36), (188, 36), (188, 206), (146, 206)), "見せてみろ", 0.99, "vertical")
    blocks, _ = build_blocks([rest, glyph], 0.5, np.asarray(img))
    assert [(b.text, b.direction) for b in blocks] == [("面見せてみろ", "vertical")]
    # Side by side with a column of another balloon, a lone glyph stays its own block.
    far = TextLine(((20, 36), (60, 36), (60, 76), (20, 76)), "あ", 0.99, "horizontal")
    blocks, _ = build_blocks([rest, far], 0.5, np.asarray(img))
    assert len(blocks) == 2


def test_a_line_read_smaller_than_its_neighbours_stays_in_their_block() -> None:
    """A half-misread line gets a box a little lower than the others (11 px against 18):
    still one balloon."""
    lines = [
        box(553, 7, 632, 20, "AGAIN I MUST"),
        box(553, 18, 633, 31, "CONTEND THAT"),
        box(553, 28, 622, 46, "THERE AINT"),
        box(556, 43, 610, 54, "NO SUCH"),
    ]
    assert len(group_lines(lines)) == 1


def test_lines_read_surely_in_two_scripts_are_two_blocks() -> None:
    """A ticket's station name over its transliteration, a brand name over Chinese copy:
    two texts (each then goes out in its own language). A Latin misread (low confidence)
    inside a Japanese balloon still joins it."""
    from dataclasses import replace

    name = box(160, 140, 460, 210, "南丰站")
    latin = box(225, 215, 390, 262, "Nanfeng")
    blocks, _ = build_blocks([name, latin], 0.5)
    assert [b.text for b in blocks] == ["南丰站", "Nanfeng"]
    caption = box(160, 215, 460, 270, "南昌站的朋友")
    blocks, _ = build_blocks([name, caption], 0.5)
    assert [b.text for b in blocks] == ["南丰站南昌站的朋友"]  # one script: one block
    misread = replace(latin, text="our", confidence=0.52)
    blocks, _ = build_blocks([name, misread], 0.5)
    assert [b.text for b in blocks] == ["南丰站our"]


def test_a_few_letters_of_another_script_read_unsurely_are_not_translated() -> None:
    """A stick figure read as "ORX" (0.54) on a Chinese page is a drawing: kept as drawn,
    with the reason. Sure readings, and pages with no sure reading, are left alone."""
    from dataclasses import replace

    chinese = box(80, 20, 300, 50, "我不应该这么做")
    figure = replace(box(480, 850, 530, 930, "ORX"), confidence=0.54)
    sure = box(400, 300, 470, 330, "OK")
    blocks, _ = build_blocks([chinese, figure, sure], 0.5)
    by_text = {b.text: b for b in blocks}
    assert not by_text["ORX"].translate and "drawing" in (by_text["ORX"].note or "")
    assert by_text["OK"].translate and by_text["我不应该这么做"].translate
    alone = replace(chinese, confidence=0.6)  # nothing sure on the page: no page script
    blocks, _ = build_blocks([alone, figure], 0.5)
    assert all(b.translate for b in blocks)


@pytest.mark.parametrize(
    ("right", "blocks"), [((40, 150, 40), 2), ((200, 40, 40), 1)], ids=["green-red", "red-red"]
)
def test_columns_in_clearly_different_colours_are_two_blocks(
    ocr_engine: OcrEngine, right: tuple[int, int, int], blocks: int
) -> None:
    """An ad's slogans side by side, one green, one red: two texts. The same two columns
    in one colour are one block (a balloon's columns)."""
    img = Image.new("RGB", (300, 420), "white")
    d = ImageDraw.Draw(img)
    column(d, (170, 30), "先领卷后购物", 40, (200, 40, 40))
    column(d, (110, 30), "巨额优惠卷免", 40, right)
    [out] = ocr_engine([page(img)])
    assert len(out.blocks) == blocks, [b.text for b in out.blocks]
