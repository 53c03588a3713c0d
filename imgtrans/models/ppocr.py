"""PP-OCR model files shipped inside the ``rapidocr`` wheel, and the recognition charset.

Nothing is downloaded: the ONNX files are package data of rapidocr (>= 3.10), so the OCR
works offline right after ``pip install``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from imgtrans.errors import MissingModelError

MODEL_FILES = {
    "det": "PP-OCRv6_det_small.onnx",
    "rec": "PP-OCRv6_rec_small.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


def ocr_model_paths() -> dict[str, Path]:
    """``det``/``rec``/``cls`` -> path of the ONNX file inside the installed rapidocr wheel."""
    try:
        root = Path(str(resources.files("rapidocr"))) / "models"
    except ModuleNotFoundError:
        raise MissingModelError(
            "the OCR models come with the 'rapidocr' package: pip install 'rapidocr>=3.10'"
        ) from None
    paths = {name: root / fname for name, fname in MODEL_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise MissingModelError(
            "OCR model files missing from the rapidocr package: "
            + ", ".join(missing)
            + " (reinstall: pip install --force-reinstall 'rapidocr>=3.10')"
        )
    return paths


@cache
def model_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def rec_charset(rec_path: Path) -> list[str]:
    """Class index -> character: CTC blank ``""`` at 0, the dictionary, then a space last."""
    import onnx

    model = onnx.load(str(rec_path), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    if "character" not in meta:
        raise MissingModelError(f"{rec_path}: no 'character' dictionary in the model metadata")
    chars = meta["character"].split("\n")
    return ["", *chars, " "]
