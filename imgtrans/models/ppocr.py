"""PaddleOCR PP-OCRv6 model files and the recognition dictionary, shared by both backends.

The three ONNX files ship inside the ``rapidocr`` wheel (no download at run time):

- det: PP-OCRv6 small text detector (DB). Input ``N x 3 x H x W`` float32, H and W multiples
  of 32, normalised RGB/BGR as the caller chooses; output ``N x 1 x H x W`` probabilities.
- rec: PP-OCRv6 small recogniser (CTC). Input ``N x 3 x 48 x W`` float32 normalised BGR,
  ``(x / 255 - 0.5) / 0.5``; output ``N x W/8 x C`` softmax probabilities, C = 18,710.
- cls: PP-OCR v2.0 mobile text-line orientation classifier. Input ``N x 3 x 48 x 192``;
  output ``N x 2`` probabilities (0 = upright, 1 = rotated 180 degrees).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from imgtrans.errors import MissingModelError

MODEL_FILES = {
    "det": "PP-OCRv6_det_small.onnx",
    "rec": "PP-OCRv6_rec_small.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

_FIX = "reinstall it with: pip install 'rapidocr>=3.10'"


def ocr_model_paths() -> dict[str, Path]:
    """Map "det", "rec", "cls" to the ONNX files inside the installed ``rapidocr`` wheel.

    Raises MissingModelError naming the file and the fix when the wheel or a file is absent.
    """
    try:
        root = Path(str(importlib.resources.files("rapidocr") / "models"))
    except ModuleNotFoundError as exc:
        raise MissingModelError(f"the OCR models come with the rapidocr package; {_FIX}") from exc
    paths = {kind: root / name for kind, name in MODEL_FILES.items()}
    for kind, path in paths.items():
        if not path.is_file():
            raise MissingModelError(f"OCR {kind} model {path} is missing; {_FIX}")
    return paths


@lru_cache(maxsize=4)
def _charset_cached(rec_path: str) -> tuple[str, ...]:
    import onnx  # heavy import, only when the dictionary is first needed

    model = onnx.load(rec_path, load_external_data=False)
    meta = {prop.key: prop.value for prop in model.metadata_props}
    if "character" not in meta:
        raise MissingModelError(f"{rec_path} has no 'character' dictionary in its metadata")
    chars = meta["character"].splitlines()
    return ("", *chars, " ")


def rec_charset(rec_path: Path) -> list[str]:
    """Class index -> character for the rec model: "" (CTC blank) at 0, " " (space) last."""
    return list(_charset_cached(str(rec_path)))


def ctc_greedy_decode(
    probs: np.ndarray, charset: Sequence[str]
) -> list[tuple[str, float, list[int]]]:
    """Greedy CTC decoding of ``N x T x C`` probabilities (as PaddleOCR's CTCLabelDecode).

    Per line returns (text, mean probability of the kept steps, time step of each kept
    character). Repeats collapse, then blanks (class 0) drop. An empty line scores 0.0.
    """
    best = probs.argmax(axis=2)
    return ctc_decode_best(
        best, np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0], charset
    )


def ctc_decode_best(
    best: np.ndarray, best_p: np.ndarray, charset: Sequence[str]
) -> list[tuple[str, float, list[int]]]:
    """:func:`ctc_greedy_decode` from the per-step best class ``N x T`` and its probability."""
    out: list[tuple[str, float, list[int]]] = []
    for idx, p in zip(best, best_p, strict=True):
        keep = idx != 0
        keep[1:] &= idx[1:] != idx[:-1]
        steps = np.flatnonzero(keep)
        text = "".join(charset[i] for i in idx[steps])
        score = float(p[steps].mean()) if steps.size else 0.0
        out.append((text, score, steps.tolist()))
    return out


@lru_cache(maxsize=8)
def model_sha256(path: Path) -> str:
    """sha256 of a model file, for the sidecar's ``run.models``."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
