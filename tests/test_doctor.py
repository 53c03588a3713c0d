"""`imgtrans doctor`: truthful about this machine, exit 1 with the fix when translate would stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from imgtrans.cli import app

runner = CliRunner()


def doctor(*args: str) -> tuple[int, dict[str, dict[str, str]], str]:
    result = runner.invoke(app, ["doctor", "--json", *args])
    doc = json.loads(result.stdout)
    assert doc["ok"] == (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in doc["checks"]}, result.stdout


@pytest.fixture
def here(bare_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(bare_cwd / "weights"))  # no LaMa weights
    return bare_cwd


def test_reports_this_machine_and_fails_without_a_translator(here: Path) -> None:
    code, checks, _ = doctor()
    assert code == 1
    assert checks["python"]["status"] == "ok"
    assert checks["torch"]["detail"] == torch.__version__
    if torch.cuda.is_available():
        assert torch.cuda.get_device_name(0) in checks["device"]["detail"]
    else:
        assert checks["device"]["status"] == "warn" and checks["device"]["detail"].startswith("cpu")
    assert "CPUExecutionProvider" in checks["onnxruntime"]["detail"]
    for kind in ("det", "rec", "cls"):
        assert checks[f"ocr model {kind}"]["status"] == "ok"
        assert len(checks[f"ocr model {kind}"]["detail"].split("sha256 ")[1].split()[0]) == 64
    for lang in ("ko", "ja", "zh-Hans", "zh-Hant", "en"):
        assert checks[f"font {lang}"]["status"] == "ok"
    lama = checks["lama weights"]
    assert lama["status"] == "warn" and lama["detail"].startswith("absent")
    assert lama["fix"] == "imgtrans models fetch lama-manga"
    assert checks["translator deepl"]["detail"] == "not configured"
    assert checks["translator"]["status"] == "fail" and "--tm" in checks["translator"]["fix"]
    assert checks["cache folder"]["status"] == "ok"


def test_a_key_in_dotenv_makes_it_ready_and_is_never_printed(here: Path) -> None:
    (here / ".env").write_text("DEEPL_API_KEY=doctor-secret-42:fx\n", encoding="utf-8")
    code, checks, out = doctor()
    assert code == 0, out
    assert checks["translator deepl"]["detail"] == "configured (DEEPL_API_KEY set)"
    assert checks["translator"]["detail"] == "auto: deepl (DEEPL_API_KEY is set)"
    human = runner.invoke(app, ["doctor"])
    assert human.exit_code == 0 and "ready to translate" in human.stdout
    assert "doctor-secret-42" not in out + human.stdout


def test_broken_config_and_unwritable_cache_fail_with_a_fix(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "imgtrans.toml").write_text("batchsize = 2\n", encoding="utf-8")
    (here / "afile").write_text("x", encoding="utf-8")
    monkeypatch.setenv("IMGTRANS_CACHE_DIR", str(here / "afile" / "cache"))
    code, checks, _ = doctor()
    assert code == 1
    assert checks["config"]["status"] == "fail" and "batchsize" in checks["config"]["detail"]
    assert checks["cache folder"]["status"] == "fail"
    assert "IMGTRANS_CACHE_DIR" in checks["cache folder"]["fix"]
    human = runner.invoke(app, ["doctor"]).stdout
    assert "FAIL  config" in human and "fix:" in human
