"""imgtrans: translate the text inside images, a whole folder at a time.

The Python API::

    from imgtrans import RunOptions, translate_images

    summary = translate_images(["comics/"], RunOptions(target_lang="ko"))

Names are imported on first use, so ``import imgtrans`` (and ``imgtrans --help``) stays
instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from imgtrans.api import ocr_images, render_outputs, translate_images
    from imgtrans.options import (
        InpaintOptions,
        MaskOptions,
        OcrOptions,
        RenderOptions,
        RunOptions,
        TranslatorOptions,
    )
    from imgtrans.page import Page
    from imgtrans.pipeline import Summary

_LAZY = {
    "translate_images": "imgtrans.api",
    "ocr_images": "imgtrans.api",
    "render_outputs": "imgtrans.api",
    "RunOptions": "imgtrans.options",
    "OcrOptions": "imgtrans.options",
    "MaskOptions": "imgtrans.options",
    "InpaintOptions": "imgtrans.options",
    "TranslatorOptions": "imgtrans.options",
    "RenderOptions": "imgtrans.options",
    "Page": "imgtrans.page",
    "Summary": "imgtrans.pipeline",
}

__all__ = [
    "InpaintOptions",
    "MaskOptions",
    "OcrOptions",
    "Page",
    "RenderOptions",
    "RunOptions",
    "Summary",
    "TranslatorOptions",
    "__version__",
    "ocr_images",
    "render_outputs",
    "translate_images",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imgtrans' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
