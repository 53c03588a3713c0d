"""Load and normalise one input image: decode, EXIF orientation, any mode to RGB uint8.

Runs in worker processes. Every failure is a :class:`PageError` whose ``kind`` names what
was wrong with the file (``empty``, ``truncated``, ``not_an_image``, ``too_large``, ...), so
the sidecar and the summary can say it and the batch can go on.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from imgtrans.archive import read_member
from imgtrans.errors import PageError
from imgtrans.page import Job, Page


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except PermissionError:
        raise PageError("unreadable", f"{path}: permission denied") from None
    except OSError as exc:
        raise PageError("unreadable", f"{path}: {exc.strerror or exc}") from None
    if not data:
        raise PageError("empty", f"{path}: file is empty (0 bytes)")
    return data


def decode(
    data: bytes, path: Path, max_pixels: int
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Decode image bytes to (RGB uint8 HxWx3, alpha uint8 HxW or None, notes).

    EXIF orientation is applied; 16-bit, palette, CMYK, LA, I;16 ... are converted.
    Animated images give their first frame (noted).
    """
    notes: list[str] = []
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = max_pixels
            img: Image.Image = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise PageError(
                    "too_large",
                    f"{path}: {w}x{h} = {w * h} pixels is over the limit "
                    f"of {max_pixels} (raise it with --max-pixels)",
                )
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                notes.append(f"animated ({frames} frames): first frame translated")
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img) or img
    except PageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PageError(
            "too_large",
            f"{path}: image is over the pixel limit of {max_pixels} (raise it with --max-pixels)",
        ) from None
    except UnidentifiedImageError:
        raise PageError(
            "not_an_image", f"{path}: not an image file (or a format Pillow cannot read)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PageError("truncated", f"{path}: cannot decode image: {exc}") from None
    rgb, alpha = _to_rgb(img)
    return rgb, alpha, tuple(notes)


def _to_rgb(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), None
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        span = max(float(arr.max() - arr.min()), 1e-9)
        gray = ((arr - arr.min()) / span * 255.0 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), None
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA"))
        alpha = np.ascontiguousarray(rgba[:, :, 3])
        if alpha.min() == 255:
            return np.ascontiguousarray(rgba[:, :, :3]), None
        return np.ascontiguousarray(rgba[:, :, :3]), alpha
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))), None


def load_page(path: Path, rel_path: str, max_pixels: int, member: str | None = None) -> Page:
    """Read, hash and decode one file (or entry ``member`` of a comic archive) into a
    :class:`Page`."""
    data = read_bytes(path) if member is None else read_member(path, member)
    rgb, alpha, notes = decode(data, path if member is None else path / member, max_pixels)
    return Page(
        source=path,
        rel_path=rel_path,
        sha256=hashlib.sha256(data).hexdigest(),
        image=rgb,
        alpha=alpha,
        notes=notes,
    )


@dataclass(frozen=True)
class Load:
    """The load stage: ``list[Job] -> list[Page]``, one page per job, in order. A file that
    cannot be read or decoded gives a failed page (``page.error``) and the batch goes on.
    Runs in worker processes (picklable)."""

    max_pixels: int = 400_000_000

    def __call__(self, jobs: list[Job]) -> list[Page]:
        return [self.one(job) for job in jobs]

    def one(self, job: Job) -> Page:
        try:
            page = load_page(job.source, job.rel_path, self.max_pixels, job.member)
            return replace(page, job=job)
        except PageError as exc:
            return Page.failed(job, exc.kind, str(exc))
        except OSError as exc:
            return Page.failed(job, "unreadable", f"{job.source}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a decoder bug on one file must not stop the batch
            return Page.failed(job, "decode_error", f"{job.source}: {type(exc).__name__}: {exc}")
