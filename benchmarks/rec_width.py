"""REC_MIN_WIDTH on real pages: recognition CPU time and what is read, per minimum width.

    python benchmarks/rec_width.py [--widths 320 96] [--rounds 2] [--json FILE]

Runs imgtrans's OCR engine (onnxruntime, one thread) over the ``../shared/devset`` images
with the recognition width ladder starting at each width (``imgtrans.ocr.recognize``
computes its ladder from ``REC_MIN_WIDTH`` at import; this script rebuilds it per width).
Prints per width: CPU seconds spent in the recogniser (``rec_best``) and in the whole OCR
call, the lines whose text differs from the first width's, bag-of-characters agreement
with the first width on every page, and precision/recall/F1 against the OpenMantra
ground truth (``openmantra_ground_truth.json``: the Japanese text of every speech balloon)
on the five OpenMantra pages. ``--rounds`` alternates the widths and keeps each one's
fastest time (a shared CPU is noisy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from ocr import bag_f1, char_bag  # noqa: E402

DEVSET = ROOT.parent / "shared" / "devset"


class TimedBackend:
    """Wraps an OcrBackend; sums the CPU time of ``rec_best`` calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rec_s = 0.0

    def det(self, batch: np.ndarray) -> np.ndarray:
        return self.inner.det(batch)  # type: ignore[no-any-return]

    def cls(self, batch: np.ndarray) -> np.ndarray:
        return self.inner.cls(batch)  # type: ignore[no-any-return]

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = time.process_time()
        try:
            return self.inner.rec_best(batch)  # type: ignore[no-any-return]
        finally:
            self.rec_s += time.process_time() - start


def read_all(pages: list[Any], width: int, backend: TimedBackend) -> tuple[dict, float]:  # type: ignore[type-arg]
    from imgtrans.ocr import recognize
    from imgtrans.options import OcrOptions
    from imgtrans.stages.ocr import OcrEngine

    recognize.REC_MIN_WIDTH = width
    recognize.WIDTH_LADDER = recognize._width_ladder()
    engine = OcrEngine(OcrOptions(), backend, batch_size=1)
    start = time.process_time()
    lines = {}
    for page in pages:
        [done] = engine([page])
        lines[page.rel_path] = [ln.text for b in done.blocks for ln in b.lines]
    return lines, time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[320, 96])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (DEVSET / "images").is_dir():
        raise SystemExit(f"dev set not found at {DEVSET}")
    from imgtrans.models.ppocr_onnx import OnnxOcrBackend
    from imgtrans.stages.preprocess import load_page

    paths = sorted(p for p in (DEVSET / "images").iterdir() if p.is_file())
    pages = [load_page(p, p.name, 400_000_000) for p in paths]
    inner = OnnxOcrBackend(intra_op_threads=1)
    best: dict[int, tuple[float, float]] = {}
    reads: dict[int, dict] = {}  # type: ignore[type-arg]
    for _ in range(args.rounds):
        for width in args.widths:
            backend = TimedBackend(inner)
            lines, total = read_all(pages, width, backend)
            reads[width] = lines
            old = best.get(width, (1e9, 1e9))
            best[width] = (min(old[0], backend.rec_s), min(old[1], total))
    truth_doc = json.loads((DEVSET / "openmantra_ground_truth.json").read_text("utf-8"))
    truth = {
        Path(p["file"]).name: char_bag(t["text_ja"] for t in p["text"]) for p in truth_doc["pages"]
    }
    ref = args.widths[0]
    ref_bags = {k: char_bag(v) for k, v in reads[ref].items()}
    result = {}
    n_pages = len(pages)
    print(f"{n_pages} dev-set pages, {sum(len(v) for v in reads[ref].values())} lines at {ref}")
    print("| min width | rec CPU ms/page | OCR CPU ms/page | lines differing | agreement F1 | "
          "OpenMantra P / R / F1 |\n| ---: | ---: | ---: | ---: | ---: | --- |")  # fmt: skip
    for width in args.widths:
        bags = {k: char_bag(v) for k, v in reads[width].items()}
        diff = sum(
            a != b for k in reads[ref] for a, b in zip(reads[ref][k], reads[width][k], strict=False)
        ) + sum(abs(len(reads[ref][k]) - len(reads[width][k])) for k in reads[ref])
        agree = bag_f1(ref_bags, bags)[2]
        p, r, f1 = bag_f1(truth, {k: bags.get(k, Counter()) for k in truth})
        rec_ms, ocr_ms = (1000 * s / n_pages for s in best[width])
        result[width] = {"rec_ms": rec_ms, "ocr_ms": ocr_ms, "differing": diff,
                         "agreement_f1": agree, "openmantra": [p, r, f1]}  # fmt: skip
        print(f"| {width} | {rec_ms:.0f} | {ocr_ms:.0f} | {diff} | {agree:.4f} | "
              f"{p:.3f} / {r:.3f} / {f1:.3f} |")  # fmt: skip
    for k in reads[ref]:
        for a, b in zip(reads[ref][k], reads[args.widths[-1]][k], strict=False):
            if a != b:
                print(f"  {k}: {a!r} -> {b!r}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
