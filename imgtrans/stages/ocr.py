"""OCR stage: PP-OCRv6 detection -> orientation -> recognition -> blocks.

The backend is chosen once: onnxruntime on CPU (the faster one there), torch tensors on
CUDA. Both run the same shipped ONNX weights. Detection batches the tiles of one padded shape
across pages; orientation and recognition run per page: what a page reads is a function of
that page and the options, never of the other pages of its batch or run. The stage splits
into model calls and the host work between them (:meth:`OcrEngine.steps`), so that an
executor can run the host work in its workers.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from imgtrans.errors import UsageError
from imgtrans.models import ocr_registry
from imgtrans.models.ppocr import model_sha256, ocr_model_paths, rec_charset
from imgtrans.ocr import script_models
from imgtrans.ocr.steps import (
    Blocks,
    Decode,
    Detect,
    DetInputs,
    Lines,
    PerPage,
    RecModel,
    Turn,
)
from imgtrans.options import OcrOptions
from imgtrans.page import Page
from imgtrans.stages import Step, run_steps

log = logging.getLogger(__name__)

# Languages the shipped recognition dictionary can read (it has kana, Han, Latin; no Hangul).
READABLE = {"auto", "ja", "zh", "zh-Hans", "zh-Hant", "en", "fr", "de", "es", "it", "pt", "nl"}


class OcrBackend(Protocol):
    def det(self, batch: np.ndarray) -> np.ndarray: ...
    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
    def cls(self, batch: np.ndarray) -> np.ndarray: ...


def check_source_language(lang: str) -> None:
    """A usage error for a language no model reads; MissingModelError (with the fetch
    command) for one whose optional recogniser is not installed (``--from ko``)."""
    if ocr_registry.for_language(lang) is not None:
        script_models.require_for(lang)
        return
    if lang not in READABLE:
        readable = sorted(
            READABLE | {c for m in ocr_registry.REGISTRY.values() for c in m.languages}
        )
        raise UsageError(f"--from {lang}: the OCR models read {', '.join(readable)}")


def make_backend(device: str, threads: int = 0) -> OcrBackend:
    """onnxruntime on CPU; torch on CUDA (same weights)."""
    if device == "cuda":
        import torch

        from imgtrans.models.ppocr_torch import TorchOcrBackend

        return TorchOcrBackend(torch.device("cuda"))
    from imgtrans.models.ppocr_onnx import OnnxOcrBackend

    return OnnxOcrBackend(intra_op_threads=threads)


class OcrEngine:
    """The loaded models plus options; call it on a batch of pages."""

    def __init__(self, options: OcrOptions, backend: OcrBackend, batch_size: int = 8) -> None:
        check_source_language(options.source_lang)
        self.options = options
        self.backend = backend
        self.batch_size = batch_size
        paths = ocr_model_paths()
        self.charset = rec_charset(paths["rec"])
        self.rec_label = paths["rec"].stem
        self.rec_path = paths["rec"]
        # --from ko: the Korean model reads every line; auto: installed script models reread.
        self.primary, self.extras = script_models.for_source(options.source_lang, backend)
        used = [*paths.values(), *(r.path for r in [self.primary, *self.extras] if r)]
        self.models = {path.name: model_sha256(path) for path in used}

    def __call__(self, pages: list[Page]) -> list[Page]:
        """Read every page; pages too small to hold text (under ``MIN_SIDE`` pixels on a
        side) come back with no blocks, so they pass through unchanged."""
        return run_steps(self.steps(), pages)

    def steps(self) -> tuple[Step, ...]:
        """Model calls on the device, the host work around them in workers (see
        :mod:`imgtrans.ocr.steps`)."""
        o, backend = self.options, self.backend
        first = self.primary
        models = [
            (RecModel(first.label, first.path), first.rec_best)
            if first is not None
            else (RecModel(self.rec_label, self.rec_path), backend.rec_best),
            *((RecModel(r.label, r.path, r.script), r.rec_best) for r in self.extras if r.script),
        ]
        steps = [
            Step(DetInputs(o.det_limit_side), device=False),
            Step(Detect(backend.det, self.batch_size), device=True),
            Step(Lines(o), device=False),
            Step(PerPage(backend.cls), device=True),
            Step(Turn(keep_crops=len(models) > 1), device=False),
        ]
        for k, (model, rec_best) in enumerate(models):
            then = models[k + 1][0] if k + 1 < len(models) else None
            steps += [
                Step(PerPage(rec_best), device=True),
                Step(Decode(model, first=k == 0, then=then), device=False),
            ]
        steps.append(Step(Blocks(o), device=False))
        return tuple(steps)
