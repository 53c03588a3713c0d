"""Mask stage: stroke-level masks (glyphs, not polygons), marks that go with a block."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from imgtrans.options import InpaintOptions, MaskOptions
from imgtrans.page import Direction, Page, TextBlock, TextLine
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import mask as mask_stage
from imgtrans.stages.mask import text_mask


def box_line(
    x0: int, y0: int, x1: int, y1: int, text: str = "x", direction: Direction = "horizontal"
) -> TextLine:
    return TextLine(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), text, 0.99, direction)


def one_block_page(img: np.ndarray, *lines: TextLine) -> Page:
    block = TextBlock(0, lines, lines[0].direction)
    return Page(Path("m.png"), "m.png", "0" * 64, img, blocks=(block,))


def masked(page: Page) -> np.ndarray:
    [out] = mask_stage([page], MaskOptions(dilate=3))
    assert out.mask is not None
    return out.mask > 0


def test_textured_background_keeps_its_texture_between_the_strokes() -> None:
    """Text over a coloured, striped picture: only the strokes (grown) are erased."""
    img = np.zeros((120, 320, 3), np.uint8)
    img[:, :] = (200, 120, 40)
    img[::5] = (150, 80, 20)  # texture
    img[:, ::7] = (220, 160, 90)
    cv2.putText(img, "TAG", (40, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 4)
    glyphs = np.all(img == 255, axis=2)
    page = one_block_page(img, box_line(20, 25, 230, 105, "TAG"))
    strokes = masked(page)
    polygon = text_mask(page, 3) > 0
    assert strokes[glyphs].all()  # every glyph pixel goes
    assert strokes.sum() < 0.6 * polygon.sum()  # but far from the whole polygon
    [out] = Inpainter(InpaintOptions(inpainter="opencv"))(mask_stage([page], MaskOptions()))
    assert out.clean is not None
    kept = polygon & ~strokes
    assert (out.clean[kept] == img[kept]).all()  # the texture between the glyphs is untouched
    filled = out.clean[glyphs].astype(np.int16)
    # Erased strokes take the tag's colours, not white smeared around.
    assert np.abs(filled - np.array((200, 120, 40))).max(axis=1).mean() < 60


def balloon_with_column() -> tuple[np.ndarray, np.ndarray, np.ndarray, TextLine]:
    """A white balloon with a vertical column, ruby beside it, and its black outline."""
    img = np.full((260, 220, 3), 255, np.uint8)
    img[:, :] = 150
    cv2.ellipse(img, (110, 130), (90, 120), 0, 0, 360, (255, 255, 255), -1)
    outline = np.zeros((260, 220), np.uint8)
    cv2.ellipse(outline, (110, 130), (90, 120), 0, 0, 360, 1, 3)
    img[outline > 0] = 0
    for y in range(50, 200, 36):  # glyph-like blocks in a column, 28 px tall
        cv2.rectangle(img, (96, y), (122, y + 26), (0, 0, 0), 3)
        cv2.line(img, (96, y + 13), (122, y + 13), (0, 0, 0), 3)
    ruby = np.zeros((260, 220), np.uint8)
    for y in (55, 75):  # small kana beside the column, outside its polygon
        cv2.rectangle(ruby, (130, y), (138, y + 9), 1, 2)
    img[ruby > 0] = 0
    column = box_line(90, 44, 128, 206, "漢字漢字漢", "vertical")
    return img, outline, ruby, column


def test_ruby_beside_a_column_goes_with_it_and_the_outline_stays() -> None:
    img, outline, ruby, column = balloon_with_column()
    page = one_block_page(img, column)
    strokes = masked(page)
    assert strokes[ruby > 0].all()
    assert not strokes[outline > 0].any()
    [out] = Inpainter(InpaintOptions(inpainter="opencv"))(mask_stage([page], MaskOptions()))
    assert out.blocks[0].inpaint_path == "flat" and out.clean is not None
    assert (out.clean[outline > 0] == 0).all()  # outline intact
    inner = np.zeros((260, 220), np.uint8)
    cv2.ellipse(inner, (110, 130), (84, 114), 0, 0, 360, 1, -1)
    assert (out.clean[inner > 0] == 255).all()  # nothing of the text or ruby left


def test_a_glyph_poking_out_of_its_polygon_is_erased_whole() -> None:
    img = np.full((120, 200, 3), 255, np.uint8)
    cv2.putText(img, "Hg", (50, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    ink = np.all(img < 128, axis=2)
    page = one_block_page(img, box_line(45, 35, 130, 78, "Hg"))  # the g's tail pokes out below
    assert ink[80:].any()
    assert masked(page)[ink].all()


def test_low_contrast_text_falls_back_to_the_polygon() -> None:
    img = np.full((80, 200, 3), 128, np.uint8)
    cv2.putText(img, "faint", (30, 55), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (145, 145, 145), 2)
    page = one_block_page(img, box_line(25, 20, 160, 65, "faint"))
    assert (masked(page) == (text_mask(page, 3) > 0)).all()


def test_blocks_not_to_translate_are_not_masked() -> None:
    img, _, _, column = balloon_with_column()
    page = Page(
        Path("m.png"),
        "m.png",
        "0" * 64,
        img,
        blocks=(TextBlock(0, (column,), "vertical", translate=False, note="sound effect"),),
    )
    assert not masked(page).any()


def test_glyphs_run_into_art_of_their_colour_fall_back_to_the_polygon() -> None:
    """White text touching a white bar that runs out of the polygon: the strokes cannot be
    told from the art, so the whole polygon goes (no half-erased glyphs left behind)."""
    img = np.full((160, 300, 3), 90, np.uint8)
    cv2.putText(img, "SHINE", (30, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4)
    img[:, 40:48] = 255  # a highlight down through the S
    glyphs = np.all(img == 255, axis=2)
    page = one_block_page(img, box_line(25, 60, 205, 108, "SHINE"))
    strokes = masked(page)
    assert (strokes == (text_mask(page, 3) > 0)).all()
    assert strokes[60:108][glyphs[60:108]].all()


@pytest.mark.parametrize("dilate", [1, 3, 4, 7, 8, 12])
def test_polygon_mask_grows_by_a_disc_of_the_dilate_radius(dilate: int) -> None:
    """Small radii dilate by a kernel, big ones threshold a distance transform (the kernel
    is that transform's disc): the same pixels either way."""
    rng = np.random.default_rng(dilate)
    img = np.zeros((90, 140, 3), np.uint8)
    lines = [
        box_line(*(int(v) for v in (x, y, x + w, y + h)))
        for x, y, w, h in rng.integers((5, 5, 3, 3), (100, 60, 30, 20), (3, 4))
    ]
    page = one_block_page(img, *lines)
    polygons = text_mask(page, 0) > 0
    if dilate <= 3:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1,) * 2)
        expected = cv2.dilate(polygons.astype(np.uint8), kernel) > 0
    else:
        off = np.where(polygons, 0, 1).astype(np.uint8)
        expected = cv2.distanceTransform(off, cv2.DIST_L2, 3) <= dilate
    assert ((text_mask(page, dilate) > 0) == expected).all()
