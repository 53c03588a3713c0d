"""A block is never erased and left empty; words shrink before they break.

Too long for its balloon at the legible minimum -> lettered past it on a backing of the
balloon's colour (``overflow``); too long even for that -> the source is put back (``kept``).
Only a word wider than every line at the minimum size is split, and the sidecar says so.
"""

from __future__ import annotations

import random

import numpy as np
from render_synth import make_page
from test_render_fit import EN, OPTIONS

from imgtrans import sidecar
from imgtrans.lettering.linebreak import atoms, wrap
from imgtrans.lettering.overflow import legible_minimum
from imgtrans.stages.render import render

RUN = sidecar.RunInfo("t", {}, "tm", "0" * 64, "opencv", "ja", "en")


def _long(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(EN) for _ in range(n))


def test_legible_minimum_follows_the_page_but_not_past_the_source() -> None:
    assert legible_minimum(1170, 1654, 10, 30) == 10  # 0.8 % of 1170 is under 10 px
    assert legible_minimum(4000, 3000, 10, 40) == 32  # a big scan: 0.8 % of its height
    assert legible_minimum(4000, 3000, 10, 14) == 14  # never above the source glyphs
    assert legible_minimum(19332, 690, 10, 40) == 10  # a strip: read a screen at a time
    assert legible_minimum(100, 100, 10, 6) == 10  # the floor holds


def test_a_word_is_split_only_when_no_line_holds_it() -> None:
    def unit(s: str) -> float:
        return float(len(s))

    # The word fits the second line: it goes there whole, or the text does not fit at all.
    assert wrap(atoms("verylongword", "en"), [5.0, 20.0], unit) is None
    assert wrap(atoms("a verylongword", "en"), [5.0, 20.0], unit) == ["a", "verylongword"]
    # Wider than every line: split, Latin with a hyphen.
    lines = wrap(atoms("verylongword", "en"), [6.0] * 4, unit)
    assert lines == ["veryl-", "ongwo-", "rd"]


def test_overflow_is_lettered_past_the_balloon_on_its_colour() -> None:
    text = _long(45)
    page, region = make_page(["テスト"], text, size=(420, 300), balloon_box=(150, 110, 270, 190))
    out = render([page], OPTIONS, "en")[0]
    result = out.blocks[0].render
    assert result is not None and out.output is not None and page.clean is not None
    assert result.status == "overflow" and result.reason and "past it" in result.reason
    assert " ".join(result.lines).split() == text.split()  # all of it, words whole
    assert result.backing is not None and result.font_size is not None and result.font_size >= 10
    changed = np.abs(out.output.astype(int) - page.clean.astype(int)).max(axis=2) > 0
    assert (changed & ~region).any()  # past the balloon
    b = result.backing
    plate = out.output[b.y0 : b.y1, b.x0 : b.x1]
    assert (plate == 255).all(axis=2).mean() > 0.5  # on white, the balloon's colour
    ys, xs = np.nonzero(changed)
    assert b.x0 <= xs.min() and xs.max() < b.x1 and b.y0 <= ys.min() and ys.max() < b.y1
    doc = sidecar.page_json(out, RUN, "p.png", "ok")
    sidecar.validate(doc)
    assert doc["blocks"][0]["render"]["backing"] == b.as_list()


def test_kept_when_nothing_can_hold_it_the_source_is_put_back() -> None:
    page, _ = make_page(["テスト"], _long(400), size=(160, 120))
    out = render([page], OPTIONS, "en")[0]
    result = out.blocks[0].render
    assert result is not None and out.output is not None
    assert result.status == "kept" and result.lines == ()
    assert result.reason is not None and "source left as it was" in result.reason
    assert np.array_equal(out.output, page.image)  # the source, not an erased blank
    doc = sidecar.page_json(out, RUN, "p.png", "ok")
    sidecar.validate(doc)
    assert doc["blocks"][0]["render"]["status"] == "kept"


def test_words_shrink_before_they_break_in_a_narrow_balloon() -> None:
    text = "선생님은 오늘은 그렇게 고마워 정말"
    page, _ = make_page(
        ["テスト"], text, size=(200, 320), balloon_box=(60, 20, 140, 300), vertical=True
    )
    out = render([page], OPTIONS, "ko")[0]
    result = out.blocks[0].render
    assert result is not None and result.status == "ok"
    assert " ".join(result.lines).split() == text.split()
    assert result.split_words == ()


def test_a_word_wider_than_the_balloon_is_split_and_recorded() -> None:
    word = "Supercalifragilisticexpialidocious"
    page, _ = make_page(["テスト"], word, size=(200, 320), balloon_box=(60, 20, 140, 300))
    out = render([page], OPTIONS, "en")[0]
    result = out.blocks[0].render
    assert result is not None and result.status == "ok" and len(result.lines) > 1
    assert result.split_words == (word,)
    assert all(line.endswith("-") for line in result.lines[:-1])
    assert "".join(line.removesuffix("-") for line in result.lines) == word
    doc = sidecar.page_json(out, RUN, "p.png", "ok")
    sidecar.validate(doc)
    assert doc["blocks"][0]["render"]["split_words"] == [word]


def test_a_caption_without_balloon_takes_the_flat_background_around_it() -> None:
    text = _long(30, seed=3)
    page, _ = make_page(
        ["テスト"], text, size=(480, 360), balloon_box=(200, 160, 280, 200), balloon=False
    )
    out = render([page], OPTIONS, "en")[0]
    result = out.blocks[0].render
    assert result is not None and out.output is not None and page.clean is not None
    assert result.status == "ok" and result.backing is None
    assert result.reason is not None and "flat background" in result.reason
    assert " ".join(result.lines).split() == text.split()
    box = out.blocks[0].bbox
    assert result.area is not None and result.area.width > box.width + 40
