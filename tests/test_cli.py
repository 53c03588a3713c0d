"""Every exit code of the table in imgtrans/errors.py, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from typer.testing import CliRunner
from unprivileged import run_cli

from imgtrans.cli import app
from imgtrans.errors import ExitCode

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def pages(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with one English page and a TM that translates it."""
    src = tmp_path / "in"
    save(draw(640, 300, [Text("Good morning!", (40, 60), 40, font=FONT_KO)]), src / "a.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Good morning!\t좋은 아침!\n", encoding="utf-8")
    return src, tm


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_ok_is_0_and_json_summary_on_stdout(pages: tuple[Path, Path], tmp_path: Path) -> None:
    src, tm = pages
    result = runner.invoke(
        app,
        [
            "translate",
            str(src),
            "--to",
            "ko",
            "--tm",
            str(tm),
            "-o",
            str(tmp_path / "out"),
            "--json",
            "-j",
            "1",
            "-q",
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["done"] == 1 and summary["failed"] == 0


def test_usage_is_2(pages: tuple[Path, Path]) -> None:
    src, tm = pages
    assert invoke("translate", src, "--tm", tm)[0] == ExitCode.USAGE  # --to missing
    code, out = invoke("translate", src, "--to", "ko", "--tm", tm, "--device", "tpu")
    assert code == ExitCode.USAGE and "device" in out
    code, out = invoke("translate", src, "--to", "ko")  # no translator chosen
    assert code == ExitCode.USAGE and "--translator" in out
    code, out = invoke("translate", src, "--to", "ko", "-t", "nosuch")
    assert code == ExitCode.USAGE and "nosuch" in out and "none" in out


def test_some_failed_is_3(pages: tuple[Path, Path], tmp_path: Path) -> None:
    src, tm = pages
    (src / "broken.png").write_bytes(b"this is not a png")
    code, out = invoke(
        "translate", src, "--to", "ko", "--tm", tm, "-o", tmp_path / "out", "-j", "1"
    )
    assert code == ExitCode.SOME_FAILED, out
    assert (tmp_path / "out" / "a.png").is_file()
    doc = json.loads((tmp_path / "out" / "broken.imgtrans.json").read_text("utf-8"))
    assert doc["status"] == "failed" and doc["error"]["kind"] == "not_an_image"


def test_no_input_is_4(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out = invoke("translate", tmp_path / "empty", "--to", "ko", "-t", "none")
    assert code == ExitCode.NO_INPUT and "no images found" in out
    code, out = invoke("translate", tmp_path / "missing", "--to", "ko", "-t", "none")
    assert code == ExitCode.NO_INPUT and "not found" in out


def test_read_only_output_is_4_before_any_work(pages: tuple[Path, Path], tmp_path: Path) -> None:
    """As root (CI) the CLI runs without the capability to write into read-only folders."""
    src, tm = pages
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        args = ["translate", str(src), "--to", "ko", "--tm", str(tm), "-o", str(out)]
        code, text = run_cli(args, cwd=tmp_path)
    finally:
        out.chmod(0o700)
    assert code == ExitCode.NO_INPUT and "not writable" in text


def test_unwritable_output_location_is_4_even_for_root(pages: tuple[Path, Path]) -> None:
    src, tm = pages
    code, text = invoke("translate", src, "--to", "ko", "--tm", tm, "-o", "/proc/self/imgtrans-out")
    assert code == ExitCode.NO_INPUT and "not writable" in text


def test_missing_model_is_5(
    pages: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, tm = pages
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(tmp_path / "no-weights"))
    code, out = invoke(
        "translate", src, "--to", "en", "--from", "ko", "--tm", tm, "-o", tmp_path / "o"
    )
    assert code == ExitCode.MISSING_MODEL and "Hangul" in out
    assert "imgtrans models fetch ocr-korean" in out
    code, out = invoke(
        "translate", src, "--to", "ko", "--tm", tm, "--inpainter", "lama", "-o", tmp_path / "o"
    )
    assert code == ExitCode.MISSING_MODEL and "imgtrans models fetch" in out


def test_missing_font_is_6(pages: tuple[Path, Path], tmp_path: Path) -> None:
    src, tm = pages
    code, out = invoke("translate", src, "--to", "ko", "--tm", tm, "--font", tmp_path / "nope.ttf")
    assert code == ExitCode.MISSING_FONT and "nope.ttf" in out


def test_translator_failure_is_7(pages: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = pages
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"\xff\xfe not utf-8 \x80\n")
    code, out = invoke("translate", src, "--to", "ko", "--tm", bad, "-o", tmp_path / "o")
    assert code == ExitCode.TRANSLATOR and "not UTF-8" in out


def test_unexpected_is_1_with_a_traceback_and_no_locals(
    pages: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, tm = pages
    from imgtrans import api

    def broken_stage(pages: object) -> object:
        secret = "sk-SENTINEL-0123"  # noqa: F841 - a local that must never be printed
        raise RuntimeError("injected fault")

    def broken_mask(name: str, stage: object) -> object:
        return broken_stage if name == "mask" else stage

    real_execute = api.execute
    monkeypatch.setattr(
        api, "execute", lambda *args, **kw: real_execute(*args[:-1], broken_mask, **kw)
    )  # the CLI's run with its mask stage replaced from outside
    code, out = invoke("translate", src, "--to", "ko", "--tm", tm, "-o", tmp_path / "o", "-j", "1")
    assert code == ExitCode.UNEXPECTED
    assert "injected fault" in out and "broken_stage" in out
    assert "SENTINEL" not in out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, ExitCode.INTERRUPTED), (signal.SIGTERM, ExitCode.TERMINATED)]
)
def test_signals_are_130_and_143_and_leave_no_partial_files(
    tmp_path: Path, sig: int, code: int
) -> None:
    src = tmp_path / "in"
    for i in range(40):
        save(
            draw(500, 260, [Text(f"Page number {i} here", (30, 80), 36, font=FONT_KO)]),
            src / f"p{i:02d}.png",
        )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imgtrans",
            "translate",
            str(src),
            "--to",
            "ko",
            "-t",
            "none",
            "-o",
            str(out),
            "-j",
            "2",
            "--batch-size",
            "2",
            "-q",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*.imgtrans.json")):
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    finished = list(out.glob("*.imgtrans.json"))
    assert 0 < len(finished) < 40
    for sc in finished:  # every sidecar that exists says ok and its image is complete
        doc = json.loads(sc.read_text("utf-8"))
        assert doc["status"] == "ok"
        assert (out / doc["output"]["path"]).stat().st_size > 0


def test_a_character_no_font_has_fails_only_its_page(tmp_path: Path) -> None:
    src = tmp_path / "in"
    save(draw(640, 300, [Text("Good morning!", (40, 60), 40, font=FONT_KO)]), src / "a.png")
    save(draw(640, 300, [Text("Good night!", (40, 60), 40, font=FONT_KO)]), src / "b.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Good morning!\t좋은 아침!\nGood night!\t잘 자 \U000f0001\n", encoding="utf-8")
    code, out = invoke(
        "translate", src, "--to", "ko", "--tm", tm, "-o", tmp_path / "out", "-j", "1"
    )
    assert code == ExitCode.SOME_FAILED, out
    ok = json.loads((tmp_path / "out" / "a.imgtrans.json").read_text("utf-8"))
    bad = json.loads((tmp_path / "out" / "b.imgtrans.json").read_text("utf-8"))
    assert ok["status"] == "ok" and bad["status"] == "failed"
    assert bad["error"]["kind"] == "missing_font" and "U+F0001" in bad["error"]["message"]
    assert not (tmp_path / "out" / "b.png").exists()
