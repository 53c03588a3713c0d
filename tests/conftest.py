"""Shared fixtures. GPU tests are skipped where torch sees no CUDA device."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Fake translation APIs (DeepL, Google, Papago, Microsoft, LibreTranslate, OpenAI) on 127.0.0.1.
pytest_plugins = ["fakeapis"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ocr_engine():  # type: ignore[no-untyped-def]
    """One onnxruntime OCR engine for the whole session (model loading takes ~1 s)."""
    from imgtrans.options import OcrOptions
    from imgtrans.stages.ocr import OcrEngine, make_backend

    return OcrEngine(OcrOptions(), make_backend("cpu", threads=2), batch_size=4)


@pytest.fixture(autouse=True, scope="session")
def _no_user_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A developer's ~/.config/imgtrans/config.toml must not change what the tests see."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg"))


@pytest.fixture
def bare_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh current folder (``tmp_path/work``): no translator or ``IMGTRANS_*`` variables,
    no config files, the translation cache in ``tmp_path``. The environment is restored
    afterwards, since loading a ``.env`` writes into it."""
    from fakeapis import TRANSLATOR_ENV

    saved = dict(os.environ)
    for var in [*TRANSLATOR_ENV, *(v for v in os.environ if v.startswith("IMGTRANS_"))]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("IMGTRANS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    os.environ.clear()
    os.environ.update(saved)
