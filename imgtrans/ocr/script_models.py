"""Optional per-script recognisers (Korean, ...) beside the shipped PP-OCRv6 one.

``--from ko`` reads every line with the Korean model. ``--from auto`` reads with the shipped
model first; each installed script model (see :mod:`imgtrans.models.ocr_registry`) then
rereads the lines the shipped model was unsure of (confidence below :data:`REREAD_BELOW`),
and its reading replaces the shipped one when it has that script and a higher confidence on
the same crop. Each line records which model read it (``rec_model`` in the sidecar).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgtrans.models import ocr_registry
from imgtrans.models.ppocr import rec_charset
from imgtrans.ocr.recognize import BestFn

# The shipped model reads Hangul as look-alike Han or kana at confidence 0.21-0.92 on the dev
# set's Korean photos, while its Chinese and English lines read at a median of 0.97-0.99: lines
# above this are not worth a second model's time (about half of the lines of a Chinese page).
REREAD_BELOW = 0.95


@dataclass(frozen=True)
class Recogniser:
    """A loaded recognition model: its label (file stem, for sidecars) and how to run it."""

    label: str
    path: Path
    charset: list[str]
    rec_best: BestFn
    script: re.Pattern[str] | None = None


def load(model: ocr_registry.RecModel, path: Path, backend: Any) -> Recogniser:
    """Load ``path`` on the same device as ``backend`` (torch backends have ``device``).

    The charset comes from the file's own ONNX metadata, never from the shipped model.
    """
    charset = rec_charset(path)
    device = getattr(backend, "device", None)
    if device is not None:
        from imgtrans.models.ppocr_torch import TorchRec

        rec_best: BestFn = TorchRec(path, device).rec_best
    else:
        from imgtrans.models.ppocr_onnx import OnnxRec

        rec_best = OnnxRec(path).rec_best
    script = ocr_registry.SCRIPTS[model.script] if model.script else None
    return Recogniser(model.key, path, charset, rec_best, script)


def for_source(lang: str, backend: Any) -> tuple[Recogniser | None, list[Recogniser]]:
    """(the model that reads every line of ``--from lang``, the models that reread under auto).

    Raises MissingModelError with the fetch command when ``lang`` needs a model not installed.
    """
    model = ocr_registry.for_language(lang)
    if model is not None:
        return load(model, require_for(lang), backend), []
    if lang != "auto":
        return None, []
    extras = []
    for candidate in ocr_registry.REGISTRY.values():
        path = ocr_registry.installed(candidate) if candidate.script else None
        if path is not None:
            extras.append(load(candidate, path, backend))
    return None, extras


def require_for(lang: str) -> Path:
    """The verified model file ``--from lang`` needs (MissingModelError if absent)."""
    model = ocr_registry.for_language(lang)
    assert model is not None and model.script is not None
    why = (
        f"--from {lang}: the shipped PP-OCRv6 recognition model cannot read "
        f"{model.script.capitalize()} (its dictionary has none)"
    )
    return ocr_registry.require(model, why)


def to_reread(texts: list[tuple[str, float]], script: re.Pattern[str] | None) -> list[int]:
    """The lines a script model rereads: those the shipped model was unsure of."""
    if script is None:
        return []
    return [i for i, (_, conf) in enumerate(texts) if conf < REREAD_BELOW]


def merge_reread(
    texts: list[tuple[str, float]],
    labels: list[str],
    todo: list[int],
    again: list[tuple[str, float]],
    label: str,
    script: re.Pattern[str] | None,
) -> tuple[list[tuple[str, float]], list[str]]:
    """``texts`` and ``labels`` with the rereadings of ``todo`` that have the model's script
    and a higher confidence."""
    texts, labels = list(texts), list(labels)
    for i, (text, conf) in zip(todo, again, strict=True):
        if script is not None and script.search(text) and conf > texts[i][1]:
            texts[i] = (text, conf)
            labels[i] = label
    return texts, labels
