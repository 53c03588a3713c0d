"""Golden images of whole lettered pages, compared with a tolerance (tests/imagecompare.py).

Regenerate after a deliberate change (new shipped fonts, new layout rule) with
``IMGTRANS_UPDATE_GOLDEN=1 pytest tests/test_render_golden.py`` and review the PNGs.
"""

from __future__ import annotations

from typing import Any

import pytest
from imagecompare import assert_matches_golden
from render_synth import make_page

from imgtrans.options import RenderOptions
from imgtrans.stages.render import render

SCENES: dict[str, tuple[str, dict[str, Any]]] = {
    "ko_ellipse": (
        "ko",
        {
            "lines": ["今日はいい天気ですね。", "散歩しませんか？"],
            "translation": "오늘은 날씨가 좋네요. 같이 산책하지 않을래요?",
        },
    ),
    "ja_vertical_dark": (
        "ja",
        {
            "lines": ["縦書きの", "テスト"],
            "translation": "「本当に？」それは……すごいね！",
            "vertical": True,
            "fill": (30, 30, 34),
            "border": (220, 220, 220),
            "text": (255, 255, 255),
            "page_bg": (40, 40, 90),
        },
    ),
    "en_outlined_caption": (
        "en",
        {
            "lines": ["キャプション"],
            "translation": "Meanwhile, at the harbour...",
            "balloon": False,
            "fill": (60, 120, 200),
            "text": (0, 0, 0),
            "outline": (255, 255, 255),
            "glyph": 30,
        },
    ),
    "ko_cloud_mixed": (
        "ko",
        {
            "lines": ["OK！", "行くぞ！"],
            "translation": "OK! 가자! 3분 안에 끝내자!",
            "shape": "cloud",
            "size": (320, 260),
        },
    ),
}


@pytest.mark.parametrize("name", list(SCENES))
def test_golden(name: str) -> None:
    lang, kwargs = SCENES[name]
    kw = dict(kwargs)
    page, _ = make_page(kw.pop("lines"), kw.pop("translation"), **kw)
    out = render([page], RenderOptions(), lang)[0]
    assert out.blocks[0].render is not None and out.blocks[0].render.status == "ok"
    assert out.output is not None
    assert_matches_golden(out.output, f"render_{name}")
