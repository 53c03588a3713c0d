"""The benchmark scripts run end to end in a tiny configuration, so they cannot rot.

Timing numbers are not asserted (a benchmark, not a timed test); what is asserted is that
each script finishes, prints its report, and that what it reports is consistent with the
corpus it drew (ground truth read back, every image translated and written).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

from corpus import SENTENCES, make_corpus, split_text  # noqa: E402
from ocr import bag_f1, char_bag  # noqa: E402


def _run(script: str, *args: str, tmp: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--work", str(tmp)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_corpus_is_deterministic_and_truthful(tmp_path: Path) -> None:
    a = make_corpus(tmp_path / "a", 1, 1, seed=3, small=True)
    b = make_corpus(tmp_path / "b", 1, 1, seed=3, small=True)
    for x, y in zip(a.images, b.images, strict=True):
        assert x.read_bytes() == y.read_bytes()
    assert a.truth.read_bytes() == b.truth.read_bytes()
    truth = json.loads(a.truth.read_text(encoding="utf-8"))
    assert truth["spread_000.jpg"]["width"] == 1654 and truth["spread_000.jpg"]["height"] == 1170
    assert truth["strip_000.jpg"]["width"] == 690 and truth["strip_000.jpg"]["height"] == 4833
    tm = dict(row.split("\t") for row in a.tm.read_text(encoding="utf-8").splitlines())
    blocks = [blk for page in truth.values() for blk in page["blocks"]]
    assert len(blocks) >= 8
    known = dict(SENTENCES)
    for blk in blocks:
        assert blk["text"] == "".join(line["text"] for line in blk["lines"])
        assert tm[blk["text"]] == known[blk["text"]]
        assert 2 <= len(blk["lines"]) <= 4 or blk["direction"] == "horizontal"
    assert any(blk["kind"] == "balloon" and blk["direction"] == "vertical" for blk in blocks)


def test_split_text_keeps_order() -> None:
    assert split_text("今日はいい天気だね", 3) == ["今日は", "いい天", "気だね"]
    assert "".join(split_text("もう時間がない", 4)) == "もう時間がない"


def test_bag_f1() -> None:
    truth = {"a": char_bag(["今日は"])}
    assert bag_f1(truth, {"a": char_bag(["今日は"])}) == (1.0, 1.0, 1.0)
    p, r, f = bag_f1(truth, {"a": Counter("今日x")})
    assert (p, r) == (2 / 3, 2 / 3) and f == pytest.approx(2 / 3)
    assert bag_f1(truth, {})[2] == 0.0


@pytest.mark.slow
def test_ocr_benchmark_runs(tmp_path: Path) -> None:
    out = _run(
        "ocr.py", "--spreads", "1", "--strips", "0", "--no-cli", "--jobs", "1",
        "--torch-device", "cpu", "--torch-batches", "1", "--repeat", "1", tmp=tmp_path,
    )  # fmt: skip
    assert re.search(r"imgtrans api \(in-process\)\s+[\d.]+\s+[\d.]+", out), out
    assert re.search(r"rapidocr\s+[\d.]+", out), out
    # Both read the drawn spread nearly perfectly: the ratio compares equal work.
    for who in ("imgtrans", "rapidocr"):
        f1 = float(re.search(rf"{who}\s+spreads\s+[\d.]+\s+[\d.]+\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        assert f1 >= 0.9, out
    assert re.search(r"det\s+1\s+704x960", out) and "lines/s" in out, out


@pytest.mark.slow
def test_pipeline_benchmark_runs(tmp_path: Path) -> None:
    out = _run("pipeline.py", "--spreads", "1", "--jobs", "1", "--batch-size", "2", tmp=tmp_path)
    assert "images 1/1 done, 0 failed" in out, out
    stages = re.search(r"stage ms/image: (.*)", out).group(1)  # type: ignore[union-attr]
    ms = {k: int(v) for k, v in re.findall(r"([a-z+]+) (\d+)", stages)}
    assert set(ms) >= {"load", "ocr", "mask", "inpaint", "translate", "render", "write"}, out
    # Every stage that touches the pixels of a page with 16 blocks takes at least a millisecond;
    # a stage that was never timed prints 0. (The TM lookup may round to 0.)
    for stage in ("load", "ocr", "mask", "inpaint", "render", "write"):
        assert ms[stage] > 0, out
    assert re.search(r"inpaint paths: (flat|opencv) \d+", out), out
    assert re.search(r"GPU util (n/a|\d+% mean)", out), out
    written = list((tmp_path / "out_pipelined").rglob("*.jpg"))
    assert len(written) == 1
