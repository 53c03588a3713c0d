"""Config files (imgtrans.toml, $XDG_CONFIG_HOME/imgtrans/config.toml) and `config show`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

runner = CliRunner()


@pytest.fixture
def here(bare_cwd: Path) -> Path:
    return bare_cwd


def user_config(here: Path, text: str) -> Path:
    path = here.parent / "xdg" / "imgtrans" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def folder_config(here: Path, text: str, mode: int = 0o644) -> Path:
    path = here / "imgtrans.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def show() -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, dict[str, object]] = json.loads(result.stdout)
    return doc


def test_precedence_user_folder_environment(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_config(here, 'to = "ja"\nbatch_size = 2\njobs = 3\nformat = "jpg"\n')
    folder_config(here, "batch_size = 5\njobs = 6\n")
    monkeypatch.setenv("IMGTRANS_JOBS", "7")
    options = show()["options"]
    assert options["to"] == {"value": "ja", "source": str(here.parent / "xdg/imgtrans/config.toml")}
    assert options["format"]["value"] == "jpg"
    assert options["batch_size"] == {"value": 5, "source": "imgtrans.toml"}
    assert options["jobs"] == {"value": 7, "source": "environment IMGTRANS_JOBS"}
    assert options["device"] == {"value": "auto", "source": "default"}


def test_config_values_reach_translate_and_the_command_line_wins(here: Path) -> None:
    save(draw(640, 240, [Text("Hello", (60, 80), 48, font=FONT_KO)]), here / "in" / "a.png")
    (here / "tm.tsv").write_text("Hello\t안녕\n", encoding="utf-8")
    # A relative path in the user config is relative to that file's folder.
    (here.parent / "xdg" / "imgtrans").mkdir(parents=True)
    (here.parent / "xdg" / "imgtrans" / "user-tm.tsv").write_text("Hello\t여보세요\n", "utf-8")
    user_config(here, 'tm = "user-tm.tsv"\nformat = "jpg"\n')
    folder_config(here, 'to = "ko"\noutput = "out"\njobs = 1\nquiet = true\n')
    result = runner.invoke(app, ["translate", "in"])
    assert result.exit_code == 0, result.output
    doc = json.loads((here / "out" / "a.imgtrans.json").read_text("utf-8"))
    assert [b["translation"] for b in doc["blocks"] if b["translate"]] == ["여보세요"]
    assert (here / "out" / "a.jpg").is_file()  # format from the user config
    result = runner.invoke(app, ["translate", "in", "--tm", "tm.tsv", "--format", "png"])
    assert result.exit_code == 0, result.output
    doc = json.loads((here / "out" / "a.imgtrans.json").read_text("utf-8"))
    assert [b["translation"] for b in doc["blocks"] if b["translate"]] == ["안녕"]
    assert (here / "out" / "a.png").is_file()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("batchsize = 4\n", ["batchsize", "did you mean 'batch_size'"]),
        ('batch_size = "four"\n', ["batch_size", "integer"]),
        ('overwrite = "maybe"\n', ["overwrite", "true or false"]),
        ("to = 3\n", ["'to'", "string"]),
        ("[env]\nDEEPL_API_BASEURL = 'x'\n", ["DEEPL_API_BASEURL", "unknown [env] variable"]),
        ("to = [unclosed\n", ["not valid TOML"]),
    ],
)
def test_unknown_or_mistyped_keys_name_the_key_and_the_file(
    here: Path, text: str, words: list[str]
) -> None:
    path = folder_config(here, text)
    for args in (["translate", ".", "--to", "ko", "-t", "none"], ["config", "show"]):
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert str(path) in result.output.replace("\n", "")
        for word in words:
            assert word in result.output


def test_a_key_in_a_config_others_can_read_is_refused(here: Path) -> None:
    text = '[env]\nDEEPL_API_KEY = "secret-value-123"\nDEEPL_API_BASE = "http://127.0.0.1:9"\n'
    folder_config(here, text, 0o644)
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == ExitCode.USAGE
    assert "DEEPL_API_KEY" in result.output and "environment or a .env" in result.output
    assert "secret-value-123" not in result.output
    folder_config(here, text, 0o600)  # only its owner can read it: accepted, and masked
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "secret-value-123" not in result.output
    assert "deepl (DEEPL_API_KEY is set)" in result.output
    assert 'DEEPL_API_BASE = "http://127.0.0.1:9"' in result.output


def test_show_says_where_each_variable_came_from_and_masks_keys(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / ".env").write_text("GOOGLE_API_KEY=from-dotenv-999\n", encoding="utf-8")
    monkeypatch.setenv("GOOGLE_API_BASE", "http://127.0.0.1:1")
    doc = show()
    doc["env"].pop("IMGTRANS_CACHE_DIR")
    assert doc["env"] == {
        "GOOGLE_API_KEY": {"value": "********", "source": ".env"},
        "GOOGLE_API_BASE": {"value": "http://127.0.0.1:1", "source": "environment"},
    }
    assert str(doc["auto_translator"]).startswith("google")
    assert "GOOGLE_API_KEY" not in os.environ  # show reads .env without loading it
    text = runner.invoke(app, ["config", "show"]).output
    assert "from-dotenv-999" not in text and "# .env" in text


def test_show_without_anything_configured_says_translate_would_stop(here: Path) -> None:
    doc = show()
    assert "nothing configured" in str(doc["auto_translator"])
    assert list(doc["env"]) == ["IMGTRANS_CACHE_DIR"]


def test_offline_model_in_a_config_makes_auto_pick_ctranslate2(here: Path) -> None:
    folder_config(here, 'ct2_model = "models"\n')
    assert str(show()["auto_translator"]).startswith("ctranslate2 (--ct2-model")
    result = runner.invoke(app, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["translator"]["detail"].startswith("auto: ctranslate2")
