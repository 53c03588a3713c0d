"""The sidecar models: the shipped JSON Schema is generated from them, written sidecars
validate against both, and sidecars of schema version 1 still read (resume and render)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner

from imgtrans import sidecar
from imgtrans.cli import app
from imgtrans.errors import PageError
from imgtrans.sidecar_models import SCHEMA_VERSION, Sidecar, json_schema

runner = CliRunner()
SCHEMA_FILE = Path(__file__).parents[1] / "imgtrans" / "sidecar.schema.json"


def test_the_shipped_schema_file_is_generated_from_the_models() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert shipped == json_schema(), (
        "imgtrans/sidecar.schema.json is out of step with imgtrans/sidecar_models.py: "
        "run `imgtrans schema > imgtrans/sidecar.schema.json`"
    )
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout) == shipped


def _translate(tmp_path: Path, *extra: str) -> Path:
    src = tmp_path / "in"
    save(draw(360, 110, [Text("Hello", (30, 25), 44, font=FONT_KO)]), src / "a.png")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["translate", str(src), "--to", "ko", "-t", "none", "-o", str(out), "-j", "1", *extra]
    )
    assert result.exit_code == 0, result.output
    return out / "a.imgtrans.json"


def test_a_written_sidecar_validates_against_schema_and_models(tmp_path: Path) -> None:
    path = _translate(tmp_path, "--keep-clean")
    doc = json.loads(path.read_text("utf-8"))
    sidecar.validate(doc)
    model = Sidecar.model_validate(doc)
    assert model.schema_version == SCHEMA_VERSION and model.status == "ok"
    assert model.output is not None and model.output.clean == "a.clean.png"
    assert model.blocks and model.blocks[0].render.status in ("ok", "untranslated")
    assert model.to_json() == doc  # reading and writing again changes nothing


def _as_version_1(doc: dict) -> dict:  # type: ignore[type-arg]
    """The same sidecar as imgtrans wrote it before the models (schema version 1)."""
    old = json.loads(json.dumps(doc))
    old["schema_version"] = 1
    if old["output"] and old["output"].get("clean") is None:
        old["output"] = {"path": old["output"]["path"]}
    for block in old["blocks"]:
        del block["translation_error"]  # optional in version 1
        if block["style"] is not None:
            del block["style"]["alignment"]
    return old


def test_a_version_1_sidecar_is_resumed_and_rerendered(tmp_path: Path) -> None:
    path = _translate(tmp_path)
    old = _as_version_1(json.loads(path.read_text("utf-8")))
    old["blocks"][0]["translation"] = "고침"
    old["blocks"][0]["future_field"] = {"kept": True}  # unknown block fields survive
    path.write_text(json.dumps(old, ensure_ascii=False), "utf-8")
    assert sidecar.load(path).schema_version == 1

    rerun = runner.invoke(
        app,
        ["translate", str(tmp_path / "in"), "--to", "ko", "-t", "none"]
        + ["-o", str(tmp_path / "out"), "-j", "1", "--json"],
    )
    assert rerun.exit_code == 0 and json.loads(rerun.stdout)["skipped"] == 1, rerun.output

    result = runner.invoke(app, ["render", str(path), "--json"])
    assert result.exit_code == 0, result.output
    new = json.loads(path.read_text("utf-8"))
    sidecar.validate(new)
    assert new["schema_version"] == SCHEMA_VERSION
    assert new["blocks"][0]["future_field"] == {"kept": True}
    assert new["blocks"][0]["render"]["status"] == "ok"
    assert "".join(new["blocks"][0]["render"]["lines"]) == "고침"


def test_a_bad_sidecar_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = _translate(tmp_path)
    doc = json.loads(path.read_text("utf-8"))
    doc["blocks"][0]["render"]["status"] = "drawn"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(PageError, match=r"a\.imgtrans\.json: blocks\.0\.render\.status") as info:
        sidecar.load(path)
    assert info.value.kind == "bad_sidecar"
    doc["schema_version"] = 99
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(PageError, match="schema version 1, 2"):
        sidecar.load(path)
