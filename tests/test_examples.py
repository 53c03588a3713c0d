"""The example pages: reproducible, truthful ground truth, TM coverage, readable by the OCR."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAGES = EXAMPLES / "pages"
TRUTH = json.loads((PAGES / "ground_truth.json").read_text(encoding="utf-8"))


def normalise(text: str) -> str:
    """The TM key form: Unicode NFKC, runs of whitespace folded to one space, stripped."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read_tm() -> dict[str, str]:
    tm: dict[str, str] = {}
    for number, row in enumerate((EXAMPLES / "tm.tsv").read_text(encoding="utf-8").splitlines()):
        source, target = row.split("\t")
        key = normalise(source)
        assert key not in tm, f"duplicate TM source on line {number + 1}: {source!r}"
        tm[key] = target
    return tm


def all_blocks() -> list[dict]:  # type: ignore[type-arg]
    return [b for page in TRUTH.values() for b in page["blocks"]]


def test_make_pages_is_deterministic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(EXAMPLES / "make_pages.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in PAGES.iterdir())
    for name in TRUTH:
        with Image.open(PAGES / name) as a, Image.open(tmp_path / name) as b:
            assert a.mode == b.mode == "RGB"
            assert np.array_equal(np.asarray(a), np.asarray(b)), f"{name} differs from a rebuild"
    regenerated = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    assert regenerated == TRUTH


def test_pages_are_small_rgb_and_cover_three_scripts() -> None:
    assert len(TRUTH) >= 3
    for name, page in TRUTH.items():
        path = PAGES / name
        assert path.stat().st_size < 500_000
        with Image.open(path) as img:
            assert img.mode == "RGB"
            assert img.size == (page["width"], page["height"])
    langs = {b["lang"] for b in all_blocks()}
    assert langs == {"ja", "zh", "en"}
    assert {b["direction"] for b in all_blocks()} == {"horizontal", "vertical"}


def test_block_text_is_lines_joined_in_reading_order() -> None:
    for b in all_blocks():
        lines = [line["text"] for line in b["lines"]]
        sep = "" if b["lang"] in ("ja", "zh") else " "
        assert b["text"] == sep.join(lines)
        assert 1 <= len(lines) <= 3
        if b["direction"] == "vertical":  # columns read right to left
            lefts = [line["bbox"][0] for line in b["lines"]]
            assert lefts == sorted(lefts, reverse=True)
        else:  # lines read top to bottom
            tops = [line["bbox"][1] for line in b["lines"]]
            assert tops == sorted(tops)


def test_line_boxes_hold_all_the_text_ink() -> None:
    """Inside each balloon/caption, every text-coloured pixel lies in some line box."""
    for name, page in TRUTH.items():
        with Image.open(PAGES / name) as img:
            rgb = np.asarray(img).astype(int)
        for b in page["blocks"]:
            x0, y0, x1, y1 = b["container"]
            inner = rgb[y0 + 12 : y1 - 12, x0 + 12 : x1 - 12]
            luma = inner.mean(axis=2)
            dark_balloon = np.median(luma) < 128
            ink = luma > 200 if dark_balloon else luma < 60
            covered = np.zeros_like(ink)
            for line in b["lines"]:
                lx0, ly0, lx1, ly1 = line["bbox"]
                covered[
                    ly0 - y0 - 12 - 2 : ly1 - y0 - 12 + 2, lx0 - x0 - 12 - 2 : lx1 - x0 - 12 + 2
                ] = True
                assert (
                    ink[max(ly0 - y0 - 12, 0) : ly1 - y0 - 12, lx0 - x0 - 12 : lx1 - x0 - 12].sum()
                    > 50
                )
            # Ellipse edges inside the shrunk box are the only other dark pixels: bound them.
            stray = ink & ~covered
            core = np.zeros_like(ink)
            h, w = ink.shape
            core[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = True
            assert not (stray & core).any(), f"{name} block {b['id']}: text ink outside line boxes"


def test_every_block_text_has_a_korean_tm_entry() -> None:
    tm = read_tm()
    for b in all_blocks():
        target = tm.get(normalise(b["text"]))
        assert target, f"no TM entry for {b['text']!r}"
        assert any("\uac00" <= ch <= "\ud7a3" for ch in target)
    assert set(tm) == {normalise(b["text"]) for b in all_blocks()}  # no stale entries


@pytest.mark.slow
def test_rapidocr_reads_every_line_exactly() -> None:
    """The shipped PP-OCRv6 models read every ground-truth line back (NFKC-equal).

    Vertical columns are cropped and rotated 90 degrees counter-clockwise before
    recognition, as the imgtrans OCR stage does.
    """
    rapidocr = pytest.importorskip("rapidocr")
    engine = rapidocr.RapidOCR(
        params={
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        }
    )
    misread = []
    for name, page in TRUTH.items():
        with Image.open(PAGES / name) as img:
            rgb = np.asarray(img)
        for b in page["blocks"]:
            for line in b["lines"]:
                x0, y0, x1, y1 = line["bbox"]
                crop = rgb[y0 - 8 : y1 + 8, x0 - 8 : x1 + 8]
                if b["direction"] == "vertical":
                    crop = np.rot90(crop)  # counter-clockwise
                bgr = np.ascontiguousarray(crop[:, :, ::-1])
                out = engine(bgr, use_det=False, use_cls=False, use_rec=True)
                text = out.txts[0] if out.txts else ""
                if normalise(text) != normalise(line["text"]):
                    misread.append((name, line["text"], text))
    assert misread == []


def _gap(a: list[int], b: list[int]) -> int:
    """Largest axis gap between two boxes (0 when they overlap on both axes)."""
    return max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3], 0)


def test_blocks_are_far_apart_and_their_lines_close_together() -> None:
    """A simple grouping rule (lines closer than one line height form a block) finds them."""
    for name, page in TRUTH.items():
        blocks = page["blocks"]
        for b in blocks:
            boxes = [line["bbox"] for line in b["lines"]]
            thickness = min(min(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes)
            for first, second in zip(boxes, boxes[1:], strict=False):
                assert _gap(first, second) < thickness, (name, b["text"])
            for other in blocks:
                if other is not b:
                    assert _gap(b["bbox"], other["bbox"]) > 2.5 * thickness, (name, b["text"])
