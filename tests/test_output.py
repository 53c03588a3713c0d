"""Output encoding: PNG stays lossless (alpha too), JPEG keeps the quality of its source."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgtrans import pool
from imgtrans.output import (
    DEFAULT_JPEG_QUALITY,
    encode,
    jpeg_quality,
    source_jpeg_quality,
    write_image,
)


def _picture(h: int = 96, w: int = 128) -> np.ndarray:
    rng = np.random.default_rng(1)
    smooth = np.linspace(0, 255, w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    return np.clip(smooth + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray, **params: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", **params)
    return buf.getvalue()


@pytest.mark.parametrize("quality", [30, 75, 90, 95, 100])
def test_quality_read_back_from_libjpeg_tables(quality: int) -> None:
    colour = Image.open(io.BytesIO(_jpeg(_picture(), quality=quality)))
    gray = Image.open(io.BytesIO(_jpeg(_picture()[:, :, 0], quality=quality)))
    assert jpeg_quality(colour.quantization) == quality
    assert jpeg_quality(gray.quantization) == quality


def test_foreign_tables_give_the_nearest_quality() -> None:
    # Tables of another encoder: libjpeg's quality-80 tables, each entry nudged by one.
    tables = Image.open(io.BytesIO(_jpeg(_picture(), quality=80))).quantization
    nudged = {k: [v + (i % 2) for i, v in enumerate(t)] for k, t in tables.items()}
    assert jpeg_quality(nudged) in (78, 79, 80)
    assert jpeg_quality({}) is None


def test_jpeg_output_takes_the_source_quality(tmp_path: Path) -> None:
    image = _picture()
    source = tmp_path / "in.jpg"
    source.write_bytes(_jpeg(image, quality=70))
    png = tmp_path / "in.png"
    Image.fromarray(image).save(png)
    out = tmp_path / "out.jpg"
    write_image(out, image, None, quality_of=source)
    assert source_jpeg_quality(out) == 70
    write_image(out, image, None, quality_of=png)  # not a JPEG: the documented default
    assert source_jpeg_quality(out) == DEFAULT_JPEG_QUALITY
    write_image(out, image, None)
    assert source_jpeg_quality(out) == DEFAULT_JPEG_QUALITY
    assert source_jpeg_quality(tmp_path / "missing.jpg") is None


def test_png_is_lossless_with_and_without_alpha() -> None:
    image = _picture()
    alpha = np.random.default_rng(2).integers(0, 256, image.shape[:2], dtype=np.uint8)
    rgba = Image.open(io.BytesIO(encode(image, alpha, ".png")))
    assert rgba.format == "PNG" and rgba.mode == "RGBA"
    back = np.asarray(rgba)
    assert np.array_equal(back[:, :, :3], image) and np.array_equal(back[:, :, 3], alpha)
    rgb = Image.open(io.BytesIO(encode(image, None, ".PNG")))
    assert rgb.mode == "RGB" and np.array_equal(np.asarray(rgb), image)


def test_explicit_jobs_are_capped_by_cores_and_memory(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert 1 <= pool.worker_count(0) <= pool.usable_cores()  # this machine, as it is
    assert pool.worker_count(1) == 1
    monkeypatch.setattr(pool, "available_memory", lambda: 64 << 30)
    monkeypatch.setattr(pool, "usable_cores", lambda: 2)
    with caplog.at_level(logging.WARNING, "imgtrans.pool"):
        assert pool.worker_count(256) == 2  # `--jobs 256` on 2 cores
    assert "--jobs 256 lowered to 2: 2 usable CPU core(s)" in caplog.text
    assert pool.worker_count(0) == 2 and pool.worker_count(2) == 2
    # Little memory left: fewer workers than cores, whatever was asked.
    monkeypatch.setattr(pool, "available_memory", lambda: pool.MAIN_MEMORY + pool.WORKER_MEMORY)
    monkeypatch.setattr(pool, "usable_cores", lambda: 16)
    assert pool.worker_count(0) == 1
    assert pool.worker_count(8) == 1
    monkeypatch.setattr(pool, "available_memory", lambda: None)
    assert pool.worker_count(0) == 16
