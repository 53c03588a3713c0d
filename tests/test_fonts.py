"""The shipped fonts: coverage, vertical-writing features, drawing, reproducible build."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont, features

FONTS = Path(__file__).resolve().parent.parent / "fonts"
KR = FONTS / "NotoSansKR-Bold-subset.otf"
JP = FONTS / "NotoSansJP-Bold-subset.otf"
SC = FONTS / "NotoSansSC-Bold-subset.otf"
TC = FONTS / "NotoSansTC-Bold-subset.otf"

PRINTABLE_ASCII = [chr(c) for c in range(0x20, 0x7F)]
KANA = [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)]
# Kanji taught in the first school year in Japan, plus a few everyday ones.
COMMON_KANJI = (
    "一右雨円王音下火花貝学気九休玉金空月犬見五口校左三山子四糸字耳七車手十出女小上森人水"
    "正生青夕石赤千川先早草足村大男竹中虫町天田土二日入年白八百文木本名目立力林六"
    "私何今言思行来話時間会食飲帰待逃走誰俺僕君彼絶対"
)
COMMON_HANZI = "我你他她们这那说吗呢的是了不在有个来去对为什么时候没关系谢请问帮忙快走开门"
COMMON_TRADITIONAL = (
    "我你他她們這那說嗎呢的是了不在有個來去對為什麼時候沒關係謝請問幫忙快走開門圖書館"
)
PUNCT = "、。，．！？「」『』（）…ー〜・"


@cache
def cmap(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def feature_tags(path: Path, table: str) -> set[str]:
    with TTFont(path) as font:
        return {rec.FeatureTag for rec in font[table].table.FeatureList.FeatureRecord}


def missing(path: Path, chars: list[str] | str) -> list[str]:
    have = cmap(path)
    return [c for c in chars if ord(c) not in have]


def test_fonts_folder_holds_fonts_licence_and_stays_small() -> None:
    for path in (KR, JP, SC, TC, FONTS / "OFL.txt", FONTS / "README.md"):
        assert path.is_file(), path
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONTS / "OFL.txt").read_text(encoding="utf-8")
    total = sum(p.stat().st_size for p in FONTS.iterdir() if p.is_file())
    assert total < 15 * 1024 * 1024


def test_kr_font_covers_every_hangul_syllable_and_ascii() -> None:
    syllables = [chr(c) for c in range(0xAC00, 0xD7A4)]
    assert len(syllables) == 11172
    assert missing(KR, syllables) == []
    assert missing(KR, PRINTABLE_ASCII) == []
    jamo = [chr(c) for c in range(0x3131, 0x318F)]
    assert missing(KR, jamo) == []
    assert missing(KR, PUNCT + "’“”—–·«»é") == []


def test_jp_and_sc_fonts_cover_kana_kanji_and_punctuation() -> None:
    for path in (JP, SC, TC):
        assert missing(path, KANA) == []
        assert missing(path, PRINTABLE_ASCII) == []
        assert missing(path, PUNCT) == []
    assert missing(JP, COMMON_KANJI) == []
    assert missing(SC, COMMON_HANZI) == []
    assert missing(TC, COMMON_TRADITIONAL) == []


def test_jp_font_holds_all_jis_x_0208_kanji() -> None:
    kanji: list[str] = []
    for row in range(16, 85):
        for cell in range(1, 95):
            try:
                kanji.append(bytes([0xA0 + row, 0xA0 + cell]).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    assert len(kanji) == 6355
    assert missing(JP, kanji) == []


@pytest.mark.parametrize("path", [KR, JP, SC, TC], ids=lambda p: p.name)
def test_vertical_and_kerning_features_are_kept(path: Path) -> None:
    gsub = feature_tags(path, "GSUB")
    gpos = feature_tags(path, "GPOS")
    assert {"vert", "vrt2"} <= gsub
    assert {"kern", "vkrn", "vpal", "palt"} <= gpos
    with TTFont(path, lazy=True) as font:
        assert {"vhea", "vmtx", "VORG"} <= set(font.keys())


def ink(img: Image.Image) -> np.ndarray:
    return np.asarray(img) < 128


def draw(font_path: Path, text: str, **kwargs: object) -> np.ndarray:
    font = ImageFont.truetype(str(font_path), 48)
    img = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(img).text((20, 20), text, font=font, fill=0, **kwargs)  # type: ignore[arg-type]
    return ink(img)


def test_hangul_renders_distinct_glyphs_with_ink() -> None:
    a, b = draw(KR, "한국어"), draw(KR, "글자다")
    assert a.sum() > 500 and b.sum() > 500
    assert (a != b).sum() > 500  # distinct glyphs, not one repeated .notdef box
    # A character the font lacks (a kanji) falls to .notdef: different from real Hangul.
    notdef = draw(KR, "漢")
    assert not np.array_equal(notdef, draw(KR, "한"))


def bbox_shape(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


@pytest.mark.skipif(not features.check("raqm"), reason="vertical text needs Pillow with raqm")
@pytest.mark.parametrize("path", [JP, SC], ids=lambda p: p.name)
def test_vert_feature_gives_vertical_forms_in_pillow(path: Path) -> None:
    # The long-vowel mark is a wide, flat bar; its vertical form is tall and narrow.
    h, w = bbox_shape(draw(path, "ー"))
    assert w > 3 * h
    vh, vw = bbox_shape(draw(path, "ー", direction="ttb", features=["vert"]))
    assert vh > 3 * vw
    # Vertical text stacks characters: a column taller than wide.
    ch, cw = bbox_shape(draw(path, "日本語", direction="ttb", features=["vert"]))
    assert ch > 2 * cw


def _load_builder() -> object:
    spec = importlib.util.spec_from_file_location("build_fonts", FONTS / "build_fonts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_fonts"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kr_font_build_is_reproducible(tmp_path: Path) -> None:
    builder = _load_builder()
    if not builder.SOURCE_TTC.is_file():  # type: ignore[attr-defined]
        pytest.skip("Debian fonts-noto-cjk is not installed")
    spec = builder.font_specs()[0]  # type: ignore[attr-defined]
    assert spec.filename == KR.name
    out = builder.build_font(spec, tmp_path)  # type: ignore[attr-defined]
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(KR.read_bytes()).digest()
    licence = builder.write_licence(tmp_path)  # type: ignore[attr-defined]
    assert licence.read_bytes() == (FONTS / "OFL.txt").read_bytes()
