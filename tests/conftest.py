"""Shared fixtures. GPU tests are skipped where torch sees no CUDA device."""

from __future__ import annotations

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
