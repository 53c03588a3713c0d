"""Line breaking: Korean keeps words whole, kinsoku for Japanese/Chinese, Latin at spaces."""

from __future__ import annotations

import random

import pytest
from render_synth import make_page

from imgtrans.lettering.fonts import build_chain
from imgtrans.lettering.layout import LINE_PITCH
from imgtrans.lettering.linebreak import NO_END, NO_START, atoms, clusters, wrap
from imgtrans.options import RenderOptions
from imgtrans.stages.render import render

KO_WORDS = [
    "나는",
    "오늘",
    "아침에",
    "학교에",
    "가다가",
    "길에서",
    "오랜만에",
    "친구를",
    "만났다",
    "우리는",
    "함께",
    "커피를",
    "마시면서",
    "지난",
    "여름",
    "방학",
    "이야기를",
    "나누었다",
    "정말로",
    "즐거운",
    "시간이었어요",
    "하지만",
    "갑자기",
    "비가",
    "내리기",
    "시작해서",
    "서둘러",
    "집으로",
    "돌아가야만",
    "했습니다",
    "대한민국특별자치도청소년수련원",
    "괜찮아?",
    "뭐라고!",
]


def _unit(s: str) -> float:
    return float(len(s))


def test_korean_and_latin_break_only_at_spaces() -> None:
    text = "오늘은 날씨가 정말 좋네요. 같이 공원에 산책하러 가지 않을래요?"
    lines = wrap(atoms(text, "ko"), [9.0] * 10, _unit)
    assert lines is not None and " ".join(lines) == text
    en = "The quick brown fox jumps over the lazy dog again"
    lines = wrap(atoms(en, "en"), [12.0] * 10, _unit)
    assert lines is not None and " ".join(lines) == en
    assert all(len(ln) <= 12 for ln in lines)


def test_only_a_word_longer_than_the_line_breaks_between_syllables() -> None:
    text = "짧은 대한민국특별자치도청소년수련원 말"
    lines = wrap(atoms(text, "ko"), [6.0] * 10, _unit)
    assert lines is not None
    assert lines[0] == "짧은" and lines[-1].endswith("말")
    assert "".join(lines[1:]).replace(" ", "").startswith("대한민국특별자치도청소년수련원")
    assert wrap(atoms(text, "ko"), [6.0] * 10, _unit, split=False) is None


@pytest.mark.parametrize(
    "text",
    [
        "「それで、いいの？」わたしはそう言った。",
        "ちょっと待って！もう一度やってみよう……",
        "キャッチボールしようぜ、ジョッキー。",
        "我们今天去公园玩吧，好不好？（真的吗）",
        "『ほんとうに』そうなのか？ええ、そうよ。",
    ],
)
@pytest.mark.parametrize("width", [3.0, 4.0, 5.0, 7.0])
@pytest.mark.parametrize("phrases", [False, True])
def test_kinsoku(text: str, width: float, phrases: bool) -> None:
    lang = "zh-Hans" if "我" in text else "ja"
    lines = wrap(atoms(text, lang, phrases=phrases), [width] * 40, _unit)
    assert lines is not None and "".join(lines) == text
    for line in lines[1:]:
        assert line[0] not in NO_START, lines
    for line in lines[:-1]:
        assert line[-1] not in NO_END, lines


def test_clusters_keep_latin_runs_and_repeated_marks() -> None:
    assert clusters("OK！？ABC123だよ……") == ["OK！？", "ABC123", "だ", "よ……"]


def _fits_one_line(word: str, size: int, width: float, chain: object) -> bool:
    font = chain.font(chain.font_index(word[0]) or 0, size)  # type: ignore[attr-defined]
    return float(font.getlength(word)) <= width


@pytest.mark.parametrize("seed", range(6))
def test_rendered_korean_lines_never_end_inside_a_word_that_fits(seed: int) -> None:
    rng = random.Random(seed)
    words = rng.sample(KO_WORDS, rng.randint(3, 14))
    translation = " ".join(words)
    w, h = rng.choice([(220, 200), (300, 160), (180, 260)])
    page, _ = make_page(["テスト"], translation, shape="ellipse", size=(w, h), glyph=26)
    block = render([page], RenderOptions(), "ko")[0].blocks[0]
    result = block.render
    assert result is not None and result.status == "ok", result
    assert " ".join(result.lines).split() != [] and "".join(result.lines).replace(
        " ", ""
    ) == translation.replace(" ", "")
    chain = build_chain((), "ko")
    assert result.area is not None and result.font_size is not None
    width = result.area.width
    # Every token of a rendered line is a whole word unless that word cannot fit a line.
    for token in " ".join(result.lines).split():
        if token in words:
            continue
        owner = next(wd for wd in words if token in wd)
        assert not _fits_one_line(owner, result.font_size, width, chain), (token, result.lines)
    assert result.font_size * LINE_PITCH * len(result.lines) <= result.area.height + 1


@pytest.mark.parametrize("lang", ["ko", "ja", "en"])
def test_a_newline_in_the_translation_forces_a_break(lang: str) -> None:
    text = {"ko": "첫 줄\n둘째 줄", "ja": "一行目\n二行目です", "en": "one\ntwo three"}[lang]
    lines = wrap(atoms(text, lang), [40.0] * 5, _unit)
    assert lines == text.split("\n")
    page, _ = make_page(["テスト"], text, size=(360, 260))
    result = render([page], RenderOptions(), lang)[0].blocks[0].render
    assert result is not None and list(result.lines) == text.split("\n")
