"""`imgtrans render`: re-letter after editing a sidecar; sidecar paths stay inside the folder."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "examples/pages/comic_en.png"
runner = CliRunner()


def translate(out: Path, *extra: str) -> Path:
    result = runner.invoke(
        app,
        [
            "translate",
            str(PAGE),
            "--to",
            "ko",
            "--tm",
            str(REPO / "examples/tm.tsv"),
            "-o",
            str(out),
            "-q",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "comic_en.imgtrans.json"


def edit(sidecar: Path, startswith: str, translation: str) -> dict:
    doc = json.loads(sidecar.read_text("utf-8"))
    [block] = [b for b in doc["blocks"] if b["text"].startswith(startswith)]
    block["translation"] = translation
    sidecar.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return block


@pytest.mark.parametrize("keep_clean", [True, False])
def test_edited_translation_is_lettered_and_the_rest_is_untouched(
    tmp_path: Path, keep_clean: bool
) -> None:
    sidecar = translate(tmp_path, *(["--keep-clean"] if keep_clean else []))
    before = np.asarray(Image.open(tmp_path / "comic_en.png").convert("RGB")).astype(int)
    old = edit(sidecar, "WHERE", "모두 어디로 사라진 거지? 아무도 없어!")
    result = runner.invoke(app, ["render", str(tmp_path), "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["done"] == 1
    doc = json.loads(sidecar.read_text("utf-8"))
    [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
    assert block["render"]["status"] == "ok"
    assert " ".join(block["render"]["lines"]).split() == [
        "모두",
        "어디로",
        "사라진",
        "거지?",
        "아무도",
        "없어!",
    ]
    after = np.asarray(Image.open(tmp_path / "comic_en.png").convert("RGB")).astype(int)
    x0, y0, x1, y1 = old["render"]["area"]
    changed = np.abs(after - before).sum(axis=2) > 40
    assert changed[y0:y1, x0:x1].sum() > 200  # the balloon was re-lettered
    # Outside that balloon's area the page stays as it was (up to re-rendering the other
    # blocks the same way and the erase margin).
    outside = changed.copy()
    outside[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = False
    assert outside.mean() < 0.01
    # Inside the lettering area every pixel is background, text, or an anti-aliased edge
    # between the two: no smudge left from the old lettering.
    area = np.zeros(after.shape[:2], np.uint8)
    cv2.fillPoly(area, [np.round(np.array(block["render"]["area_polygon"])).astype(np.int32)], 1)
    pixels = after[area > 0]
    bg, fg = np.array(block["style"]["background_color"]), np.array(block["style"]["text_color"])
    span = fg - bg
    t = np.clip(((pixels - bg) @ span) / max(1, span @ span), 0, 1)
    off_line = np.abs(pixels - (bg + t[:, None] * span)).sum(axis=1)
    assert (off_line < 40).mean() > 0.99


def test_a_sidecar_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sidecar = translate(out)
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"precious")
    doc = json.loads(sidecar.read_text("utf-8"))
    doc["output"]["path"] = "../victim.png"
    sidecar.write_text(json.dumps(doc), "utf-8")
    result = runner.invoke(app, ["render", str(out)])
    assert result.exit_code == ExitCode.SOME_FAILED
    assert "outside" in result.output
    assert victim.read_bytes() == b"precious"
    doc["output"]["path"] = str(victim)  # absolute
    sidecar.write_text(json.dumps(doc), "utf-8")
    assert runner.invoke(app, ["render", str(sidecar)]).exit_code == ExitCode.SOME_FAILED
    assert victim.read_bytes() == b"precious"


def test_a_broken_sidecar_fails_only_itself(tmp_path: Path) -> None:
    sidecar = translate(tmp_path)
    (tmp_path / "junk.imgtrans.json").write_bytes(b"\xff\xfe{not json")
    result = runner.invoke(app, ["render", str(tmp_path), "--json", "-q"])
    assert result.exit_code == ExitCode.SOME_FAILED
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["done"] == 1 and summary["failed"] == 1
    assert json.loads(sidecar.read_text("utf-8"))["status"] == "ok"


def test_every_package_is_installed() -> None:
    """pyproject lists packages explicitly (fonts/ is mapped in): none may be forgotten."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    found = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "imgtrans").rglob("__init__.py")
    }
    assert found | {"imgtrans.fonts"} == set(config["packages"])


@pytest.mark.parametrize("keep_clean", [True, False])
def test_a_translation_too_long_to_letter_keeps_what_was_there(
    tmp_path: Path, keep_clean: bool
) -> None:
    sidecar = translate(tmp_path, *(["--keep-clean"] if keep_clean else []))
    before = np.asarray(Image.open(tmp_path / "comic_en.png").convert("RGB")).astype(int)
    edit(sidecar, "WHERE", " ".join(["아무도"] * 3000))
    result = runner.invoke(app, ["render", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(sidecar.read_text("utf-8"))
    [block] = [b for b in doc["blocks"] if b["text"].startswith("WHERE")]
    assert block["render"]["status"] == "kept" and "source left" in block["render"]["reason"]
    after = np.asarray(Image.open(tmp_path / "comic_en.png").convert("RGB")).astype(int)
    x0, y0, x1, y1 = block["render"]["area"]
    # Its previous lettering is put back, not erased and left empty.
    assert np.abs(after[y0:y1, x0:x1] - before[y0:y1, x0:x1]).max() <= 8
