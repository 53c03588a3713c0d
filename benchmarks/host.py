"""Host CPU per page with the models answered from a recording (no GPU needed).

    python benchmarks/host.py [--spreads 4] [--devset | --no-devset] [--jobs 2]
                              [--batch-size 4] [--copies 3] [--inpainter lama|opencv]
                              [--store DIR] [--work DIR] [--json FILE]

On a GPU machine the models cost device time; everything around them (decode, detection
pre- and post-processing, line crops, grouping, masks, flat fills, LaMa crops and pastes,
lettering, encoding, sidecars, moving pages between processes) costs host CPU. This script
measures that host CPU on this machine:

1. **Record**: one real run over the pages (synthetic spreads of benchmarks/corpus.py and
   the real pages of ``../shared/devset``) with the real models (onnxruntime OCR; LaMa with
   installed weights, else a stand-in generator: the host's part does not depend on it).
   Every model output is stored per input sample (benchmarks/replay.py).
2. **Stages** (one process): every stage function in pipeline order over every page, with
   the models answered from the recording; CPU time (``time.process_time``) per stage and
   page, less the time spent answering from the recording. Median and mean per page.
3. **Pipeline**: ``imgtrans.pipeline.Pipeline`` itself in a fresh process (worker pool,
   threads, pickling), models replayed, run twice: on the pages once and on ``--copies``
   copies of them. CPU of all processes (``getrusage`` SELF + CHILDREN) and of the main
   process alone; the difference of the two runs divided by the difference in pages is the
   cost per page without start-up (interpreters, imports, fonts, models). Then the ceiling
   for a 16-core GPU machine: ``min(16 / total CPU per page, 1 / main CPU per page)``.

The model stand-ins wrap the engine objects given to the pipeline (an ``OcrBackend`` and
one ``LamaInpainter``'s batch call); nothing in imgtrans is patched. A sample the recording
lacks is computed by the real model (counted as a miss, its time excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from corpus import make_corpus  # noqa: E402
from replay import FillTranslator, ReplayOcrBackend, Store, read_tm, replay_lama  # noqa: E402

DEVSET = ROOT.parent / "shared" / "devset" / "images"
STAGES = ("load", "ocr", "mask", "inpaint", "translate", "render", "encode", "sidecar")
CORES = 16
TARGET = "ko"


def build_engines(store: Store, inpainter: str, batch_size: int) -> dict[str, Any]:
    """OCR engine, inpainter and translator answering from ``store`` (misses: real models)."""
    from imgtrans.models.ppocr_onnx import OnnxOcrBackend
    from imgtrans.options import InpaintOptions, OcrOptions
    from imgtrans.stages.inpaint import Inpainter
    from imgtrans.stages.ocr import OcrEngine

    backend = ReplayOcrBackend(store, OnnxOcrBackend(intra_op_threads=1))
    engine = OcrEngine(OcrOptions(), backend, batch_size=batch_size)
    lama = None
    if inpainter == "lama":
        lama = _lama(store)
    return {"ocr": engine, "inpainter": Inpainter(InpaintOptions(inpainter=inpainter), lama)}


def _lama(store: Store) -> Any:
    """LaMa with the installed weights; without them a stand-in generator (it returns its
    input): the host's share of LaMa (planning, resizing, padding, pasting crops) is the
    runner's own code whatever the generator computes, and LaMa on this CPU costs seconds
    per crop."""
    import torch

    from imgtrans.errors import MissingModelError
    from imgtrans.models.lama_runner import LamaInpainter

    class StandIn(torch.nn.Module):
        def forward(self, image: Any, mask: Any) -> Any:
            return image

    torch.set_num_threads(1)  # misses run in the calling thread (counted as overhead)
    try:
        runner, kind = LamaInpainter.load(torch.device("cpu")), "lama"
    except MissingModelError:
        runner, kind = LamaInpainter(StandIn(), torch.device("cpu")), "lama-standin"
    return replay_lama(runner, store, kind)


def run_info(engine: Any, inpainter: Any) -> Any:
    from imgtrans import __version__
    from imgtrans.sidecar import RunInfo

    return RunInfo(
        version=__version__,
        models=dict(engine.models),
        translator="bench-fill",
        options_sha256="0" * 64,
        inpainter=inpainter.name,
        source_lang="auto",
        target_lang=TARGET,
    )


def stage_pass(paths: list[Path], store: Store, tm: dict[str, str], inpainter: str) -> list[dict]:  # type: ignore[type-arg]
    """Every stage on every page in one process: CPU ms per stage and page."""
    from dataclasses import replace

    from imgtrans import sidecar
    from imgtrans.options import MaskOptions, RenderOptions
    from imgtrans.output import encode
    from imgtrans.stages import apply_translations
    from imgtrans.stages.mask import mask as mask_stage
    from imgtrans.stages.preprocess import load_page
    from imgtrans.stages.render import render
    from imgtrans.stages.translate import translate_page

    engines = build_engines(store, inpainter, 1)
    info = run_info(engines["ocr"], engines["inpainter"])
    translator = FillTranslator(tm)
    rows = []
    for path in paths:
        times: dict[str, float] = {}
        clock = [time.process_time(), store.overhead_s]

        def lap(stage: str, clock: list[float] = clock, times: dict[str, float] = times) -> None:
            now, over = time.process_time(), store.overhead_s
            times[stage] = 1000 * ((now - clock[0]) - (over - clock[1]))
            clock[:] = [now, over]

        page = load_page(path, path.name, 400_000_000)
        lap("load")
        [page] = engines["ocr"]([page])
        lap("ocr")
        [page] = mask_stage([page], MaskOptions())
        lap("mask")
        [page] = engines["inpainter"]([page])
        lap("inpaint")
        page = apply_translations(page, translate_page(page, translator, TARGET))
        lap("translate")
        [page] = render([page], RenderOptions(), TARGET)
        lap("render")
        assert page.output is not None
        encode(page.output, page.alpha, path.suffix if path.suffix != ".gif" else ".png")
        lap("encode")
        doc = sidecar.page_json(replace(page), info, path.name, "ok")
        json.dumps(doc, ensure_ascii=False)
        lap("sidecar")
        rows.append({"page": path.name, "blocks": len(page.blocks), **times})
    return rows


def pipeline_child(args: argparse.Namespace) -> None:
    """In a fresh process: the real Pipeline over ``args.inputs``, models replayed."""
    from imgtrans.api import plan_run
    from imgtrans.options import InpaintOptions, RunOptions
    from imgtrans.pipeline import Pipeline
    from imgtrans.stages import Stages
    from imgtrans.stages.mask import Mask
    from imgtrans.stages.preprocess import Load
    from imgtrans.stages.render import Render
    from imgtrans.stages.translate import Translate
    from imgtrans.stages.write import Write

    store = Store(args.store)
    engines = build_engines(store, args.inpainter, args.batch_size)
    options = RunOptions(
        target_lang=TARGET,
        output=args.out,
        batch_size=args.batch_size,
        jobs=args.jobs,
        device="cpu",
        inpaint=InpaintOptions(inpainter=args.inpainter),
    )
    tm = read_tm(args.tm) if args.tm else {}
    run = run_info(engines["ocr"], engines["inpainter"])
    stages = Stages(
        load=Load(options.max_pixels),
        ocr=engines["ocr"],
        mask=Mask(options.mask),
        translate=Translate(FillTranslator(tm), TARGET),
        inpaint=engines["inpainter"],
        render=Render(options.render, TARGET),
        write=Write(run, image=True),
    )
    plan = plan_run([args.inputs], options, TARGET, True)
    pipeline = Pipeline(stages, options, run)
    self0, kids0 = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    wall = time.perf_counter()
    summary = pipeline.run(plan)
    wall = time.perf_counter() - wall
    self1, kids1 = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )

    def cpu(a: Any, b: Any) -> float:
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)

    result = {
        "pages": summary.done,
        "failed": summary.failed,
        "main_s": cpu(self0, self1) - store.overhead_s,
        "workers_s": cpu(kids0, kids1),
        "overhead_s": store.overhead_s,
        "wall_s": wall,
        "hits": store.hits,
        "misses": store.misses,
        "inpaint_paths": summary.inpaint_paths,
    }
    print("HOST_RESULT " + json.dumps(result))


def run_pipeline(
    paths: list[Path], copies: int, work: Path, args: argparse.Namespace, tm: Path | None
) -> dict[str, Any]:
    folder = work / f"inputs_x{copies}"
    for c in range(copies):
        sub = folder / f"c{c}"
        sub.mkdir(parents=True, exist_ok=True)
        for path in paths:
            link = sub / path.name
            if not link.exists():
                link.symlink_to(path.resolve())  # never copy the dev set's images
    shutil.rmtree(work / f"out_x{copies}", ignore_errors=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_pipeline",
        "--inputs", str(folder),
        "--out", str(work / f"out_x{copies}"),
        "--store", str(args.store),
        "--jobs", str(args.jobs),
        "--batch-size", str(args.batch_size),
        "--inpainter", args.inpainter,
    ]  # fmt: skip
    if tm is not None:
        cmd += ["--tm", str(tm)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("HOST_RESULT "):
            return json.loads(line[len("HOST_RESULT ") :])  # type: ignore[no-any-return]
    raise SystemExit(f"pipeline run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def gather_inputs(args: argparse.Namespace, work: Path) -> tuple[list[Path], Path | None]:
    paths: list[Path] = []
    tm = None
    if args.spreads:
        corpus = make_corpus(work / "corpus", args.spreads, 0, seed=0)
        paths += list(corpus.images)
        tm = corpus.tm
    if args.devset:
        if DEVSET.is_dir():
            paths += sorted(p for p in DEVSET.iterdir() if p.is_file())[: args.devset_limit]
        else:
            print(f"dev set not found at {DEVSET}: synthetic pages only", file=sys.stderr)
    if not paths:
        raise SystemExit("no pages: give --spreads N or make ../shared/devset available")
    return paths, tm


def report(rows: list[dict], runs: dict[int, dict], args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    out: dict[str, Any] = {"stages": {}, "pages": len(rows)}
    print(f"\n## Stages, one process, CPU ms per page ({len(rows)} pages)\n")
    print("| stage | median | mean | max |\n| --- | ---: | ---: | ---: |")
    totals = [sum(r[s] for s in STAGES) for r in rows]
    for stage in (*STAGES, "total"):
        vals = totals if stage == "total" else [r[stage] for r in rows]
        med, mean = statistics.median(vals), statistics.fmean(vals)
        out["stages"][stage] = {"median": med, "mean": mean, "max": max(vals)}
        print(f"| {stage} | {med:.1f} | {mean:.1f} | {max(vals):.1f} |")
    print(
        "\nper page (ms): "
        + ", ".join(f"{r['page']} {t:.0f}" for r, t in zip(rows, totals, strict=True))
    )
    if len(runs) == 2:
        (n1, a), (n2, b) = sorted(runs.items())
        pages = b["pages"] - a["pages"]
        total = 1000 * ((b["main_s"] + b["workers_s"]) - (a["main_s"] + a["workers_s"])) / pages
        main = 1000 * (b["main_s"] - a["main_s"]) / pages
        workers = 1000 * (b["workers_s"] - a["workers_s"]) / pages
        ceiling = min(CORES * 1000 / total, 1000 / main)
        out["pipeline"] = {
            "runs": runs,
            "total_ms": total,
            "main_ms": main,
            "workers_ms": workers,
            "ceiling_pages_s": ceiling,
        }
        print(
            f"\n## Pipeline (--jobs {args.jobs} --batch-size {args.batch_size}), models replayed\n"
        )
        print(
            f"runs of {a['pages']} and {b['pages']} pages; per page, start-up excluded: "
            f"all processes {total:.0f} ms CPU, main process {main:.1f} ms, workers {workers:.0f} ms"
        )
        print(
            f"ceiling on a {CORES}-core GPU machine: {ceiling:.1f} pages/s "
            f"(cores: {CORES * 1000 / total:.1f}, main process: {1000 / main:.1f})"
        )
        for n, r in sorted(runs.items()):
            print(
                f"  x{n}: {r['pages']} pages ({r['failed']} failed), main {r['main_s']:.2f} s, "
                f"workers {r['workers_s']:.2f} s, replay overhead {r['overhead_s']:.2f} s, "
                f"wall {r['wall_s']:.1f} s, recording hits {r['hits']} misses {r['misses']}, "
                f"inpaint {r['inpaint_paths']}"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spreads", type=int, default=4, help="synthetic 1654x1170 spreads")
    ap.add_argument("--devset", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--devset-limit", type=int, default=None, help="first N dev-set images")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--copies", type=int, default=3, help="pages x N for the second run")
    ap.add_argument(
        "--inpainter",
        choices=["lama", "opencv"],
        default="lama",
        help="lama (the GPU path; a stand-in generator without weights) or opencv (CPU)",
    )
    ap.add_argument("--store", type=Path, help="recording folder (kept; default: in --work)")
    ap.add_argument("--work", type=Path, help="scratch folder (default: a temp folder)")
    ap.add_argument("--no-pipeline", action="store_true", help="stages only")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="imgtrans-host-"))
    work.mkdir(parents=True, exist_ok=True)
    args.store = args.store or work / "recording"
    paths, tm_path = gather_inputs(args, work)
    tm = read_tm(tm_path) if tm_path else {}
    store = Store(args.store)
    if len(store) == 0:
        print(f"recording {len(paths)} pages with the real models ...", file=sys.stderr)
    stage_pass(paths, store, tm, args.inpainter)  # records what is missing; warms caches
    recorded = store.misses
    store.misses = store.hits = 0
    rows = stage_pass(paths, store, tm, args.inpainter)
    runs = {}
    if not args.no_pipeline:
        for copies in (1, args.copies):
            runs[copies] = run_pipeline(paths, copies, work, args, tm_path)
    print(f"\nmachine: {os.cpu_count()} cores; recorded {recorded} new model samples")
    result = report(rows, runs, args)
    result["rows"] = rows
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


def child_main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("_pipeline")
    for name in ("--inputs", "--out", "--store"):
        ap.add_argument(name, type=Path, required=True)
    ap.add_argument("--tm", type=Path)
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--batch-size", type=int, required=True)
    ap.add_argument("--inpainter", required=True)
    pipeline_child(ap.parse_args())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_pipeline":
        child_main()
    else:
        main()
