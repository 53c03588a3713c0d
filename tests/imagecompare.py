"""Golden-image comparison with a tolerance.

``assert_matches_golden(actual, "name")`` compares an RGB uint8 image with
``tests/golden/name.png``. Pixels whose largest channel difference exceeds
``pixel_tol`` are "bad"; the images match when the bad fraction is at most ``max_bad``
and the mean absolute difference at most ``max_mean``. Anti-aliasing noise and a font
version's sub-pixel shifts pass; a moved, missing or recoloured glyph does not.

On a mismatch the actual image is written beside the golden as ``name.actual.png``
(git-ignored) so it can be inspected or promoted. To (re)generate goldens, e.g. after the
shipped fonts change, run the tests with ``IMGTRANS_UPDATE_GOLDEN=1``; review the new
PNGs before committing them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_ENV = "IMGTRANS_UPDATE_GOLDEN"


@dataclass(frozen=True)
class Diff:
    same_shape: bool
    bad_fraction: float
    mean_abs: float


def diff(actual: np.ndarray, expected: np.ndarray, pixel_tol: int = 64) -> Diff:
    """How far ``actual`` is from ``expected`` (both RGB uint8 HxWx3)."""
    if actual.shape != expected.shape:
        return Diff(False, 1.0, 255.0)
    d = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    bad = d.max(axis=2) > pixel_tol
    return Diff(True, float(bad.mean()), float(d.mean()))


def assert_matches_golden(
    actual: np.ndarray,
    name: str,
    *,
    golden_dir: Path = GOLDEN_DIR,
    pixel_tol: int = 64,
    max_bad: float = 0.002,
    max_mean: float = 1.5,
) -> None:
    """Assert ``actual`` matches ``golden_dir/name.png`` within tolerance (see module doc)."""
    if actual.dtype != np.uint8 or actual.ndim != 3 or actual.shape[2] != 3:
        raise TypeError(f"expected RGB uint8 HxWx3, got {actual.dtype} {actual.shape}")
    golden = golden_dir / f"{name}.png"
    actual_path = golden_dir / f"{name}.actual.png"
    if os.environ.get(UPDATE_ENV) == "1":
        golden_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(actual).save(golden)
        actual_path.unlink(missing_ok=True)
        return
    if not golden.is_file():
        Image.fromarray(actual).save(actual_path)
        raise AssertionError(
            f"no golden image {golden}; wrote {actual_path}. Review it, then run with "
            f"{UPDATE_ENV}=1 to store it."
        )
    expected = np.asarray(Image.open(golden).convert("RGB"))
    result = diff(actual, expected, pixel_tol)
    if result.same_shape and result.bad_fraction <= max_bad and result.mean_abs <= max_mean:
        actual_path.unlink(missing_ok=True)
        return
    Image.fromarray(actual).save(actual_path)
    raise AssertionError(
        f"{name}: image differs from {golden} (shape {actual.shape} vs {expected.shape}, "
        f"{result.bad_fraction:.4%} pixels off by >{pixel_tol} (max {max_bad:.2%}), mean "
        f"|diff| {result.mean_abs:.2f} (max {max_mean})); wrote {actual_path}. If the change "
        f"is intended, rerun with {UPDATE_ENV}=1."
    )
