"""A page's output is a function of that page and the options only: the same blocks, texts,
confidences, font sizes and pixels whichever pages share its batch or run, and whatever
``--batch-size`` or ``--jobs``. Pages of mixed sizes are the case that broke: detection padded
a page to a batch-mate's size, and the v6 detector's features reach across the whole input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_KO, Text, draw, save
from PIL import Image
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.page import Page
from imgtrans.stages.ocr import OcrEngine

DEVSET = Path(__file__).resolve().parent.parent.parent / "shared" / "devset" / "images"
WORDS = ["HOLD STILL, TIM!", "Good morning", "NEXT INSTANT...", "I'LL HAVE YOU FREE"]
KO = ["가만히 있어, 팀!", "좋은 아침", "다음 순간...", "금방 풀어 줄게"]
# Sizes whose padded shapes differ by a little: the old batching put them in one batch.
SIZES = [(640, 300), (660, 330), (600, 420), (700, 300), (620, 350)]
runner = CliRunner()


def generated_page(k: int, width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(k)
    texts = [
        Text(WORDS[(k + j) % len(WORDS)], (20 + 13 * j, 20 + 70 * j), 30 + 3 * j, font=FONT_KO)
        for j in range(3)
    ]
    texts.append(Text(WORDS[k % len(WORDS)], (width - 300, height - 45), 28, font=FONT_KO))
    img = draw(width, height, texts, background=(250, 245, 235)).astype(int)
    return np.clip(img + rng.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)


def as_page(name: str, image: np.ndarray) -> Page:
    return Page(Path(name), name, "0" * 64, image)


def reading(page: Page) -> list[object]:
    return [
        (b.text, [(ln.polygon, ln.text, ln.confidence, ln.direction) for ln in b.lines])
        for b in page.blocks
    ]


def assert_batch_invariant(engine: OcrEngine, pages: list[Page]) -> None:
    alone = [reading(engine([p])[0]) for p in pages]
    assert any(alone), "nothing was read: the test would prove nothing"
    together = [reading(p) for p in engine(pages)]
    reverse = [reading(p) for p in engine(pages[::-1])][::-1]
    for page, a, t, r in zip(pages, alone, together, reverse, strict=True):
        assert t == a, f"{page.rel_path}: read differently in a batch than alone"
        assert r == a, f"{page.rel_path}: read differently in another batch order"


def test_generated_pages_of_mixed_sizes_read_the_same_alone_or_together(
    ocr_engine: OcrEngine,
) -> None:
    pages = [as_page(f"p{k}.png", generated_page(k, w, h)) for k, (w, h) in enumerate(SIZES)]
    assert_batch_invariant(ocr_engine, pages)


@pytest.mark.slow
def test_real_pages_of_mixed_sizes_read_the_same_alone_or_together(
    ocr_engine: OcrEngine,
) -> None:
    if not DEVSET.is_dir():
        pytest.skip(f"dev set not found at {DEVSET} (real pages are not in the repository)")
    # Comics and manga pages of different sizes, two at a time plus one more to mix.
    names = [
        "en_comic_snookums-sunday.jpg",
        "ja_manga_openmantra-balloondream-009.jpg",
        "ja_manga_openmantra-boureisougi-011.jpg",
        "zh_comic_xkcd-267-choices4.jpg",
        "zh_comic_xkcd-1337-hack.png",
    ]
    pages = []
    for name in names:
        with Image.open(DEVSET / name) as img:
            pages.append(as_page(name, np.asarray(img.convert("RGB"))))
    assert_batch_invariant(ocr_engine, pages)


def tree(folder: Path) -> dict[str, object]:
    """Every output file: sidecars as JSON, images as pixels."""
    out: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".imgtrans.json"):
            out[path.name] = json.loads(path.read_text("utf-8"))
        else:
            with Image.open(path) as img:
                out[path.name] = np.asarray(img).tobytes()
    return out


@pytest.mark.slow
def test_translate_writes_the_same_tree_whatever_batch_size_jobs_or_run(tmp_path: Path) -> None:
    src, tm = tmp_path / "in", tmp_path / "tm.tsv"
    for k, (w, h) in enumerate(SIZES):
        save(generated_page(k, w, h), src / f"p{k}.png")
    tm.write_text("".join(f"{w}\t{k}\n" for w, k in zip(WORDS, KO, strict=True)), "utf-8")
    base = ["translate", str(src), "--to", "ko", "--tm", str(tm), "-q"]

    def run(out: Path, *extra: str) -> dict[str, object]:
        result = runner.invoke(app, [*base, "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
        return tree(out)

    one = run(tmp_path / "b1", "--batch-size", "1", "-j", "1")
    assert len(one) == 2 * len(SIZES)
    four = run(tmp_path / "b4", "--batch-size", "4", "-j", "2")
    # A resumed run: two pages done alone first, the rest in a batch of their own.
    resumed = tmp_path / "resumed"
    for name in ("p1.png", "p3.png"):
        single = tmp_path / "single" / name
        save(np.asarray(Image.open(src / name)), single)
        result = runner.invoke(
            app, ["translate", str(single), "--to", "ko", "--tm", str(tm), "-q", "-o", str(resumed)]
        )
        assert result.exit_code == 0, result.output
    again = run(resumed, "--batch-size", "4", "-j", "1")
    for name, want in one.items():
        assert four[name] == want, f"{name}: --batch-size 4 -j 2 differs from 1 / 1"
        got = again[name]
        if isinstance(want, dict) and isinstance(got, dict):  # run details may differ
            got, want = got["blocks"], want["blocks"]
        assert got == want, f"{name}: a resumed run differs from a whole run"
