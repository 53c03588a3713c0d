"""OCR benchmark: ``imgtrans ocr`` against rapidocr's own pipeline, same images, same models.

    python benchmarks/ocr.py [--spreads 8] [--strips 1] [--small] [--rounds 1]
                             [--batch-size 4] [--jobs 0]
                             [--rapidocr-matched] [--profile] [--no-cli] [--torch-device cuda]

Both sides run PaddleOCR PP-OCRv6 small det + rec and the v2 orientation classifier, the
ONNX files inside the installed rapidocr wheel, on onnxruntime's CPU provider with its
default thread count. One run prints, on the synthetic corpus of benchmarks/corpus.py:

- imgtrans as users run it: the CLI in a subprocess (cold: interpreter, imports, models,
  worker pool), and in-process through ``imgtrans.ocr_images`` split into model loading and
  processing (steady state);
- rapidocr: ``RapidOCR()`` plus its first call (startup: it loads models lazily), then every
  image once (steady state);
- seconds, images/s and the ratio imgtrans/rapidocr (> 1: imgtrans faster);
- what each read: bag-of-characters precision/recall/F1 against the drawn ground truth
  (NFKC, whitespace dropped; lines with confidence >= 0.5 on both sides, rapidocr's own
  ``text_score``), so the speed comparison is between tools that read the same text.

rapidocr runs with its defaults (det short side >= 736, long side <= 2000 before detection),
which is what its users get; ``--rapidocr-matched`` sets its detector to imgtrans's input
size instead (long side <= 960). With CUDA (or ``--torch-device``), the torch backend
(``imgtrans.models.ppocr_torch.TorchOcrBackend``) is timed too: detection pages/s on
spread-sized inputs and recognition lines/s at batch 1, 8, 32, and ``imgtrans ocr`` end to
end on the GPU. ``--profile`` prints where imgtrans's in-process time goes (cProfile,
``--jobs 1`` so that decoding is in the profile too).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from corpus import Corpus, load_truth, make_corpus  # noqa: E402

MIN_CONFIDENCE = 0.5  # rapidocr's default text_score; imgtrans's min_confidence


def char_bag(texts: Iterable[str]) -> Counter[str]:
    """Multiset of characters: NFKC (vertical forms -> plain), whitespace dropped."""
    return Counter(c for t in texts for c in unicodedata.normalize("NFKC", t) if not c.isspace())


def bag_f1(truth: dict[str, Counter[str]], read: dict[str, Counter[str]]) -> tuple[float, ...]:
    """Micro-averaged (precision, recall, F1) of per-image character bags."""
    hit = sum(sum((truth[k] & read.get(k, Counter())).values()) for k in truth)
    n_read = sum(sum(read.get(k, Counter()).values()) for k in truth)
    n_true = sum(sum(b.values()) for b in truth.values())
    p = hit / n_read if n_read else 0.0
    r = hit / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def truth_bags(corpus: Corpus) -> dict[str, Counter[str]]:
    return {
        name: char_bag(b["text"] for b in page["blocks"])
        for name, page in load_truth(corpus.root).items()
    }


def sidecar_bags(out_dir: Path) -> dict[str, Counter[str]]:
    """Characters imgtrans read, per image name, from the sidecars of an ``ocr`` run."""
    bags = {}
    for path in out_dir.rglob("*.imgtrans.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        lines = [ln for b in doc["blocks"] for ln in b["lines"]]
        texts = [ln["text"] for ln in lines if ln["confidence"] >= MIN_CONFIDENCE]
        bags[Path(doc["source"]["path"]).name] = char_bag(texts)
    return bags


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def run_cli(corpus: Corpus, out: Path, batch: int, jobs: int, device: str) -> float:
    """Wall seconds of ``python -m imgtrans ocr`` in a fresh process (what a user waits)."""
    cmd = [sys.executable, "-m", "imgtrans", "ocr", str(corpus.image_dir), "-o", str(out)]
    cmd += ["--overwrite", "-q", "--batch-size", str(batch), "--jobs", str(jobs)]
    start = time.perf_counter()
    subprocess.run(cmd + ["--device", device], check=True, env=_env(), cwd=ROOT)
    return time.perf_counter() - start


def run_api(
    corpus: Corpus, out: Path, batch: int, jobs: int, device: str, profile: bool = False
) -> tuple[float, float]:
    """``imgtrans.ocr_images`` in this process -> (total s, model-loading s).

    Model loading (``make_backend``: the onnxruntime or torch sessions, and
    ``OcrEngine.__init__``: dictionary, checksums) is timed by wrapping both from the outside:
    benchmark instrumentation only, imgtrans itself is not changed.
    """
    import imgtrans.stages.ocr as ocr_stage
    from imgtrans import RunOptions, ocr_images

    loaded: list[float] = []
    original_init, original_backend = ocr_stage.OcrEngine.__init__, ocr_stage.make_backend

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                loaded.append(time.perf_counter() - start)

        return wrapper

    ocr_stage.OcrEngine.__init__ = timed(original_init)  # type: ignore[method-assign]
    ocr_stage.make_backend = timed(original_backend)
    prof = cProfile.Profile() if profile else None
    try:
        start = time.perf_counter()
        if prof:
            prof.enable()
        options = RunOptions(output=out, batch_size=batch, jobs=jobs, device=device, overwrite=True)
        summary = ocr_images([corpus.image_dir], options)
        if prof:
            prof.disable()
        total = time.perf_counter() - start
    finally:
        ocr_stage.OcrEngine.__init__ = original_init  # type: ignore[method-assign]
        ocr_stage.make_backend = original_backend
    if summary.failed:
        raise RuntimeError(f"imgtrans ocr failed on {summary.failed} image(s): {summary.failures}")
    if prof:
        print_profile(prof, 22)
    return total, sum(loaded)


def print_profile(prof: cProfile.Profile, top: int) -> None:
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        body = buf.getvalue()
        print(f"\n--- cProfile, top {top} by {key} ---")
        print(body[body.find("   ncalls") :].rstrip())


def make_rapidocr(matched: bool) -> Any:
    """rapidocr's own pipeline on the PP-OCRv6 small det/rec ONNX files of its wheel."""
    from rapidocr import RapidOCR

    from imgtrans.models.ppocr import ocr_model_paths

    paths = ocr_model_paths()  # the same three files imgtrans loads
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Det.model_path": str(paths["det"]),
        "Rec.model_path": str(paths["rec"]),
        "Cls.model_path": str(paths["cls"]),
    }
    if matched:
        params |= {"Det.limit_type": "max", "Det.limit_side_len": 960}
    return RapidOCR(params=params)


def run_rapidocr(
    corpus: Corpus, matched: bool
) -> tuple[float, float, dict[str, Counter[str]], dict[str, float]]:
    """-> (startup s, steady s over all images, bags, per-image s).

    Startup is ``RapidOCR()`` plus its first call (models load lazily) less what that image
    takes once warm.
    """
    start = time.perf_counter()
    engine = make_rapidocr(matched)
    engine(str(corpus.images[0]))  # loads det/cls/rec on first use
    startup = time.perf_counter() - start
    bags, per_image = {}, {}
    start = time.perf_counter()
    for path in corpus.images:
        t0 = time.perf_counter()
        result = engine(str(path))
        per_image[path.name] = time.perf_counter() - t0
        texts = [
            t
            for t, s in zip(result.txts or (), result.scores or (), strict=True)
            if s >= MIN_CONFIDENCE
        ]
        bags[path.name] = char_bag(texts)
    steady = time.perf_counter() - start
    # The first call less a steady call of the same image: on a busy machine the steady call
    # can take longer than the first, and start-up cannot be negative.
    return max(0.0, startup - per_image[corpus.images[0].name]), steady, bags, per_image


def _f1_rows(truth: dict[str, Counter[str]], reads: dict[str, dict[str, Counter[str]]]) -> None:
    kinds = {"spreads": "spread_", "strips": "strip_"}
    print(f"\n{'reader':<22} {'subset':<8} {'precision':>9} {'recall':>7} {'F1':>6}")
    for who, read in reads.items():
        for kind, prefix in kinds.items():
            sub = {k: v for k, v in truth.items() if k.startswith(prefix)}
            if sub:
                p, r, f = bag_f1(sub, read)
                print(f"{who:<22} {kind:<8} {p:>9.3f} {r:>7.3f} {f:>6.3f}")


def bench_torch_backend(device_name: str, batches: list[int], repeat: int, corpus: Corpus) -> None:
    """Detection pages/s (spread-sized input) and recognition lines/s per batch size."""
    import numpy as np
    import torch
    from PIL import Image

    from imgtrans.models.ppocr_torch import TorchOcrBackend
    from imgtrans.ocr.detect import normalise, plan_page

    device = torch.device(device_name)
    label = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    sync: Callable[[], None] = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    backend = TorchOcrBackend(device)
    spread = np.asarray(Image.open(corpus.images[0]).convert("RGB"))
    plan = plan_page(spread.shape[0], spread.shape[1], 960)
    ph, pw = (plan.height + 31) // 32 * 32, (plan.width + 31) // 32 * 32
    print(f"\ntorch backend on {device_name} ({label}, torch {torch.__version__})")
    print(f"{'model':<5} {'batch':>5} {'input':>10} {'ms/batch':>9} {'items/s':>9}")
    det_x = torch.zeros((1, 3, ph, pw))
    det_x[0, :, : plan.height, : plan.width] = torch.from_numpy(
        normalise(np.asarray(Image.fromarray(spread).resize((plan.width, plan.height))))
    )
    rec_x = np.random.default_rng(0).standard_normal((max(batches), 3, 48, 320)).astype(np.float32)
    for n in batches:
        x = det_x.expand(n, -1, -1, -1).contiguous().to(device)
        ms = _best_ms(lambda x=x: backend.det_torch(x), repeat, sync)
        print(f"{'det':<5} {n:>5} {ph:>4}x{pw:<5} {ms:>9.2f} {n / ms * 1000:>9.0f} pages/s")
    for n in batches:
        ms = _best_ms(lambda n=n: backend.rec_best(rec_x[:n]), repeat, sync)
        print(f"{'rec':<5} {n:>5} {'48x320':>10} {ms:>9.2f} {n / ms * 1000:>9.0f} lines/s")


def _best_ms(fn: Callable[[], object], repeat: int, sync: Callable[[], None]) -> float:
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, load {load:.2f}, {time.strftime('%Y-%m-%d %H:%M')}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spreads", type=int, default=8)
    ap.add_argument("--strips", type=int, default=1)
    ap.add_argument("--small", action="store_true", help="690 x 4833 strips (quick runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, help="corpus and outputs here (default: a temp dir)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate runs, keep the fastest")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess run")
    ap.add_argument("--rapidocr-matched", action="store_true", help="rapidocr det at <= 960 px")
    ap.add_argument("--profile", action="store_true", help="cProfile imgtrans (jobs 1)")
    ap.add_argument("--torch-device", help="time the torch backend here (default: cuda if any)")
    ap.add_argument("--torch-batches", default="1,8,32")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgtrans-bench-") as tmp:
        work = args.work or Path(tmp)
        run(args, work)


def run(args: argparse.Namespace, work: Path) -> None:
    corpus = make_corpus(work / "corpus", args.spreads, args.strips, args.seed, args.small)
    n = len(corpus.images)
    print(f"machine: {_machine()}; corpus: {args.spreads} spreads 1654x1170 + {args.strips} "
          f"strips 690x{4833 if args.small else 19332} = {n} images")  # fmt: skip
    truth = truth_bags(corpus)
    rows: list[tuple[str, float | None, float]] = []  # (what, startup s or None, total s)
    if not args.no_cli:
        cli = run_cli(corpus, work / "out_cli", args.batch_size, args.jobs, "cpu")
        rows.append(("imgtrans CLI (subprocess)", None, cli))
    api_runs, rapid_runs = [], []
    for _ in range(args.rounds):  # alternate, keep each side's fastest (least disturbed) run
        api_runs.append(run_api(corpus, work / "out_api", args.batch_size, args.jobs, "cpu"))
        rapid_runs.append(run_rapidocr(corpus, args.rapidocr_matched))
    total, load = min(api_runs, key=lambda t: t[0] - t[1])
    rows.append(("imgtrans api (in-process)", load, total))
    reads = {"imgtrans": sidecar_bags(work / "out_api")}
    r_start, r_steady, r_bags, r_per = min(rapid_runs, key=lambda t: t[1])
    if args.rounds > 1:
        print(f"steady s per round: imgtrans {[round(t - ld, 2) for t, ld in api_runs]}, "
              f"rapidocr {[round(r[1], 2) for r in rapid_runs]} (fastest kept)")  # fmt: skip
    r_total = r_start + r_steady
    rows.append((f"rapidocr{' (matched det)' if args.rapidocr_matched else ''}", r_start, r_total))
    reads["rapidocr"] = r_bags
    print(f"\n{'run':<27} {'startup s':>9} {'steady s':>8} {'total s':>8} {'images/s':>8} "
          f"{'steady x':>8} {'total x':>7}")  # fmt: skip
    for what, start, tot in rows:
        steady = tot - start if start is not None else None
        fields = (
            f"{'-' if start is None else f'{start:.2f}':>9} "
            f"{'-' if steady is None else f'{steady:.2f}':>8} {tot:>8.2f} "
            f"{n / (steady or tot):>8.3f} "
            f"{'-' if steady is None else f'{r_steady / steady:.2f}x':>8} {r_total / tot:>6.2f}x"
        )
        print(f"{what:<27} {fields}")
    print("steady: after models are loaded (rapidocr: after its first call); x = speed relative "
          "to rapidocr (> 1: imgtrans faster); images/s from steady where known")  # fmt: skip
    slow = max(r_per, key=lambda k: r_per[k])
    print(f"rapidocr slowest image: {slow} {r_per[slow]:.2f} s")
    _f1_rows(truth, reads)
    if args.profile:
        print("\nprofile of imgtrans api (jobs 1):")
        run_api(corpus, work / "out_prof", args.batch_size, 1, "cpu", profile=True)
    batches = [int(b) for b in args.torch_batches.split(",")]
    device = args.torch_device
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else None
    if device is None:
        print("\nCUDA: no GPU visible; torch backend rows skipped (--torch-device cpu forces them)")
        return
    bench_torch_backend(device, batches, args.repeat, corpus)
    if device.startswith("cuda"):
        for batch in (b for b in batches if b > 1):
            total, load = run_api(corpus, work / f"out_cuda{batch}", batch, args.jobs, "cuda")
            print(f"imgtrans ocr on cuda, batch {batch}: {n / (total - load):.2f} images/s "
                  f"steady ({total:.2f} s with {load:.2f} s loading)")  # fmt: skip


if __name__ == "__main__":
    main()
