"""`imgtrans render` on sidecars that pass the schema but not the image: each fault fails its
own file (``bad_sidecar``, ``missing_font``), the other files of the run are re-lettered, and
sizes are capped to the image so nothing blows up."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "examples/pages/comic_en.png"
SIDECAR = "comic_en.imgtrans.json"
runner = CliRunner()
HUGE = 123456.5  # replaced by the literal 1e309 (parsed as infinity) in the JSON text


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("translated")
    args = ["translate", str(PAGE), "--to", "ko", "--tm", str(REPO / "examples/tm.tsv")]
    result = runner.invoke(app, [*args, "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    return out


def _outside(block: dict[str, Any]) -> None:
    for line in block["lines"]:
        line["polygon"] = [[5000, 5000], [5100, 5000], [5100, 5100], [5000, 5100]]


def _no_lines(block: dict[str, Any]) -> None:
    block["lines"] = []


def _nan(block: dict[str, Any]) -> None:
    block["lines"][0]["polygon"][0][0] = float("nan")


def _infinite(block: dict[str, Any]) -> None:
    block["lines"][0]["polygon"][1][1] = HUGE


def _no_glyph(block: dict[str, Any]) -> None:
    block["translation"] = "\U000f0001\U000f0002"  # private use: no font has it


def _huge_font(block: dict[str, Any]) -> None:
    block["style"]["font_size"] = 100_000


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str | None]] = {
    "polygon outside the image": (_outside, "bad_sidecar"),
    "empty lines": (_no_lines, "bad_sidecar"),
    "NaN coordinate": (_nan, "bad_sidecar"),
    "1e309 coordinate": (_infinite, "bad_sidecar"),
    "missing glyph": (_no_glyph, "missing_font"),
    "font size 100000": (_huge_font, None),  # capped to the image: lettered
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_sidecar_wrong_for_its_image_fails_only_itself(
    translated: Path, tmp_path: Path, case: str
) -> None:
    change, kind = CASES[case]
    bad, good = tmp_path / "bad", tmp_path / "good"
    for folder in (bad, good):
        shutil.copytree(translated, folder)
    for folder in (bad, good):  # both edited, so both are re-lettered
        doc = json.loads((folder / SIDECAR).read_text("utf-8"))
        [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
        block["translation"] = "모두 어디로 갔지?"
        if folder == bad:
            change(block)
        text = json.dumps(doc, ensure_ascii=False).replace(str(HUGE), "1e309")
        (folder / SIDECAR).write_text(text, "utf-8")
    image_before = (bad / "comic_en.png").read_bytes()
    sidecar_before = (bad / SIDECAR).read_bytes()

    result = runner.invoke(app, ["render", str(tmp_path), "--json", "-q"])
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    good_doc = json.loads((good / SIDECAR).read_text("utf-8"))
    assert all(b["render"]["status"] in ("ok", "skipped") for b in good_doc["blocks"])
    if kind is None:
        assert result.exit_code == ExitCode.OK, result.output
        assert (summary["done"], summary["failed"]) == (2, 0)
        doc = json.loads((bad / SIDECAR).read_text("utf-8"))
        [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
        assert block["render"]["status"] == "ok"
        assert block["style"]["font_size"] <= 1000  # capped to the image
        return
    assert result.exit_code == ExitCode.SOME_FAILED, result.output
    assert (summary["done"], summary["failed"]) == (1, 1), summary
    (failure,) = summary["failures"]
    assert failure["kind"] == kind, failure
    # Relative to the folder given to render, as translate reports its inputs.
    assert failure["path"] == f"{bad.name}/{SIDECAR}", failure
    assert SIDECAR in failure["message"], failure
    # The failed file is left as it was: nothing half-written.
    assert (bad / "comic_en.png").read_bytes() == image_before
    assert (bad / SIDECAR).read_bytes() == sidecar_before


def test_a_polygon_poking_out_of_the_image_is_clamped(translated: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    shutil.copytree(translated, folder)
    doc = json.loads((folder / SIDECAR).read_text("utf-8"))
    [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
    block["translation"] = "모두 어디로 갔지?"
    block["lines"][0]["polygon"][0] = [-50.0, -40.0]
    (folder / SIDECAR).write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    result = runner.invoke(app, ["render", str(folder), "--json", "-q"])
    assert result.exit_code == ExitCode.OK, result.output
    doc = json.loads((folder / SIDECAR).read_text("utf-8"))
    [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
    assert block["lines"][0]["polygon"][0] == [0.0, 0.0]
    assert block["render"]["status"] == "ok"
