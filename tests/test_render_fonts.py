"""Font chain: every glyph checked, fallback along the chain, a clear error, fontconfig."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from render_synth import make_page

from imgtrans.errors import ExitCode, MissingFontError
from imgtrans.lettering import fonts
from imgtrans.lettering.fonts import FontChain, FontSpec, build_chain, shipped_fonts
from imgtrans.lettering.layout import Layout, Placed, draw_masks
from imgtrans.options import RenderOptions
from imgtrans.stages.render import font_chain, render

ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


def _subset(dest: Path, text: str) -> Path:
    source = shipped_fonts("ko")[0]
    font = TTFont(source.path, fontNumber=source.index)
    options = subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(text=text)
    sub.subset(font)
    font.save(dest)
    return dest


@pytest.fixture(scope="module")
def latin_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _subset(tmp_path_factory.mktemp("fonts") / "latin-only.otf", ASCII)


def test_fallback_draws_each_character_with_a_font_that_has_it(latin_only: Path) -> None:
    chain = build_chain((latin_only,), "en", system_fonts=False)
    assert chain.specs[0].origin == "user" and chain.specs[0].path == latin_only
    assert chain.runs("Hi 안녕!") == [(0, "Hi "), (1, "안녕"), (0, "!")]
    shape = (80, 260)
    line = Layout(40, 0, "horizontal", (Placed("Hi 안녕!", 5, 55),))
    drawn = draw_masks(line, shape, chain)[0]
    shipped = FontChain.of(shipped_fonts("ko")[:1], "ko", system_fonts=False)
    assert np.array_equal(drawn, draw_masks(line, shape, shipped)[0])
    # Drawing with the Latin-only font alone gives .notdef boxes: a different picture.
    tofu = FontChain.of([FontSpec(latin_only)], "en", system_fonts=False)
    assert not np.array_equal(drawn, draw_masks(line, shape, tofu)[0])


def test_character_no_font_covers_is_an_error_naming_it(latin_only: Path) -> None:
    chain = FontChain.of([FontSpec(latin_only)], "en", system_fonts=False)
    with pytest.raises(MissingFontError) as err:
        chain.covering("ok \ue000")
    message = str(err.value)
    assert "U+E000" in message and "--font PATH" in message and str(latin_only) in message
    assert err.value.code == ExitCode.MISSING_FONT


def test_target_script_is_checked_when_the_chain_is_built(
    latin_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(fonts, "shipped_font_dir", lambda: None)  # fonts package not installed
        assert build_chain((latin_only,), "en", system_fonts=False).specs == (FontSpec(latin_only),)
        with pytest.raises(MissingFontError, match="cannot draw ko text.*U\\+AC00"):
            build_chain((latin_only,), "ko", system_fonts=False)
    with pytest.raises(MissingFontError, match="not found"):
        build_chain((latin_only.with_name("absent.ttf"),), "ko")
    for lang in ("ko", "ja", "zh-Hans", "zh-Hant", "en", "fr"):
        chain = font_chain(RenderOptions(), lang)
        assert chain.specs and not chain.missing("Hello, world! 123")


def test_render_raises_for_an_uncoverable_character(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_fc_run", lambda args: [])  # a machine without fontconfig
    fonts.fontconfig_font_for.cache_clear()
    try:
        page, _ = make_page(["テスト"], "안녕 \U000f0001")
        with pytest.raises(MissingFontError, match="U\\+F0001"):
            render([page], RenderOptions(), "ko")
    finally:
        fonts.fontconfig_font_for.cache_clear()


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig not installed")
def test_fontconfig_extends_the_chain(latin_only: Path) -> None:
    found = fonts.fontconfig_font_for("한")
    if found is None:
        pytest.skip("no Hangul font known to fontconfig on this machine")
    assert found.origin == "fontconfig" and ord("한") in fonts._coverage(found.path, found.index)
    chain = FontChain.of([FontSpec(latin_only)], "en", system_fonts=True).covering("OK 한")
    assert chain.specs[-1] == found and chain.font_index("한") == len(chain.specs) - 1


def test_traditional_chinese_is_drawn_with_the_shipped_tc_font() -> None:
    chain = FontChain.of(shipped_fonts("zh-Hant"), "zh-Hant", system_fonts=False)
    assert chain.specs[0].path.name == "NotoSansTC-Bold-subset.otf"
    assert chain.missing("說這們圖書館裡發現了什麼") == []
