"""OCR stage on pages drawn with the shipped fonts: what was drawn must be read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_JA, FONT_KO, FONT_ZH, Text, cer, draw

from imgtrans.errors import MissingModelError
from imgtrans.ocr.blocks import detect_language
from imgtrans.ocr.detect import plan_page
from imgtrans.ocr.recognize import crop_line, recognise
from imgtrans.options import OcrOptions
from imgtrans.page import Page
from imgtrans.stages.ocr import OcrEngine, check_source_language


def page(image: np.ndarray, name: str = "p.png") -> Page:
    return Page(Path(name), name, "0" * 64, image)


def test_horizontal_lines_are_read_and_grouped_top_to_bottom(ocr_engine: OcrEngine) -> None:
    img = draw(
        900,
        500,
        [
            Text("Where are you going?", (40, 40), 34, font=FONT_KO),
            Text("Wait for me, please!", (40, 88), 34, font=FONT_KO),
            Text("The station is closed.", (480, 380), 30, font=FONT_KO),
        ],
    )
    [out] = ocr_engine([page(img)])
    assert out.source_lang == "en"
    texts = [b.text for b in out.blocks]
    assert len(texts) == 2, texts
    assert cer(texts[0], "Where are you going? Wait for me, please!") <= 0.1
    assert cer(texts[1], "The station is closed.") <= 0.1
    assert all(b.direction == "horizontal" for b in out.blocks)


def test_vertical_japanese_columns_read_right_to_left(ocr_engine: OcrEngine) -> None:
    right, left = "今日は晴れです", "明日は雨でしょう"
    img = draw(
        600,
        600,
        [
            Text(right, (420, 60), 40, vertical=True),
            Text(left, (360, 60), 40, vertical=True),
            Text("静かな夜", (100, 80), 40, vertical=True),
        ],
    )
    [out] = ocr_engine([page(img)])
    assert out.source_lang == "ja"
    assert [b.direction for b in out.blocks] == ["vertical", "vertical"]
    # Manga order: the right-hand balloon first; within it the right column first.
    assert cer(out.blocks[0].text, right + left) <= 0.08
    assert cer(out.blocks[1].text, "静かな夜") <= 0.08


SENTENCES = [
    "吾輩は猫である",
    "名前はまだ無い",
    "どこで生れたかとんと見当がつかぬ",
    "何でも薄暗いじめじめした所",
    "ニャーニャー泣いていた事だけは記憶している",
    "私はその人を常に先生と呼んでいた",
    "海水浴に行った友達",
    "東京の空は青かった",
    "電車が駅に着きました",
    "小さな声で話してください",
    "明日の朝に会いましょう",
    "雨が降りそうですね",
]


def test_vertical_japanese_set_reaches_cer_008(ocr_engine: OcrEngine) -> None:
    """Synthetic vertical Japanese columns (issue B: CER <= 0.08)."""
    truth = "".join(SENTENCES)
    read = []
    for start in range(0, len(SENTENCES), 6):
        chunk = SENTENCES[start : start + 6]
        texts = [Text(s, (1040 - 170 * i, 30), 36, vertical=True) for i, s in enumerate(chunk)]
        [out] = ocr_engine([page(draw(1120, 900, texts))])
        read.extend(b.text for b in out.blocks)
        assert all(b.direction == "vertical" for b in out.blocks)
    assert cer("".join(read), truth) <= 0.08


def test_chinese_is_detected_as_zh(ocr_engine: OcrEngine) -> None:
    img = draw(700, 200, [Text("我们明天去北京开会", (30, 60), 40, font=FONT_ZH)])
    [out] = ocr_engine([page(img)])
    assert out.source_lang == "zh"
    assert cer(out.blocks[0].text, "我们明天去北京开会") <= 0.1


def test_page_number_is_kept_but_not_translated(ocr_engine: OcrEngine) -> None:
    img = draw(
        600,
        400,
        [
            Text("Good morning!", (40, 40), 36, font=FONT_KO),
            Text("12", (560, 360), 26, font=FONT_KO),
        ],
    )
    [out] = ocr_engine([page(img)])
    flags = {b.text: b.translate for b in out.blocks}
    assert flags.get("12") is False
    assert any(t for t, f in flags.items() if f and cer(t, "Good morning!") <= 0.1)


def test_batch_of_pages_maps_back_to_each_page(ocr_engine: OcrEngine) -> None:
    words = ["Apple pie", "Blue ocean", "Cold winter night"]
    pages = [
        page(draw(500 + 60 * i, 200 + 40 * i, [Text(w, (30, 50), 36, font=FONT_KO)]), f"{i}.png")
        for i, w in enumerate(words)
    ]
    outs = ocr_engine(pages)
    for out, word in zip(outs, words, strict=True):
        assert len(out.blocks) == 1
        assert cer(out.blocks[0].text, word) <= 0.1


def test_recognition_is_the_same_alone_and_padded_in_a_batch(ocr_engine: OcrEngine) -> None:
    """PP-OCRv6 small gives identical strings padded to the widest crop of its bucket."""
    lines = [
        "短い",
        "これは少し長い文です",
        "Hello",
        "A much longer English line for padding",
        "東京",
        "42 apples",
        "そうですか",
        "Thank you very much",
        "大丈夫だよ",
        "Let's go home",
    ]
    crops = []
    for text in lines:
        font = FONT_KO if text.isascii() else FONT_JA
        img = draw(40 * len(text) + 60, 80, [Text(text, (20, 15), 40, font=font)])
        box = np.array(
            [[10, 8], [img.shape[1] - 10, 8], [img.shape[1] - 10, 72], [10, 72]], np.float32
        )
        crops.append(crop_line(img, box).image)
    backend, charset = ocr_engine.backend, ocr_engine.charset
    alone = [recognise([c], backend.rec_best, charset, 1)[0][0] for c in crops]
    batched = [t for t, _ in recognise(crops, backend.rec_best, charset, len(crops))]
    assert alone == batched
    assert sum(cer(a, t) for a, t in zip(alone, lines, strict=True)) / len(lines) <= 0.1


def test_tall_strip_is_tiled_and_a_line_across_a_seam_is_read_once(ocr_engine: OcrEngine) -> None:
    plan = plan_page(6000, 500, 960)
    assert plan.scale == 1.0 and len(plan.tiles) > 1
    seam = plan.tiles[0][0] + plan.tiles[0][2]  # bottom edge of the first tile
    texts = [
        Text("Seam crossing line", (40, seam - 20), 36, font=FONT_KO),
        Text("Top of the strip", (40, 100), 36, font=FONT_KO),
        Text("Far down below", (40, 5600), 36, font=FONT_KO),
    ]
    [out] = ocr_engine([page(draw(500, 6000, texts))])
    read = [b.text for b in out.blocks]
    for truth in ("Seam crossing line", "Top of the strip", "Far down below"):
        hits = [t for t in read if cer(t, truth) <= 0.15]
        assert len(hits) == 1, (truth, read)


def test_huge_scan_keeps_small_print_readable() -> None:
    plan = plan_page(8000, 8000, 960)
    assert plan.scale >= 0.45  # 8000 px page detected at >= 3600 px, in tiles
    assert all(h <= 960 and w <= 960 for _, _, h, w in plan.tiles)
    covered = np.zeros((plan.height, plan.width), bool)
    for y0, x0, h, w in plan.tiles:
        covered[y0 : y0 + h, x0 : x0 + w] = True
    assert covered.all()


def test_korean_source_is_refused_with_the_missing_model_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(tmp_path))  # no Korean model fetched there
    with pytest.raises(MissingModelError, match="Hangul"):
        check_source_language("ko")
    with pytest.raises(MissingModelError):
        OcrEngine(OcrOptions(source_lang="ko"), backend=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("texts", "lang"),
    [
        (["こんにちは", "東京"], "ja"),
        (["我们明天见"], "zh"),
        (["Hello there"], "en"),
        (["안녕하세요"], "ko"),
        (["東京タワー"], "ja"),
        (["...", "!!"], None),
    ],
)
def test_language_decision_from_scripts(texts: list[str], lang: str | None) -> None:
    assert detect_language(texts) == lang


def test_upside_down_line_is_turned_by_the_orientation_classifier(ocr_engine: OcrEngine) -> None:
    img = draw(700, 200, [Text("Turn me around please", (40, 70), 40, font=FONT_KO)])
    [out] = ocr_engine([page(np.ascontiguousarray(img[::-1, ::-1]))])
    assert len(out.blocks) == 1
    assert cer(out.blocks[0].text, "Turn me around please") <= 0.1


def test_columns_of_two_balloons_side_by_side_stay_apart(ocr_engine: OcrEngine) -> None:
    """Columns close enough to be one block, but a balloon outline runs between them."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (520, 420), (200, 200, 200))
    d = ImageDraw.Draw(img)
    d.ellipse((250, 20, 420, 400), fill="white", outline="black", width=4)
    d.ellipse((90, 20, 262, 400), fill="white", outline="black", width=4)
    font = ImageFont.truetype(str(FONT_JA), 34)
    d.text((330, 90), "窓の外を見て", font=font, fill="black", direction="ttb", features=["vert"])
    d.text((285, 90), "ごらん", font=font, fill="black", direction="ttb", features=["vert"])
    d.text((202, 90), "早く逃げて", font=font, fill="black", direction="ttb", features=["vert"])
    d.text((157, 90), "ください", font=font, fill="black", direction="ttb", features=["vert"])
    [out] = ocr_engine([page(np.asarray(img).copy())])
    texts = [b.text for b in out.blocks]
    assert len(texts) == 2, texts
    assert cer(texts[0], "窓の外を見てごらん") <= 0.1 and cer(texts[1], "早く逃げてください") <= 0.1
