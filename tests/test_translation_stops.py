"""A translation API that hangs or rejects one request: a stop (SIGTERM, Ctrl-C) ends the run
at once with its own exit code and is never a page's failure; a client error for one text
fails that text alone and the run goes on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw, save
from fakeapis import FakeDeepL, FakeOpenAI, backend_env, serve
from fakeapis.core import Reply, Seen
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode, TranslatorError
from imgtrans.options import TranslatorOptions
from imgtrans.translators.deepl import DeepLTranslator
from imgtrans.translators.http import RetryPolicy
from imgtrans.translators.openai import OpenAITranslator

REPO = Path(__file__).resolve().parent.parent
WORDS = ["Hello", "Station", "Coffee", "Garden", "Market", "Bridge"]


@dataclass
class PickyDeepL(FakeDeepL):
    """DeepL that hangs on any request holding ``hang_on`` and answers 400 to any request
    holding ``reject``."""

    hang_on: str = "\0"
    reject: str = "\0"
    hang_seconds: float = 300.0

    def handle(self, seen: Seen) -> Reply:
        texts = seen.json().get("text", []) if seen.path == "/v2/translate" else []
        if any(self.hang_on in t for t in texts):
            time.sleep(self.hang_seconds)
        if any(self.reject in t for t in texts):
            return 400, {}, {"message": "Text contains an invalid character sequence"}
        return super().handle(seen)


def make_pages(folder: Path, words: list[str]) -> Path:
    for i, word in enumerate(words):
        save(draw(300, 100, [Text(word, (24, 24), 40, font=FONT_KO)]), folder / f"p{i}.png")
    return folder


def sidecars(out: Path) -> dict[str, dict[str, object]]:
    found = {}
    for path in sorted(out.glob("*.imgtrans.json")):
        with contextlib.suppress(OSError, ValueError):
            found[path.name] = json.loads(path.read_text("utf-8"))
    return found


def start(src: Path, out: Path, api: FakeDeepL, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "IMGTRANS_CACHE_DIR": str(tmp_path / "cache"),
        **backend_env("deepl", api),
    }
    args = ["translate", str(src), "--to", "ko", "-t", "deepl", "-o", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "imgtrans", *args, "-j", "1", "--batch-size", "1", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job would be
    )


def sent_texts(api: FakeDeepL) -> list[str]:
    return [t for r in api.calls("/v2/translate") for t in r.json()["text"]]


def wait_until(check: Callable[[], object], proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not check():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT-twice"])
def test_a_stop_during_a_hanging_translation_ends_the_run(tmp_path: Path, how: str) -> None:
    """The server never answers for page p3. SIGTERM to the process, or Ctrl-C twice to its
    process group (an impatient user), ends the run with 143 / 130 without waiting for the
    server, with no traceback, and records no page as failed; finished pages stay finished."""
    src, out = make_pages(tmp_path / "in", WORDS), tmp_path / "out"
    with serve(PickyDeepL(hang_on="Garden")) as api:
        proc = start(src, out, api, tmp_path)
        try:
            wait_until(lambda: sidecars(out).get("p0.imgtrans.json"), proc, "page p0")
            wait_until(lambda: "Garden" in sent_texts(api), proc, "the request that hangs")
            time.sleep(0.2)  # the request is in the server's hands
            if how == "SIGTERM":
                proc.send_signal(signal.SIGTERM)
            else:
                os.killpg(proc.pid, signal.SIGINT)
                time.sleep(0.3)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGINT)
            # Far less than the server's 300 s hang or the client's 60 s timeout.
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
    text = err.decode(errors="replace")
    expected = ExitCode.TERMINATED if how == "SIGTERM" else ExitCode.INTERRUPTED
    assert proc.returncode == expected, text
    assert "Traceback" not in text, text
    assert "interrupted" in text
    docs = sidecars(out)
    assert docs["p0.imgtrans.json"]["status"] == "ok"
    assert [n for n, d in docs.items() if d["status"] != "ok"] == []  # a stop is no failure
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, total=5.0)


def deepl(api: FakeDeepL, monkeypatch: pytest.MonkeyPatch) -> DeepLTranslator:
    for var, value in backend_env("deepl", api).items():
        monkeypatch.setenv(var, value)
    return DeepLTranslator(TranslatorOptions(name="deepl"), retry=FAST)


@pytest.mark.network
@pytest.mark.usefixtures("clean_env")
def test_a_refused_text_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP 400 for a batch: the batch is halved until the refused text is alone; it fails with
    the API's reason, the other texts are translated."""
    with serve(PickyDeepL(reject="Bridge")) as api:
        tr = deepl(api, monkeypatch)
        out = tr.translate(["Hello", "Bridge", "猫", "先生"], "en", "ko")
        assert [r.text for r in out] == ["안녕", None, "고양이", "선생님"]
        assert out[1].error is not None and "HTTP 400" in out[1].error
        assert "invalid character sequence" in out[1].error
        sent = [r.json()["text"] for r in api.calls("/v2/translate")]
        assert sent[0] == ["Hello", "Bridge", "猫", "先生"]
        assert ["Bridge"] in sent and ["猫", "先生"] in sent  # split, not resent whole
        # Later pages still go through.
        assert [r.text for r in tr.translate(["Hello"], "en", "ko")] == ["안녕"]


@pytest.mark.network
@pytest.mark.usefixtures("clean_env")
def test_every_text_refused_from_the_start_is_the_options_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serve(PickyDeepL(reject="")) as api:  # every text is refused
        tr = deepl(api, monkeypatch)
        with pytest.raises(TranslatorError, match="every request was refused.*HTTP 400"):
            for word in WORDS:
                tr.translate([word], "en", "ko")
        assert len(api.calls("/v2/translate")) == 5


@pytest.mark.network
@pytest.mark.usefixtures("clean_env")
def test_openai_refused_text_fails_alone(openai_api: FakeOpenAI, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for var, value in backend_env("openai", openai_api).items():
        monkeypatch.setenv(var, value)
    tr = OpenAITranslator(TranslatorOptions(name="openai"), retry=FAST)
    openai_api.fail_next(400, {"error": {"message": "content refused"}})
    assert [r.text for r in tr.translate(["こんにちは", "猫"], "ja", "ko")] == [
        "안녕하세요",
        "고양이",
    ]
    openai_api.fail_next(422, {"error": {"message": "content refused"}})
    (alone,) = tr.translate(["先生"], "ja", "ko")
    assert alone.text is None and alone.error is not None and "HTTP 422" in alone.error


@pytest.mark.network
@pytest.mark.usefixtures("clean_env")
def test_one_pages_400_does_not_stop_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI: the page holding the refused text is written with that block
    untranslated; every other page and block is translated; exit 0 with the JSON summary."""
    src, out = tmp_path / "in", tmp_path / "out"
    two = [Text("Hello", (24, 24), 40, font=FONT_KO), Text("Bridge", (24, 160), 40, font=FONT_KO)]
    save(draw(300, 240, two), src / "a.png")
    make_pages(src, ["Coffee", "Market"])
    with serve(PickyDeepL(reject="Bridge")) as api:
        for var, value in backend_env("deepl", api).items():
            monkeypatch.setenv(var, value)
        args = ["translate", str(src), "--to", "ko", "-t", "deepl", "-o", str(out)]
        result = CliRunner().invoke(app, [*args, "-j", "1", "--json", "-q"])
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["done"], summary["failed"], summary["untranslated"]) == (3, 0, 1)
    docs = sidecars(out)
    blocks = {b["text"]: b for b in docs["a.imgtrans.json"]["blocks"]}  # type: ignore[union-attr]
    assert blocks["Hello"]["translation"] == "안녕"
    assert blocks["Bridge"]["translation"] is None
    assert "HTTP 400" in blocks["Bridge"]["translation_error"]
    for name in ("p0", "p1"):
        assert docs[f"{name}.imgtrans.json"]["status"] == "ok"
