"""Load benchmark (issue F): N small generated images through the CPU pipeline.

Each image is ~200x120 with one English word; the run is the real ``imgtrans translate``
path in this process (OCR on onnxruntime, OpenCV inpainting, a translation memory that
covers every word, lettering, PNG output), with a progress hook that samples memory and
open file descriptors as pages finish. Reports RSS of the main process and of the worker
processes at 1,000 pages and at N, the peak RSS, fd counts and pages/s.

    python benchmarks/load_10k.py                 # 10,000 images
    python benchmarks/load_10k.py -n 3000 --jobs 2

Not a test: it takes ~15 min for 10k on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
FONT = REPO / "fonts" / "NotoSansKR-Bold-subset.otf"
WORDS = {
    "Hello": "안녕",
    "Station": "역",
    "Coffee": "커피",
    "Window": "창문",
    "Garden": "정원",
    "Market": "시장",
    "Bridge": "다리",
    "Castle": "성",
    "River": "강",
    "Music": "음악",
}


def _kib(path: str, field: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _children_rss_kib() -> tuple[int, int]:
    """(number of child processes, their summed RSS in KiB)."""
    me, count, total = os.getpid(), 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == me:
                count += 1
                total += _kib(str(entry / "status"), "VmRSS")
        except (OSError, ValueError):
            continue
    return count, total


@dataclass(frozen=True)
class Sample:
    pages: int
    seconds: float
    rss_mib: float  # main process, now
    peak_rss_mib: float  # main process, high-water mark so far
    workers: int
    workers_rss_mib: float  # all child processes together, now
    open_fds: int


class Sampler:
    """A ``Progress`` for the pipeline that records a :class:`Sample` every ``every`` pages."""

    def __init__(self, every: int, total: int) -> None:
        self.every, self.total, self.done = every, total, 0
        self.samples: list[Sample] = []
        self.t0 = time.perf_counter()

    def start(self, total: int) -> None:
        self.t0 = time.perf_counter()

    def advance(self, path: str, status: str) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            workers, wrss = _children_rss_kib()
            self.samples.append(
                Sample(
                    pages=self.done,
                    seconds=round(time.perf_counter() - self.t0, 1),
                    rss_mib=round(_kib("/proc/self/status", "VmRSS") / 1024, 1),
                    peak_rss_mib=round(_kib("/proc/self/status", "VmHWM") / 1024, 1),
                    workers=workers,
                    workers_rss_mib=round(wrss / 1024, 1),
                    open_fds=sum(1 for _ in Path("/proc/self/fd").iterdir()),
                )
            )
            print(json.dumps(asdict(self.samples[-1])), flush=True)

    def close(self) -> None:
        pass


def generate(folder: Path, n: int) -> None:
    font = ImageFont.truetype(str(FONT), 30)
    words = list(WORDS)
    for i in range(n):
        img = Image.new("RGB", (200, 120), (255, 255, 255))
        ImageDraw.Draw(img).text((16, 40), words[i % len(words)], font=font, fill=(0, 0, 0))
        path = folder / f"{i // 1000:02d}" / f"{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, compress_level=1)


def run(src: Path, out: Path, tm: Path, jobs: int, batch: int, sampler: Sampler) -> object:
    from imgtrans import RunOptions, TranslatorOptions, translate_images

    options = RunOptions(
        target_lang="ko", output=out, batch_size=batch, jobs=jobs, device="cpu",
        inpaint={"inpainter": "opencv"}, translator=TranslatorOptions(name="tm", tm=tm),
    )  # fmt: skip
    return translate_images([src], options, progress=sampler)  # the real run path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="number of images")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: per core)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--every", type=int, default=500, help="sample every N pages")
    parser.add_argument("--workdir", type=Path, default=None, help="kept when given")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="imgtrans-load-"))
    src, out, tm = work / "in", work / "out", work / "tm.tsv"
    try:
        t = time.perf_counter()
        if not src.exists():
            generate(src, args.n)
        tm.write_text("".join(f"{k}\t{v}\n" for k, v in WORDS.items()), encoding="utf-8")
        print(f"generated {args.n} images in {time.perf_counter() - t:.1f} s", flush=True)
        sampler = Sampler(args.every, args.n)
        t = time.perf_counter()
        summary = run(src, out, tm, args.jobs, args.batch_size, sampler)
        wall = time.perf_counter() - t
        report(args, sampler.samples, summary, wall)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, samples: list[Sample], summary: object, wall: float) -> None:
    at_1k = next((s for s in samples if s.pages >= 1000), samples[0])
    last = samples[-1]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d"),
        "images": args.n,
        "jobs": args.jobs,
        "batch_size": args.batch_size,
        "pages_per_s": round(args.n / wall, 2),
        "wall_s": round(wall, 1),
        "at_1k": asdict(at_1k),
        "at_n": asdict(last),
        "main_rss_growth_1k_to_n": round(last.rss_mib / at_1k.rss_mib - 1, 3),
        "total_rss_growth_1k_to_n": round(
            (last.rss_mib + last.workers_rss_mib) / (at_1k.rss_mib + at_1k.workers_rss_mib) - 1, 3
        ),
        "fd_range": [min(s.open_fds for s in samples), max(s.open_fds for s in samples)],
        "summary": {k: getattr(summary, k) for k in ("done", "skipped", "failed", "blocks")},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
