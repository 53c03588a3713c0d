"""Encode and write output images (atomic), in the input's format unless told otherwise.

PNG is written by OpenCV's libpng at zlib level 3: lossless, and the cheapest encoder and
level that keeps the file as small as Pillow's level 3 (measured in benchmarks/RESULTS.md).
JPEG is written at the quality of the source JPEG, estimated from its quantisation tables
(:func:`jpeg_quality`), else at :data:`DEFAULT_JPEG_QUALITY`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from imgtrans.sidecar import atomic_write_bytes

DEFAULT_JPEG_QUALITY = 92  # sources that are not JPEG, or whose tables cannot be read
PNG_LEVEL = 3

_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    ".jpg": ("JPEG", {"quality": DEFAULT_JPEG_QUALITY, "subsampling": 0}),
    ".jpeg": ("JPEG", {"quality": DEFAULT_JPEG_QUALITY, "subsampling": 0}),
    ".png": ("PNG", {}),
    ".webp": ("WEBP", {"quality": 90, "method": 4}),
    ".bmp": ("BMP", {}),
    ".tif": ("TIFF", {"compression": "tiff_lzw"}),
    ".tiff": ("TIFF", {"compression": "tiff_lzw"}),
}
_ALPHA_OK = {"PNG", "WEBP", "TIFF"}

# The IJG (libjpeg) base tables, natural order; quality q scales them (see _ijg_table).
_IJG_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    np.int64,
)  # fmt: skip
_IJG_CHROMA = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
     24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32,
    np.int64,
)  # fmt: skip


def _ijg_table(base: np.ndarray, quality: int) -> np.ndarray:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table: np.ndarray = np.clip((base * scale + 50) // 100, 1, 255)
    return table


def jpeg_quality(qtables: dict[int, Any]) -> int | None:
    """The IJG quality (1-100) whose tables come closest to a JPEG's quantisation tables
    (Pillow's ``Image.quantization``, natural order); None when there are none.

    Files written by libjpeg at quality q give q exactly; other encoders' tables give the
    nearest IJG quality."""
    tables = [np.asarray(qtables[k], np.int64) for k in sorted(qtables)[:2]]
    if not tables or any(t.size != 64 for t in tables):
        return None
    bases = (_IJG_LUMA, _IJG_CHROMA)[: len(tables)]

    def distance(q: int) -> int:
        return sum(
            int(np.abs(t - _ijg_table(b, q)).sum()) for t, b in zip(tables, bases, strict=True)
        )

    return min(range(1, 101), key=distance)


def source_jpeg_quality(source: Path | None) -> int | None:
    """The estimated quality of ``source`` when it is a readable JPEG (header only), else None."""
    if source is None:
        return None
    try:
        with Image.open(source) as img:
            if img.format not in ("JPEG", "MPO"):
                return None
            return jpeg_quality(getattr(img, "quantization", None) or {})
    except (OSError, ValueError, SyntaxError):
        return None


def encode(
    image: np.ndarray, alpha: np.ndarray | None, suffix: str, jpeg_quality: int | None = None
) -> bytes:
    """RGB uint8 HxWx3 (+ optional HxW alpha) -> file bytes for ``suffix``.

    ``jpeg_quality``: for JPEG output (default :data:`DEFAULT_JPEG_QUALITY`)."""
    fmt, params = _FORMATS[suffix.lower()]
    if fmt == "PNG":
        return _encode_png(image, alpha)
    if fmt == "JPEG" and jpeg_quality is not None:
        params = {**params, "quality": jpeg_quality}
    img = Image.fromarray(image, "RGB")
    if alpha is not None and fmt in _ALPHA_OK:
        img.putalpha(Image.fromarray(alpha, "L"))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _encode_png(image: np.ndarray, alpha: np.ndarray | None) -> bytes:
    if alpha is not None:
        pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGRA)
        pixels[:, :, 3] = alpha
    else:
        pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise OSError(f"PNG encoding of a {image.shape[1]}x{image.shape[0]} image failed")
    return bytes(buf)


def write_image(
    path: Path, image: np.ndarray, alpha: np.ndarray | None, quality_of: Path | None = None
) -> None:
    """Encode for ``path``'s suffix and write atomically. JPEG output takes the quality of
    ``quality_of`` (the source image) when that is a JPEG."""
    atomic_write_bytes(path, encode(image, alpha, path.suffix, source_jpeg_quality(quality_of)))


def clean_path(image_out: Path) -> Path:
    """Where ``--keep-clean`` stores the erased background for ``imgtrans render``."""
    return image_out.with_name(image_out.stem + ".clean.png")
