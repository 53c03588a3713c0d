"""benchmarks/quality.py: runs on a tiny generated folder, and its counts mean what they say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from drawing import FONT_JA, Text, draw, save

from imgtrans.page import RenderResult, TextBlock, TextLine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import quality  # noqa: E402


def _block(translation: str, lines: tuple[str, ...]) -> TextBlock:
    render = RenderResult("ok", 12, lines)
    line = TextLine(((0, 0), (10, 0), (10, 10), (0, 10)), "x", 0.9)
    return TextBlock(0, (line,), "horizontal", translation=translation, render=render)


def test_word_fragments_counts_pieces_of_words() -> None:
    counts = quality.Counts()
    quality.word_fragments(
        _block("closed-eyes for a bodyguard?", ("closed-eyes", "for a bodygu", "ard?")), counts
    )
    assert (counts.tokens, counts.fragments) == (5, 2)
    whole = quality.Counts()
    quality.word_fragments(_block("“오늘은 날씨가 좋네”", ("“오늘은", "날씨가 좋네”")), whole)
    assert (whole.tokens, whole.fragments) == (3, 0)


def test_recorded_splits_are_not_fragments() -> None:
    block = _block("Supercalifragilistic day", ("Supercalif-", "ragilistic day"))
    block = replace(block, render=replace(block.render, split_words=("Supercalifragilistic",)))
    counts = quality.Counts()
    quality.word_fragments(block, counts)
    assert (counts.tokens, counts.fragments, counts.splits) == (3, 0, 2)


def test_filler_is_real_words_of_realistic_length() -> None:
    text = quality.filler("page:3:ko", 40, "ko")
    assert 40 <= len(text) < 60 and set(text.split()) <= set(quality.KO_WORDS)
    assert text == quality.filler("page:3:ko", 40, "ko")
    assert set(quality.filler("x", 25, "en").split()) <= set(quality.EN_WORDS)


def test_share_splits_one_reference_between_blocks_in_order() -> None:
    a = _block("", ("",))
    b = TextBlock(1, a.lines, "horizontal")
    shared = quality._share("one two three four", [a, b])
    assert shared == {0: "one two", 1: "three four"}


def test_quality_runs_on_a_tiny_folder(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    page = draw(
        420,
        300,
        [Text("今日はいい天気", (300, 30), 30, vertical=True, font=FONT_JA)],
    )
    save(page, folder / "images" / "manga.png")
    truth = {
        "pages": [
            {
                "file": "images/manga.png",
                "text": [{"x": 290, "y": 20, "w": 50, "h": 250, "text_en": "nice weather today"}],
            }
        ]
    }
    (folder / quality.GROUND_TRUTH).write_text(json.dumps(truth), encoding="utf-8")
    out = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "quality.py"),
            str(folder),
            "--json",
            str(out),
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ko, en = json.loads(out.read_text(encoding="utf-8"))
    assert (ko["target"], en["target"]) == ("ko", "en")
    for summary in (ko, en):
        assert summary["pages"] == 1 and summary["blocks"] == 1
        assert summary["blank"] == 0 and summary["overflow"] == 0
        assert summary["tokens"] >= 3 and summary["fragments"] == 0
        assert summary["residue_share"] < 0.5
    assert en["from_reference"] == 1 and ko["from_reference"] == 0
    doc = json.loads((tmp_path / "out" / "manga.en.imgtrans.json").read_text(encoding="utf-8"))
    [block] = doc["blocks"]
    assert block["translation"] == "nice weather today"
    assert " ".join(block["render"]["lines"]).split() == ["nice", "weather", "today"]
    assert (tmp_path / "out" / "manga.ko.jpg").is_file()
    assert "TOTAL --to ko" in proc.stdout and "TOTAL --to en" in proc.stdout
