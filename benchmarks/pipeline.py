"""End-to-end benchmark of ``imgtrans translate`` on a synthetic manga corpus.

    python benchmarks/pipeline.py [--spreads 6] [--strips 0] [--small] [--compare] [--profile]
                                  [--batch-size 4] [--jobs 0] [--device auto]
                                  [--inpainter opencv|auto|lama-random]

Generates the corpus of benchmarks/corpus.py, then runs ``imgtrans translate --to ko`` with
the translation-memory translator (the corpus's ``tm.tsv`` holds every block text, so
translation costs nothing) through ``imgtrans.translate_images``, in a fresh child process
per configuration (so peak RSS and model loading are per configuration). It prints:

- wall time, images/s and seconds per image end to end, with setup (model loading) apart;
  a spread is one image holding two manga pages, so s/page is half of s/image for spreads;
- per-stage ms per image: setup, load (decode + hash), ocr, mask, inpaint, translate,
  render, write. Stages in the worker pool or in threads overlap, so they can sum to more
  than the wall time;
- GPU utilisation sampled every 50 ms (pynvml if importable, else nvidia-smi, else n/a),
  peak VRAM (``torch.cuda.max_memory_allocated``), peak RSS of the main process and of the
  largest worker (``resource.getrusage``), and the inpainting path mix (flat/opencv/lama).

``--compare`` also runs the sequential configuration (``--jobs 1 --batch-size 1``) and prints
the speed-up. ``--profile`` runs cProfile in the last configuration's main process (use
with ``--compare``: at ``--jobs 1`` every stage runs there). ``--inpainter lama-random``
builds LaMa with random weights (timing only: the images are garbage) when this checkout has
``imgtrans.models.lama_runner``.

Per-stage timing wraps every stage from the outside, through the API's ``wrap=`` (and the
model builders ``imgtrans.api.make_*`` for setup): benchmark instrumentation only, imgtrans
is not changed. Worker processes append their timings to files in a directory named by an
environment variable, which spawned workers inherit.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from corpus import make_corpus  # noqa: E402

TIMES_ENV = "IMGTRANS_BENCH_TIMES"
STAGES = ("setup", "load", "ocr", "mask", "inpaint", "translate", "render", "write")
RESULT_TAG = "BENCH_RESULT "
RANDOM_LAMA_WARNING = (
    "!!! LaMa with RANDOM weights: for timing only, the output images are garbage !!!"
)


def _record(stage: str, seconds: float) -> None:
    folder = os.environ.get(TIMES_ENV)
    if folder:
        with (Path(folder) / f"{os.getpid()}.tsv").open("a", encoding="utf-8") as fh:
            fh.write(f"{stage}\t{seconds:.6f}\n")


@dataclass(frozen=True)
class Timed:
    """A stage wrapped from outside (``imgtrans`` API ``wrap=``): appends its seconds to a
    per-process file. Module level, so it pickles into the spawned workers."""

    stage: Any
    name: str

    def __call__(self, items: list[Any]) -> Any:
        start = time.perf_counter()
        try:
            return self.stage(items)
        finally:
            _record(self.name, time.perf_counter() - start)


def timed(name: str, stage: Any) -> Any:
    """The ``wrap`` of a benchmark run: every stage timed."""
    return Timed(stage, name)


def install_timers() -> list[str]:
    """Time model loading (setup) by wrapping the builders; returns names not found."""
    import imgtrans.api as api

    missing = []
    for name in ("make_ocr", "make_inpainter", "make_translate"):
        if hasattr(api, name):
            setattr(api, name, _timed(getattr(api, name), "setup"))
        else:
            missing.append(f"imgtrans.api.{name}")
    return missing


def _timed(fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(stage, time.perf_counter() - start)

    return wrapper


def use_random_lama() -> bool:
    """Make ``imgtrans.api.make_inpainter`` build LaMa with random weights; False if absent."""
    try:
        import torch

        from imgtrans.models import lama
        from imgtrans.models.lama_runner import LamaInpainter
    except ImportError:
        return False
    import imgtrans.api as api
    from imgtrans.stages.inpaint import Inpainter

    def make_inpainter(options: Any, device: str) -> Any:
        torch.manual_seed(0)
        model = lama.build_lama() if hasattr(lama, "build_lama") else lama.LamaGenerator()
        runner = LamaInpainter(model, torch.device(device), compile=options.compile)
        return Inpainter(options, runner)

    api.make_inpainter = make_inpainter
    return True


class GpuSampler:
    """Samples GPU utilisation (percent of time a kernel ran) on a thread while running."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self.method = "n/a"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._read: Callable[[], float] | None = None

    def start(self, cuda: bool) -> None:
        if not cuda:
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            self._read = lambda: float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            self.method = "pynvml"
        except Exception:  # noqa: BLE001 - any failure: try the next method
            if shutil.which("nvidia-smi"):
                self._read = _nvidia_smi_util
                self.method = "nvidia-smi"
        if self._read is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        assert self._read is not None
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(self._read())
            except Exception:  # noqa: BLE001 - a failed sample is skipped
                continue

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.samples:
            return {"method": self.method, "mean": None, "samples": 0}
        mean = sum(self.samples) / len(self.samples)
        return {"method": self.method, "mean": mean, "samples": len(self.samples)}


def _nvidia_smi_util() -> float:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=True,
        timeout=5,
    )
    return float(out.stdout.split()[0])


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA GPU")
    return device


def run_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """One configuration in this (child) process -> its measurements."""
    from imgtrans import translate_images
    from imgtrans.options import InpaintOptions, OcrOptions, RunOptions, TranslatorOptions

    times_dir = Path(tempfile.mkdtemp(prefix="imgtrans-bench-times-"))
    os.environ[TIMES_ENV] = str(times_dir)
    inpainter = cfg["inpainter"]
    if inpainter == "lama-random":
        print(RANDOM_LAMA_WARNING, file=sys.stderr)
        use_random_lama()
        inpainter = "lama"
    missing = install_timers()  # after use_random_lama, so that its setup is timed too
    options = RunOptions(
        target_lang="ko",
        output=Path(cfg["output"]),
        overwrite=True,
        batch_size=cfg["batch_size"],
        jobs=cfg["jobs"],
        device=cfg["device"],
        ocr=OcrOptions(source_lang="auto"),
        inpaint=InpaintOptions(inpainter=inpainter, compile=cfg["compile"]),
        translator=TranslatorOptions(name="tm", tm=Path(cfg["tm"]), cache=False),
    )
    device = _resolve_device(cfg["device"])
    sampler = GpuSampler()
    sampler.start(device == "cuda")
    prof = cProfile.Profile() if cfg["profile"] else None
    start = time.perf_counter()
    if prof:
        prof.enable()
    summary = translate_images([Path(cfg["images"])], options, wrap=timed)
    if prof:
        prof.disable()
    wall = time.perf_counter() - start
    gpu = sampler.stop()
    if prof:
        _print_profile(prof, 25)
    stages: dict[str, float] = defaultdict(float)
    for path in times_dir.glob("*.tsv"):
        for row in path.read_text(encoding="utf-8").splitlines():
            stage, seconds = row.split("\t")
            stages[stage] += float(seconds)
    shutil.rmtree(times_dir, ignore_errors=True)
    return {
        **cfg,
        "device_resolved": device,
        "device_name": _device_name(device),
        "wall": wall,
        "stages": dict(stages),
        "missing_hooks": missing,
        "summary": {k: getattr(summary, k) for k in ("total", "done", "failed", "blocks")}
        | {
            "untranslated": summary.untranslated,
            "overflow": summary.overflow,
            "inpaint_paths": dict(summary.inpaint_paths),
            "failures": summary.failures[:3],
        },
        "gpu": gpu,
        "vram_peak_mib": _vram_peak(device),
        "rss_main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _device_name(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name(0)
    return f"CPU ({os.cpu_count()} cores)"


def _vram_peak(device: str) -> float | None:
    if device != "cuda":
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**20


def _print_profile(prof: cProfile.Profile, top: int) -> None:
    import io
    import pstats

    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        body = buf.getvalue()
        print(f"\n--- cProfile (main process), top {top} by {key} ---", file=sys.stderr)
        print(body[body.find("   ncalls") :].rstrip(), file=sys.stderr)


def run_child(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter; its last tagged stdout line is the result."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(cfg)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if not lines:
        raise RuntimeError(f"the benchmark child printed no result: {proc.stdout[-2000:]}")
    return json.loads(lines[-1][len(RESULT_TAG) :])  # type: ignore[no-any-return]


def report(res: dict[str, Any], n_spreads: int, n_strips: int) -> None:
    s = res["summary"]
    done = max(1, s["done"])
    setup = res["stages"].get("setup", 0.0)
    work = res["wall"] - setup
    pages = 2 * n_spreads + n_strips  # a spread holds two manga pages
    print(f"\n== {res['name']}: --jobs {res['jobs']} --batch-size {res['batch_size']} on "
          f"{res['device_name']}, inpainter {res['inpainter']} ==")  # fmt: skip
    print(f"images {s['done']}/{s['total']} done, {s['failed']} failed; blocks {s['blocks']}, "
          f"untranslated {s['untranslated']}, overflow {s['overflow']}")  # fmt: skip
    print(f"wall {res['wall']:.2f} s = setup {setup:.2f} s + work {work:.2f} s; "
          f"{done / work:.3f} images/s, {work / done:.2f} s/image, "
          f"{work / pages:.2f} s/manga page (spread = 2 pages)")  # fmt: skip
    row = "  ".join(f"{st} {1000 * res['stages'].get(st, 0.0) / done:.0f}" for st in STAGES[1:])
    print(f"stage ms/image: {row}  (setup {1000 * setup:.0f} ms once)")
    paths = s["inpaint_paths"]
    total = sum(paths.values()) or 1
    mix = ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in sorted(paths.items()))
    print(f"inpaint paths: {mix or 'none'}")
    gpu = res["gpu"]
    util = (
        "n/a"
        if gpu["mean"] is None
        else f"{gpu['mean']:.0f}% mean ({gpu['method']}, {gpu['samples']} samples)"
    )
    vram = "n/a" if res["vram_peak_mib"] is None else f"{res['vram_peak_mib']:.0f} MiB"
    print(f"GPU util {util}; peak VRAM {vram}; peak RSS main {res['rss_main_mib']:.0f} MiB, "
          f"largest worker {res['rss_worker_mib']:.0f} MiB")  # fmt: skip
    if res["missing_hooks"]:
        print(f"(not timed, not found in this imgtrans: {', '.join(res['missing_hooks'])})")
    if s["failures"]:
        print(f"first failures: {s['failures']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--spreads", type=int, default=6)
    ap.add_argument("--strips", type=int, default=0)
    ap.add_argument("--small", action="store_true", help="690 x 4833 strips (quick runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, help="corpus and outputs here (default: a temp dir)")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--inpainter", default="opencv", choices=["opencv", "auto", "lama-random"])
    ap.add_argument("--compile", action="store_true", help="torch.compile LaMa")
    ap.add_argument("--compare", action="store_true", help="also run --jobs 1 --batch-size 1")
    ap.add_argument("--profile", action="store_true", help="cProfile the last configuration")
    args = ap.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        print(RESULT_TAG + json.dumps(run_config(json.loads(args.child))), flush=True)
        return
    if args.inpainter == "lama-random":
        probe = "import imgtrans.models.lama_runner"
        ok = (
            subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True).returncode
            == 0
        )
        if not ok:
            raise SystemExit("LaMa is not available in this checkout (no imgtrans.models."
                             "lama_runner): --inpainter lama-random cannot run")  # fmt: skip
        print(RANDOM_LAMA_WARNING)
    with tempfile.TemporaryDirectory(prefix="imgtrans-bench-") as tmp:
        run(args, args.work or Path(tmp))


def run(args: argparse.Namespace, work: Path) -> None:
    corpus = make_corpus(work / "corpus", args.spreads, args.strips, args.seed, args.small)
    load = os.getloadavg()[0]
    print(f"corpus: {args.spreads} spreads 1654x1170 + {args.strips} strips "
          f"690x{4833 if args.small else 19332}; {os.cpu_count()} CPUs, load {load:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    configs = [("pipelined", args.batch_size, args.jobs)]
    if args.compare:
        configs.append(("sequential", 1, 1))
    results = []
    for i, (name, batch, jobs) in enumerate(configs):
        cfg = {
            "name": name, "batch_size": batch, "jobs": jobs, "device": args.device,
            "inpainter": args.inpainter, "compile": args.compile,
            "profile": args.profile and i == len(configs) - 1,
            "images": str(corpus.image_dir), "tm": str(corpus.tm), "output": str(work / f"out_{name}"),
        }  # fmt: skip
        results.append(run_child(cfg))
        report(results[-1], args.spreads, args.strips)
    if len(results) == 2:
        fast, slow = results
        work_fast = fast["wall"] - fast["stages"].get("setup", 0.0)
        work_slow = slow["wall"] - slow["stages"].get("setup", 0.0)
        print(f"\nspeed-up pipelined vs sequential: {work_slow / work_fast:.2f}x "
              f"(wall incl. setup {slow['wall'] / fast['wall']:.2f}x)")  # fmt: skip
    if args.inpainter == "lama-random":
        print(RANDOM_LAMA_WARNING)


if __name__ == "__main__":
    main()
