"""`--translator auto` (the default): the first configured backend, from .env too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from fakeapis import TRANSLATOR_ENV, FakeDeepL, backend_env
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode, UsageError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import REGISTRY, auto

runner = CliRunner()
EXAMPLE_TM = Path(__file__).resolve().parent.parent / "examples" / "tm.tsv"


@pytest.fixture
def here(bare_cwd: Path) -> Path:
    return bare_cwd


def one_page(folder: Path) -> Path:
    save(draw(640, 240, [Text("Hello", (60, 80), 48, font=FONT_KO)]), folder / "dir" / "en.png")
    return folder / "dir"


def test_every_backend_in_the_table_is_registered() -> None:
    assert {b.name for b in auto.BACKENDS} <= set(REGISTRY)


@pytest.mark.parametrize("backend", [b.name for b in auto.BACKENDS])
def test_auto_picks_the_backend_whose_variables_are_set(backend: str) -> None:
    entry = auto.backend(backend)
    assert entry is not None
    env = dict.fromkeys(entry.variables, "x")
    name, why = auto.resolve(TranslatorOptions(), env)
    assert name == backend and why.endswith("is set")
    assert auto.resolve(TranslatorOptions(tm=Path("m.tsv")), env)[0] == f"tm,{backend}"


def test_auto_order_papago_needs_both_variables_and_first_wins() -> None:
    options = TranslatorOptions()
    assert auto.resolve(options, {"PAPAGO_CLIENT_ID": "i", "GOOGLE_API_KEY": "g"})[0] == "google"
    assert auto.resolve(options, {"OPENAI_API_BASE": "http://x", "DEEPL_API_KEY": "k"})[0] == (
        "deepl"
    )
    with pytest.raises(UsageError):
        auto.resolve(options, {"DEEPL_API_KEY": "  "})  # blank is not configured


def test_tm_alone_when_no_backend_is_configured() -> None:
    assert auto.resolve(TranslatorOptions(tm=Path("m.tsv")), {}) == (
        "tm",
        "--tm given, no API backend configured",
    )


def test_nothing_configured_exits_2_listing_every_way(here: Path) -> None:
    src = one_page(here)
    result = runner.invoke(app, ["translate", str(src), "--to", "ko", "-j", "1"])
    assert result.exit_code == ExitCode.USAGE, result.output
    for b in auto.BACKENDS:
        assert f"{b.name}:" in result.output
    assert "--tm" in result.output and "--translator none" in result.output
    assert not (here / "dir_ko").exists()


@pytest.mark.network
def test_dotenv_alone_configures_deepl_end_to_end(
    here: Path, deepl_api: FakeDeepL, capfd: pytest.CaptureFixture[str]
) -> None:
    """The design card's command, as typed, on a fresh install: only a .env file."""
    one_page(here)
    env_lines = [f"{k}={v}" for k, v in backend_env("deepl", deepl_api).items()]
    (here / ".env").write_text("\n".join(env_lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in TRANSLATOR_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "imgtrans", "translate", "dir/", "--to", "ko", "-j", "1"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "translator: deepl (auto: DEEPL_API_KEY is set)" in proc.stderr
    assert proc.stderr.count("translator: deepl") == 1
    assert deepl_api.key not in proc.stderr + proc.stdout
    doc = json.loads((here / "dir_ko" / "en.imgtrans.json").read_text("utf-8"))
    assert doc["run"]["translator"] == "deepl"
    assert [b["translation"] for b in doc["blocks"] if b["translate"]] == ["안녕"]
    assert (here / "dir_ko" / "en.png").is_file()
    assert [r for r in deepl_api.requests if r.method == "POST"]


@pytest.mark.network
def test_tm_first_in_a_chain_with_the_configured_backend(
    here: Path, deepl_api: FakeDeepL, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in backend_env("deepl", deepl_api).items():
        monkeypatch.setenv(key, value)
    src = one_page(here)
    tm = here / "tm.tsv"
    tm.write_text("Hello\t안녕!\n", encoding="utf-8")
    result = runner.invoke(
        app, ["translate", str(src), "--to", "ko", "--tm", str(tm), "-j", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((here / "dir_ko" / "en.imgtrans.json").read_text("utf-8"))
    assert doc["run"]["translator"].split(",")[1] == "deepl"
    assert doc["run"]["translator"].startswith("tm")
    assert [b["translation"] for b in doc["blocks"] if b["translate"]] == ["안녕!"]
    assert not [r for r in deepl_api.requests if r.method == "POST"]  # the TM had it all
