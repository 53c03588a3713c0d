"""End to end: draw known text, run `imgtrans translate`, check what came out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_JA, FONT_KO, Text, cer, draw, save
from PIL import Image
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.sidecar import validate

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()

LINES = {
    "en.png": (Text("Where is the station?", (50, 70), 40, font=FONT_KO), "역은 어디에 있나요?"),
    "ja.png": (
        Text("今日はいい天気", (420, 40), 44, vertical=True, font=FONT_JA),
        "오늘은 날씨가 좋다",
    ),
}


def run(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e")
    src = root / "in"
    for name, (text, _) in LINES.items():
        save(draw(560, 420, [text]), src / "sub" / name)
    tm = root / "tm.tsv"
    tm.write_text("".join(f"{t.text}\t{ko}\n" for t, ko in LINES.values()), encoding="utf-8")
    code, out = run("translate", src, "--to", "ko", "--tm", tm, "-o", root / "out", "-j", "2")
    assert code == 0, out
    return src, root / "out"


@pytest.mark.parametrize("name", sorted(LINES))
def test_sidecar_holds_the_text_and_the_tm_translation(
    translated: tuple[Path, Path], name: str
) -> None:
    _, out = translated
    text, korean = LINES[name]
    doc = json.loads((out / "sub" / Path(name).with_suffix(".imgtrans.json")).read_text("utf-8"))
    validate(doc)
    assert doc["status"] == "ok" and doc["output"]["path"] == name
    [block] = doc["blocks"]
    assert cer(block["text"], text.text) <= 0.1
    assert block["translation"] == korean
    assert block["render"]["status"] == "ok" and block["render"]["font_size"] > 0
    assert doc["source"]["path"] == f"sub/{name}" and doc["target_lang"] == "ko"
    assert doc["run"]["translator"].startswith("tm")


@pytest.mark.parametrize("name", sorted(LINES))
def test_source_strokes_are_erased_and_output_decodes(
    translated: tuple[Path, Path], name: str
) -> None:
    src, out = translated
    before = np.asarray(Image.open(src / "sub" / name).convert("RGB")).astype(int)
    after = np.asarray(Image.open(out / "sub" / name).convert("RGB")).astype(int)
    assert after.shape == before.shape
    doc = json.loads((out / "sub" / Path(name).with_suffix(".imgtrans.json")).read_text("utf-8"))
    # Pixels of the original strokes (dark) that are not covered by the new lettering area.
    strokes = before.sum(axis=2) < 200
    x0, y0, x1, y1 = doc["blocks"][0]["render"]["area"]
    outside_new = np.ones_like(strokes)
    outside_new[y0:y1, x0:x1] = False
    gone = strokes & outside_new
    if gone.any():
        assert (after[gone].sum(axis=1) > 600).mean() > 0.95
    # And the original glyph pattern is not there any more, even inside the area.
    same = (np.abs(after - before).sum(axis=2) < 30) & strokes
    assert same.sum() < 0.5 * strokes.sum()


def test_rerun_skips_finished_pages(translated: tuple[Path, Path], tmp_path: Path) -> None:
    src, out = translated
    tm = tmp_path / "tm.tsv"
    tm.write_text("".join(f"{t.text}\t{ko}\n" for t, ko in LINES.values()), encoding="utf-8")
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    result = runner.invoke(
        app, ["translate", str(src), "--to", "ko", "--tm", str(tm), "-o", str(out), "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == 2 and summary["done"] == 0
    assert stamp == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_readme_example_translates_every_block(tmp_path: Path) -> None:
    """The quick-start command: every block of the example pages comes from the TM."""
    code, out = run(
        "translate",
        REPO / "examples/pages",
        "--to",
        "ko",
        "--tm",
        REPO / "examples/tm.tsv",
        "-o",
        tmp_path / "out",
    )
    assert code == 0, out
    truth = json.loads((REPO / "examples/pages/ground_truth.json").read_text("utf-8"))
    for page in truth:
        doc = json.loads(
            (tmp_path / "out" / Path(page).with_suffix(".imgtrans.json")).read_text("utf-8")
        )
        validate(doc)
        blocks = [b for b in doc["blocks"] if b["translate"]]
        assert len(blocks) == len(truth[page]["blocks"]), (page, [b["text"] for b in blocks])
        assert all(b["translation"] and b["render"]["status"] == "ok" for b in blocks), page


@pytest.mark.parametrize(
    ("fmt", "suffix", "pil"),
    [("jpg", ".jpg", "JPEG"), ("webp", ".webp", "WEBP"), ("same", ".png", "PNG")],
)
def test_output_format_and_alpha(tmp_path: Path, fmt: str, suffix: str, pil: str) -> None:
    rgb = draw(480, 200, [Text("Where is the station?", (20, 60), 36, font=FONT_KO)])
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :40] = 0  # a transparent strip on the left
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "a.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Where is the station?\t역은 어디에 있나요?\n", encoding="utf-8")
    code, out = run(
        "translate",
        tmp_path / "a.png",
        "--to",
        "ko",
        "--tm",
        tm,
        "-o",
        tmp_path / "out",
        "--format",
        fmt,
    )
    assert code == 0, out
    written = Image.open(tmp_path / "out" / f"a{suffix}")
    assert written.format == pil and written.size == (480, 200)
    doc = json.loads((tmp_path / "out" / "a.imgtrans.json").read_text("utf-8"))
    assert doc["output"]["path"] == f"a{suffix}" and doc["blocks"][0]["translation"]
    if pil != "JPEG":  # alpha survives where the format has it
        assert written.mode == "RGBA"
        assert np.array_equal(np.asarray(written)[:, :, 3], alpha)


def test_a_translation_nothing_can_hold_is_kept_and_counted(tmp_path: Path) -> None:
    """Erased and left empty never: the source stays, the sidecar and --json say `kept`."""
    rgb = draw(240, 90, [Text("Where is the station?", (12, 30), 20, font=FONT_KO)])
    save(rgb, tmp_path / "in" / "a.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Where is the station?\t" + " ".join(["역은"] * 2000) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["translate", str(tmp_path / "in"), "--to", "ko", "--tm", str(tm), "-o", str(out)]
        + ["--json", "-q"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["kept"] == 1 and summary["overflow"] == 0
    doc = json.loads((out / "a.imgtrans.json").read_text("utf-8"))
    validate(doc)
    [block] = [b for b in doc["blocks"] if b["translate"]]
    assert block["render"]["status"] == "kept" and block["render"]["reason"]
    written = np.asarray(Image.open(out / "a.png").convert("RGB")).astype(int)
    assert np.abs(written - rgb.astype(int)).max() <= 2  # the source, as it was
