"""The table lookups that replaced per-pixel float arithmetic on the host path give exactly
the values of that arithmetic."""

from __future__ import annotations

import numpy as np

from imgtrans.ocr.detect import MEAN, STD, normalise
from imgtrans.stages.inpaint import far_from


def _image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)


def test_detection_normalise_is_the_float_formula_bit_for_bit() -> None:
    image = _image()
    bgr = image[:, :, ::-1].astype(np.float32) / 255.0
    want = ((bgr - MEAN) / STD).transpose(2, 0, 1)
    got = normalise(image)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    batch = np.full((2, 3, 64, 64), 7.0, np.float32)
    normalise(image, out=batch[1, :, :37, :53])
    assert np.array_equal(batch[1, :, :37, :53], want)
    assert (batch[1, :, 37:, :] == 7.0).all() and (batch[0] == 7.0).all()


def test_far_from_is_the_channel_difference_formula() -> None:
    image = _image()
    for colour in (np.array([120.5, 33.0, 250.0]), np.array([0.0, 255.0, 127.5])):
        for limit in (0.0, 24.0, 100.0):
            want = np.abs(image.astype(np.float32) - colour).max(axis=2) > limit
            assert np.array_equal(far_from(image, colour, limit), want)


def test_recognition_normalise_is_the_float_formula_bit_for_bit() -> None:
    from imgtrans.ocr.recognize import UNIT_TABLE, _rec_normalise

    levels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(UNIT_TABLE[levels], (levels.astype(np.float32) / 255.0 - 0.5) / 0.5)
    crop = np.random.default_rng(1).integers(0, 256, (48, 100, 3), dtype=np.uint8)
    out = _rec_normalise(crop, 320)
    want = (crop[:, :, ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5
    assert np.array_equal(out[:, :, :100], want.transpose(2, 0, 1))
    assert (out[:, :, 100:] == 0).all()
