"""`imgtrans translate` end to end against local DeepL- and OpenAI-compatible servers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_JA, FONT_KO, Text, draw, save
from fakeapis import FakeDeepL, FakeOpenAI, backend_env
from typer.testing import CliRunner

from imgtrans.cli import app

runner = CliRunner()


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    save(
        draw(560, 420, [Text("こんにちは", (420, 40), 44, vertical=True, font=FONT_JA)]),
        src / "ja.png",
    )
    save(draw(640, 240, [Text("Hello", (60, 80), 48, font=FONT_KO)]), src / "en.png")
    return src


def sidecar_translations(out: Path) -> dict[str, list[str | None]]:
    return {
        p.name: [
            b["translation"] for b in json.loads(p.read_text("utf-8"))["blocks"] if b["translate"]
        ]
        for p in sorted(out.glob("*.imgtrans.json"))
    }


@pytest.mark.network
def test_deepl_end_to_end_and_rerun_hits_the_cache(
    pages: Path,
    tmp_path: Path,
    deepl_api: FakeDeepL,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in backend_env("deepl", deepl_api).items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    args = ["translate", str(pages), "--to", "ko", "-t", "deepl", "-o", str(out), "-j", "1", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sidecar_translations(out) == {
        "en.imgtrans.json": ["안녕"],
        "ja.imgtrans.json": ["안녕하세요"],
    }
    posts = [r for r in deepl_api.requests if r.method == "POST"]
    assert posts and all(
        r.headers["authorization"] == f"DeepL-Auth-Key {deepl_api.key}" for r in posts
    )
    sent = {t for r in posts for t in r.json()["text"]}
    assert sent == {"こんにちは", "Hello"}
    assert {r.json()["target_lang"] for r in posts} == {"KO"}
    # A rerun with --overwrite re-does every page but takes the translations from the cache.
    before = len(deepl_api.requests)
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert len(deepl_api.requests) == before
    assert deepl_api.key not in result.output


@pytest.mark.network
def test_openai_compatible_end_to_end(
    pages: Path,
    tmp_path: Path,
    openai_api: FakeOpenAI,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", openai_api.key)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "translate",
            str(pages),
            "--to",
            "ko",
            "-t",
            "openai",
            "--api-base",
            f"{openai_api.url}/v1",
            "--model",
            openai_api.model,
            "-o",
            str(out),
            "-j",
            "1",
            "-q",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sidecar_translations(out) == {
        "en.imgtrans.json": ["안녕"],
        "ja.imgtrans.json": ["안녕하세요"],
    }
    chats = [r for r in openai_api.requests if r.path.endswith("/chat/completions")]
    assert chats and all(r.json()["model"] == openai_api.model for r in chats)
    doc = json.loads((out / "ja.imgtrans.json").read_text("utf-8"))
    assert doc["run"]["translator"].startswith("openai")


@pytest.mark.network
def test_each_block_goes_out_in_its_own_scripts_language(
    tmp_path: Path, deepl_api: FakeDeepL, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--from auto on a page of two scripts (an English brand name on a Chinese ad, with more
    Latin letters than Han): each block is sent from its own language, and at --to en the
    English one is left as drawn, not sent at all."""
    from PIL import Image

    src = tmp_path / "in"
    image = draw(640, 400, [Text("世界", (60, 40), 56, font=FONT_JA),
                            Text("Hello there", (300, 300), 44, font=FONT_KO)])  # fmt: skip
    save(image, src / "ad.png")
    for key, value in backend_env("deepl", deepl_api).items():
        monkeypatch.setenv(key, value)
    for target, want in (("ko", {"世界": "세계", "Hello there": "안녕 there"}), ("en", {})):
        deepl_api.requests.clear()
        out = tmp_path / target
        args = ["translate", src, "--to", target, "-t", "deepl", "-o", out, "-j", "1", "-q"]
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        posts = [r.json() for r in deepl_api.requests if r.method == "POST"]
        sent = {t: body.get("source_lang") for body in posts for t in body["text"]}
        doc = json.loads((out / "ad.imgtrans.json").read_text("utf-8"))
        blocks = {b["text"]: b for b in doc["blocks"]}
        if target == "ko":
            assert sent == {"世界": "ZH", "Hello there": "EN"}
            assert {k: b["translation"] for k, b in blocks.items()} == want
        else:
            assert sent == {"世界": "ZH"}  # English into English: nothing to ask
            assert blocks["世界"]["translation"] == "world"
            assert blocks["Hello there"]["render"]["status"] == "skipped"
            lettered = np.asarray(Image.open(out / "ad.png").convert("RGB"))
            assert np.array_equal(lettered[260:], image[260:])  # left as drawn
