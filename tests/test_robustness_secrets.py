"""A sentinel API key through every translator, in a real CLI run against the local fake
APIs: it must not appear in the output (logs at debug level, --json), the sidecars, the
translation cache, or any error message, even when the server echoes it back in a 500, a
401, or a garbage answer."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from drawing import FONT_KO, Text, draw, save
from fakeapis import FAKES, Seen, backend_env, serve
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("clean_env")]
SENTINEL = "SENTINEL-KEY-c0ffee-4b1d"
runner = CliRunner()
PAGES = {"p0.png": "Hello", "p1.png": "Garden"}


def make_fake(name: str, mode: dict[str, str]) -> Any:
    """A fake API that answers the first page normally (after one 500 quoting the key) and
    the second as ``mode["garden"]`` says: ``garbage`` (a 200 the backend cannot parse,
    quoting the key) or ``revoked`` (a 401 quoting the key)."""
    fake = FAKES[name](key=SENTINEL)
    if name == "libretranslate":
        fake.key_required = True
    real = fake.handle

    def handle(seen: Seen) -> tuple[int, dict[str, str], Any]:
        if "garden" in (seen.body.decode("utf-8", "replace") + str(seen.query)).lower():
            if mode["garden"] == "garbage":
                return 200, {}, {"unexpected": f"debug: key={SENTINEL}"}
            return 401, {}, {"message": f"invalid key {SENTINEL}", "error": {"message": SENTINEL}}
        return real(seen)

    fake.handle = handle
    fake.fail_next(500, {"message": f"internal error for {SENTINEL}"}, {"Retry-After": "0"})
    return fake


def leaks(tmp_path: Path, *texts: str) -> list[str]:
    places = {f"text {i}": text for i, text in enumerate(texts)}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".sqlite3", ".log", ".txt", ""):
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return [where for where, text in places.items() if SENTINEL in text]


@pytest.mark.parametrize("name", sorted(FAKES))
def test_sentinel_key_never_leaks_from_a_cli_run(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    src, out = tmp_path / "in", tmp_path / "out"
    for page, word in PAGES.items():
        save(draw(360, 110, [Text(word, (30, 25), 44, font=FONT_KO)]), src / page)
    mode = {"garden": "garbage"}
    args = ["translate", str(src), "--to", "ko", "-t", name, "-o", str(out), "-j", "1"]
    with serve(make_fake(name, mode)) as api:
        for var, value in backend_env(name, api).items():
            monkeypatch.setenv(var, value)
        garbage = runner.invoke(app, [*args, "--batch-size", "1", "--json", "-v"])
        mode["garden"] = "revoked"
        revoked = runner.invoke(app, [*args, "--batch-size", "1", "--json", "-v"])
        sent = [r.body.decode("utf-8", "replace") + str(r.headers) for r in api.requests]
    # The key did travel (to the server only), and the server quoted it back.
    assert any(SENTINEL in s for s in sent)
    first = json.loads((out / "p0.imgtrans.json").read_text("utf-8"))
    assert first["status"] == "ok" and first["blocks"][0]["translation"]
    assert revoked.exit_code == ExitCode.TRANSLATOR, revoked.output
    assert name in revoked.output
    assert garbage.exit_code in (ExitCode.TRANSLATOR, ExitCode.SOME_FAILED), garbage.output
    assert leaks(tmp_path, f"x{SENTINEL}x") == ["text 0"]  # the detector itself works
    assert leaks(tmp_path, garbage.output, revoked.output, caplog.text) == []
