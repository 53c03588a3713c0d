"""OCR stage: PP-OCRv6 detection -> orientation -> recognition -> blocks.

The backend is chosen once: onnxruntime on CPU (the faster one there), torch tensors on
CUDA. Both run the same shipped ONNX weights. Detection batches the tiles of one padded shape
across pages; orientation and recognition run per page: what a page reads is a function of
that page and the options, never of the other pages of its batch or run.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

import numpy as np

from imgtrans.errors import UsageError
from imgtrans.models import ocr_registry
from imgtrans.models.ppocr import model_sha256, ocr_model_paths, rec_charset
from imgtrans.ocr import script_models
from imgtrans.ocr.blocks import build_blocks
from imgtrans.ocr.detect import boxes_from_map, probability_maps
from imgtrans.ocr.recognize import classify_orientation, crop_line, recognise
from imgtrans.ocr.sfx import keep_sfx
from imgtrans.options import OcrOptions
from imgtrans.page import Direction, Page, TextLine

log = logging.getLogger(__name__)

# Languages the shipped recognition dictionary can read (it has kana, Han, Latin; no Hangul).
MIN_SIDE = 8  # pixels: a smaller image cannot hold readable text (nor feed the detector)
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
        # --from ko: the Korean model reads every line; auto: installed script models reread.
        self.primary, self.extras = script_models.for_source(options.source_lang, backend)
        used = [*paths.values(), *(r.path for r in [self.primary, *self.extras] if r)]
        self.models = {path.name: model_sha256(path) for path in used}

    def __call__(self, pages: list[Page]) -> list[Page]:
        """Read every page; pages too small to hold text (under ``MIN_SIDE`` pixels on a
        side) come back with no blocks, so they pass through unchanged."""
        readable = [i for i, p in enumerate(pages) if min(p.image.shape[:2]) >= MIN_SIDE]
        out = [replace(p, blocks=(), source_lang=self._lang(None)) for p in pages]
        for i, page in zip(readable, self._read([pages[i] for i in readable]), strict=True):
            out[i] = page
        return out

    def _lang(self, detected: str | None) -> str | None:
        return detected if self.options.source_lang == "auto" else self.options.source_lang

    def _read(self, pages: list[Page]) -> list[Page]:
        if not pages:
            return []
        opts = self.options
        maps = probability_maps(
            [p.image for p in pages], opts.det_limit_side, self.backend.det, self.batch_size
        )
        out = []
        for page, (prob, plan) in zip(pages, maps, strict=True):
            boxes = boxes_from_map(
                prob, plan.scale, opts.det_thresh, opts.box_thresh, opts.unclip_ratio
            )
            lines = self._read_lines(page, [box for box, _score in boxes])
            blocks, detected = build_blocks(lines, opts.min_confidence, page.image)
            if opts.sfx == "keep":
                blocks = keep_sfx(blocks, page.image)
            out.append(replace(page, blocks=tuple(blocks), source_lang=self._lang(detected)))
        return out

    def _read_lines(self, page: Page, boxes: list[np.ndarray]) -> list[TextLine]:
        """Orientation and recognition of one page's lines. Batched per page, never across
        pages: the recogniser's probabilities move in the last digits with the batch size,
        and what a page reads must not depend on the other pages of the run."""
        crops = [crop_line(page.image, box) for box in boxes]
        if crops:
            crops = classify_orientation(crops, self.backend.cls, 32)
        texts, labels = self._recognise([c.image for c in crops])
        lines = []
        for box, crop, (text, conf), label in zip(boxes, crops, texts, labels, strict=True):
            if not text.strip():
                continue  # a detection the recogniser reads nothing in: not text
            polygon = tuple((round(float(x), 1), round(float(y), 1)) for x, y in box)
            direction: Direction = "vertical" if crop.vertical else "horizontal"
            lines.append(TextLine(polygon, text, round(conf, 4), direction, label))
        return lines

    def _recognise(self, crops: list[np.ndarray]) -> tuple[list[tuple[str, float]], list[str]]:
        """(text, confidence) and the label of the model that read it, per crop."""
        if self.primary is not None:
            rec = self.primary
            return recognise(crops, rec.rec_best, rec.charset, 32), [rec.label] * len(crops)
        texts = recognise(crops, self.backend.rec_best, self.charset, 32)
        labels = [self.rec_label] * len(crops)
        for extra in self.extras:
            texts, labels = script_models.reread(crops, texts, labels, extra, 32)
        return texts, labels
