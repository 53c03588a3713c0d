"""Encode and write output images (atomic), in the input's format unless told otherwise."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from imgtrans.sidecar import atomic_write_bytes

_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    ".jpg": ("JPEG", {"quality": 92, "subsampling": 0}),
    ".jpeg": ("JPEG", {"quality": 92, "subsampling": 0}),
    ".png": ("PNG", {"compress_level": 3}),
    ".webp": ("WEBP", {"quality": 90, "method": 4}),
    ".bmp": ("BMP", {}),
    ".tif": ("TIFF", {"compression": "tiff_lzw"}),
    ".tiff": ("TIFF", {"compression": "tiff_lzw"}),
}
_ALPHA_OK = {"PNG", "WEBP", "TIFF"}


def encode(image: np.ndarray, alpha: np.ndarray | None, suffix: str) -> bytes:
    """RGB uint8 HxWx3 (+ optional HxW alpha) -> file bytes for ``suffix``."""
    fmt, params = _FORMATS[suffix.lower()]
    img = Image.fromarray(image, "RGB")
    if alpha is not None and fmt in _ALPHA_OK:
        img.putalpha(Image.fromarray(alpha, "L"))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def write_image(path: Path, image: np.ndarray, alpha: np.ndarray | None) -> None:
    atomic_write_bytes(path, encode(image, alpha, path.suffix))


def clean_path(image_out: Path) -> Path:
    """Where ``--keep-clean`` stores the erased background for ``imgtrans render``."""
    return image_out.with_name(image_out.stem + ".clean.png")
