"""A balloon whose outline is open where its tail starts floods into its panel: the region of
the balloon's colour is then the panel, closed by the panel's frame. The translation stays
in and near the balloon, never centred in the middle of the panel; a balloon closed all
round still holds its text centred."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from render_synth import draw_balloon, draw_source_text
from test_render_fit import OPTIONS

from imgtrans.lettering.balloon import find_area, is_panel
from imgtrans.page import BBox, Page, TextBlock
from imgtrans.stages.render import render

BALLOON = (60, 40, 190, 100)  # x0, y0, x1, y1 of the small balloon inside the panel


def _panel_page(translation: str, closed: bool = False) -> Page:
    """A 480x320 page: a white panel framed by a thick black line, a small balloon near its
    top-left whose outline has a gap at the bottom and a single-line tail down into it."""
    clean = np.full((320, 480, 3), 255, np.uint8)
    cv2.rectangle(clean, (8, 8), (471, 311), (0, 0, 0), 4)  # the panel's frame
    x0, y0, x1, y1 = BALLOON
    centre, axes = ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2)
    if closed:
        cv2.ellipse(clean, centre, axes, 0, 0, 360, (0, 0, 0), 3)
    else:  # open from 75 to 105 degrees (the bottom), the tail a single line from there
        cv2.ellipse(clean, centre, axes, 0, 105, 435, (0, 0, 0), 3)
        cv2.line(clean, (centre[0], y1 + 2), (centre[0] + 15, 250), (0, 0, 0), 2)
    image = clean.copy()
    lines = draw_source_text(image, ["テスト"], centre, 18, (0, 0, 0))
    block = TextBlock(0, tuple(lines), "horizontal", translation=translation)
    return Page(Path("/x/p.png"), "p.png", "0" * 64, image, blocks=(block,), clean=clean)


def _drawn(page: Page) -> np.ndarray:
    assert page.output is not None and page.clean is not None
    return np.abs(page.output.astype(int) - page.clean.astype(int)).max(axis=2) > 0


def test_an_open_balloon_in_a_panel_keeps_its_text_near_it() -> None:
    page = _panel_page("안녕 친구")
    [out] = render([page], OPTIONS, "ko")
    r = out.blocks[0].render
    assert r is not None and r.status == "ok" and r.lines
    assert not r.balloon  # the region is the panel, not a balloon
    drawn = _drawn(out)
    ys, xs = np.nonzero(drawn)
    x0, y0, x1, y1 = BALLOON
    # Within the balloon (a few pixels of slack), not in the middle of the panel.
    assert xs.min() >= x0 - 4 and xs.max() <= x1 + 4
    assert ys.min() >= y0 - 4 and ys.max() <= y1 + 4
    assert r.area is not None and r.area.y1 <= y1 + 30 and r.area.x1 <= x1 + 30


def test_a_long_translation_in_an_open_balloon_stays_in_its_panel() -> None:
    page = _panel_page("오늘 우리는 바다에 가서 수영을 하고 맛있는 저녁을 먹었다")
    [out] = render([page], OPTIONS, "ko")
    r = out.blocks[0].render
    assert r is not None and r.status in ("ok", "overflow") and r.lines
    ys, xs = np.nonzero(_drawn(out))
    # Near the balloon: not past the frame, not at the far side of the panel.
    assert xs.min() >= 12 and ys.min() >= 12
    assert xs.max() <= BALLOON[2] + 120 and ys.max() <= BALLOON[3] + 120


def test_a_closed_balloon_in_a_panel_is_still_a_balloon() -> None:
    page = _panel_page("안녕 친구", closed=True)
    [out] = render([page], OPTIONS, "ko")
    r = out.blocks[0].render
    assert r is not None and r.status == "ok" and r.balloon
    ys, xs = np.nonzero(_drawn(out))
    x0, y0, x1, y1 = BALLOON
    assert xs.min() > x0 and xs.max() < x1 and ys.min() > y0 and ys.max() < y1


def test_a_big_balloon_with_little_text_is_not_a_panel() -> None:
    """An ellipse with no straight sides stays a balloon however short its text."""
    clean = np.full((260, 480, 3), 150, np.uint8)
    region = draw_balloon(clean, "ellipse", (10, 10, 470, 250), (255, 255, 255), (0, 0, 0))
    assert not is_panel(region, BBox(200, 100, 260, 140).grow(48, 480, 260))
    area = find_area(clean, BBox(200, 100, 260, 140), 24)
    assert area.balloon and area.bbox.width > 300


def test_art_inside_a_region_is_never_lettered_over() -> None:
    """A figure standing in the region (larger than a glyph) is no inpainting residue: it
    is not filled into the area, and no glyph lands on it."""
    from render_synth import make_page

    words = "오늘 우리는 바다에 가서 수영을 하고 맛있는 저녁을 먹었다 그리고 별을 보았다"
    page, _ = make_page(["テスト"], words, size=(420, 300), balloon_box=(10, 10, 410, 290))
    assert page.clean is not None
    figure = np.zeros(page.clean.shape[:2], np.uint8)
    cv2.circle(figure, (300, 150), 28, 1, 3)  # a head drawn beside the text
    cv2.line(figure, (300, 178), (300, 240), 1, 3)
    for img in (page.clean, page.image):
        img[figure > 0] = 0
    cv2.circle(figure, (300, 150), 28, 1, -1)  # the inside of the head is no place either
    [out] = render([page], OPTIONS, "ko")
    r = out.blocks[0].render
    assert r is not None and r.status == "ok" and r.lines
    drawn = _drawn(out)
    assert drawn.any() and not (drawn & (cv2.dilate(figure, np.ones((3, 3))) > 0)).any()


def _region_page(
    region: np.ndarray, source: str, centre: tuple[int, int], translation: str
) -> Page:
    """A white balloon of the shape ``region`` (0/1), outlined in black on grey, holding
    ``source`` (22 px) at ``centre``, with ``translation`` to letter."""
    clean = np.full((*region.shape, 3), 150, np.uint8)
    edge = cv2.dilate(region, np.ones((7, 7), np.uint8)) - region
    clean[edge > 0] = 0
    clean[region > 0] = 255
    image = clean.copy()
    lines = draw_source_text(image, [source], centre, 22, (0, 0, 0))
    block = TextBlock(0, tuple(lines), "horizontal", translation=translation)
    return Page(Path("/x/p.png"), "p.png", "0" * 64, image, blocks=(block,), clean=clean)


def test_an_uneven_area_holds_its_text_centred_on_the_source() -> None:
    """An L-shaped balloon (a thin arm above a wide foot, the text in the foot): lines
    centred on the area's middle fall in the arm and never fit; centred on the source text
    they fit, and the block is not lettered past its balloon."""
    region = np.zeros((300, 240), np.uint8)
    region[20:280, 20:44] = 1
    region[150:280, 20:220] = 1
    page = _region_page(region, "テストです", (130, 215), "오늘 우리는 바다에 가서")
    [out] = render([page], OPTIONS, "ko")
    r = out.blocks[0].render
    assert r is not None and r.status == "ok" and r.lines
    ys, xs = np.nonzero(_drawn(out))
    assert ys.min() >= 150 and ys.max() < 280 and xs.min() >= 20 and xs.max() < 220


def test_a_word_too_wide_for_the_middle_fits_where_the_area_is_widest() -> None:
    """An upside-down T balloon, the text in its narrow stem: centred on the area or on
    the source, the word is wider than the stem; centred on the widest line it fits."""
    region = np.zeros((270, 180), np.uint8)
    region[218:250, 20:160] = 1
    region[20:218, 70:110] = 1
    page = _region_page(region, "尚", (90, 120), "furthermore")
    [out] = render([page], OPTIONS, "en")
    r = out.blocks[0].render
    assert r is not None and r.status == "ok" and r.lines == ("furthermore",)
    ys, xs = np.nonzero(_drawn(out))
    assert ys.min() >= 218 and ys.max() < 250 and xs.min() >= 20 and xs.max() < 160
