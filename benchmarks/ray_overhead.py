"""Overhead of ``--executor ray`` against the local executor, per run and per page.

    python benchmarks/ray_overhead.py [--small 4] [--large 12] [--cpus 2]

Draws ``--large`` synthetic pages (one English caption each, translated by a TM), starts a
local Ray cluster (``--cpus``), then runs ``translate_images`` with each executor on the
first ``--small`` pages and on all ``--large`` (each run into a fresh output folder; models
are loaded by each run, as a user's run would). A warm-up local run of one page comes
first (imports, OS caches). Prints the cluster start time, the wall time of every run, and the cost per extra page (the slope between the two sizes), whose
difference is Ray's overhead per page. Needs the ``ray`` extra.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from drawing import FONT_KO, Text, draw, save  # noqa: E402

WORDS = ["Hello", "Station", "Coffee", "Window", "Garden", "Market", "River", "Stone"]


def corpus(folder: Path, count: int) -> Path:
    tm = folder / "tm.tsv"
    tm.write_text("".join(f"{w} {i}\t{w} 번역 {i}\n" for i, w in enumerate(WORDS)), "utf-8")
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        page = draw(640, 360, [Text(f"{word} {i % len(WORDS)}", (40, 140), 48, font=FONT_KO)])
        save(page, folder / "pages" / f"p{i:03d}.png")
    return tm


def run(src: list[Path], out: Path, tm: Path, executor: str) -> float:
    from imgtrans import RunOptions, TranslatorOptions, translate_images

    options = RunOptions(
        target_lang="ko",
        output=out,
        executor=executor,  # type: ignore[arg-type]
        device="cpu",
        inpaint={"inpainter": "opencv"},  # type: ignore[arg-type]
        translator=TranslatorOptions(name="tm", tm=tm, cache=False),
    )
    start = time.perf_counter()
    summary = translate_images(src, options)
    wall = time.perf_counter() - start
    assert summary.failed == 0 and summary.done == len(src), summary
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=4)
    parser.add_argument("--large", type=int, default=12)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    import ray

    work = Path(tempfile.mkdtemp(prefix="imgtrans-ray-bench-"))
    try:
        tm = corpus(work, args.large)
        pages = sorted((work / "pages").iterdir())
        start = time.perf_counter()
        ray.init(
            num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
            configure_logging=False,
        )  # fmt: skip
        print(f"ray cluster start ({args.cpus} CPUs): {time.perf_counter() - start:.1f} s")
        run(pages[:1], work / "warmup", tm, "local")  # imports, OS caches: not measured
        walls: dict[tuple[str, int], float] = {}
        for n in (args.small, args.large):
            for executor in ("local", "ray"):
                out = work / f"out_{executor}_{n}"
                walls[executor, n] = run(pages[:n], out, tm, executor)
                print(f"{executor:5} {n:3d} pages: {walls[executor, n]:6.1f} s")
        extra = args.large - args.small
        slope = {e: (walls[e, args.large] - walls[e, args.small]) / extra for e in ("local", "ray")}
        fixed = {e: walls[e, args.small] - slope[e] * args.small for e in ("local", "ray")}
        for e in ("local", "ray"):
            print(f"{e:5} per page {slope[e]:.2f} s, per run {fixed[e]:.1f} s")
        print(
            f"ray overhead: {slope['ray'] - slope['local']:+.2f} s per page, "
            f"{fixed['ray'] - fixed['local']:+.1f} s per run (cluster start not included)"
        )
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
