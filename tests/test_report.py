"""`imgtrans report`: the HTML of a real translate run, checked in a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote_to_bytes

import numpy as np
import pytest
from drawing import FONT_KO, Text, draw, save
from PIL import Image
from typer.testing import CliRunner

from imgtrans.cli import app

runner = CliRunner()
MAGENTA = (230, 40, 230)  # background of the page that gets translated
CYAN = (40, 200, 230)  # background of the page left untranslated
# A name a URL must escape ('#' starts a fragment, '%' an escape) and that is not UTF-8.
ODD_NAME = os.fsdecode(b"b#1%\xff.png")


def run(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A translate run whose default output folder is ``pages_ko`` beside ``pages``."""
    root = tmp_path_factory.mktemp("report")
    src = root / "pages"
    save(draw(480, 300, [Text("Good morning", (40, 60), 40, font=FONT_KO)], MAGENTA), src / "a.png")
    save(draw(480, 300, [Text("Thank you", (40, 60), 40, font=FONT_KO)], CYAN), src / ODD_NAME)
    (src / "broken.png").write_bytes(b"not an image at all")
    tm = root / "tm.tsv"
    tm.write_text("Good morning\t좋은 아침\n", encoding="utf-8")
    code, out = run("translate", src, "--to", "ko", "--tm", tm, "-j", "1", "-q")
    assert code == 3, out  # the broken file fails, the others are written
    return root / "pages_ko"


def test_report_lists_pages_worst_first_with_totals(outdir: Path) -> None:
    code, out = run("report", outdir)
    assert code == 0, out
    html = (outdir / "report.html").read_text("utf-8")
    titles = re.findall(r"<h2>\d+\. (\S+)", html)
    assert titles == ["broken.png", "b#1%\\xff.png", "a.png"]
    assert re.search(r"failed pages</th><td class=\"num\">1<", html)
    assert "좋은 아침" in html and "Thank you" in html
    # Images are referenced relatively: the source beside the output folder, the output in it.
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert "../pages/a.png" in srcs and "a.png" in srcs
    assert "../pages/b%231%25%FF.png" in srcs and "b%231%25%FF.png" in srcs
    assert all((outdir / os.fsdecode(unquote_to_bytes(s))).is_file() for s in srcs)
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_report_embed_and_output_path(outdir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "r.html"
    code, out = run("report", outdir, "-o", target, "--embed")
    assert code == 0, out
    html = target.read_text("utf-8")
    assert html.count('<img src="data:image/png;base64,') == 4  # two pages, before + after


def test_report_of_a_folder_without_sidecars_exits_4(tmp_path: Path) -> None:
    code, out = run("report", tmp_path)
    assert code == 4
    assert "no imgtrans sidecars" in out


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("this test needs Debian's chromium: apt-get install -y chromium")


def test_report_loads_in_a_browser_and_shows_the_images(outdir: Path, tmp_path: Path) -> None:
    code, out = run("report", outdir)
    assert code == 0, out
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1000,2400",
            f"--screenshot={shot}",
            (outdir / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == [], console
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    half = pixels.shape[1] // 2
    for colour in (MAGENTA, CYAN):
        near = np.abs(pixels - np.array(colour)).max(axis=2) <= 12
        # Before on the left half, after on the right half, each a sizeable picture.
        assert near[:, :half].sum() > 20_000, colour
        assert near[:, half:].sum() > 20_000, colour


def test_report_names_the_output_when_it_differs_from_the_source(
    outdir: Path, tmp_path: Path
) -> None:
    import json

    doc = json.loads((outdir / "a.imgtrans.json").read_text("utf-8"))
    doc["output"]["path"] = "a.ko.png"
    (tmp_path / "a.ko.imgtrans.json").write_text(json.dumps(doc), encoding="utf-8")
    shutil.copy(outdir / "a.png", tmp_path / "a.ko.png")
    code, out = run("report", tmp_path, "--input", outdir.parent / "pages")
    assert code == 0, out
    html = (tmp_path / "report.html").read_text("utf-8")
    assert "<h2>1. a.png → a.ko.png" in html
    assert html.count("<img") == 2  # the source found through --input, and the output
