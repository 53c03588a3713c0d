"""Self-test of the golden-image comparator: it must accept noise and reject wrong images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from imagecompare import UPDATE_ENV, assert_matches_golden
from PIL import Image, ImageDraw

from imgtrans.lettering.fonts import pil_font, shipped_fonts


def _text_image(text: str, dx: int = 0, colour: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    spec = shipped_fonts("ko")[0]
    img = Image.new("RGB", (220, 80), (255, 255, 255))
    ImageDraw.Draw(img).text((20 + dx, 20), text, fill=colour, font=pil_font(spec.path, 0, 36))
    return np.asarray(img).copy()


@pytest.fixture
def golden_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    Image.fromarray(_text_image("안녕하세요")).save(tmp_path / "hello.png")
    return tmp_path


def test_identical_and_slightly_noisy_images_match(golden_dir: Path) -> None:
    img = _text_image("안녕하세요")
    assert_matches_golden(img, "hello", golden_dir=golden_dir)
    rng = np.random.default_rng(0)
    # Rounding noise everywhere plus a few anti-aliasing pixels far off: what a rebuilt
    # font or another FreeType gives.
    noisy = img.astype(int) + rng.integers(-3, 4, img.shape)
    ys, xs = rng.integers(0, img.shape[0], 15), rng.integers(0, img.shape[1], 15)
    noisy[ys, xs] = 255 - noisy[ys, xs]
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    assert_matches_golden(noisy, "hello", golden_dir=golden_dir)
    assert not (golden_dir / "hello.actual.png").exists()


@pytest.mark.parametrize(
    "wrong",
    [
        _text_image("안녕하세요", dx=4),  # moved
        _text_image("안녕히가세요"),  # other text
        _text_image("안녕하세요", colour=(220, 40, 40)),  # recoloured
        _text_image("안녕하세요")[:, :200],  # other size
    ],
    ids=["moved", "other-text", "recoloured", "other-size"],
)
def test_wrong_image_is_rejected_and_written(golden_dir: Path, wrong: np.ndarray) -> None:
    with pytest.raises(AssertionError, match="differs"):
        assert_matches_golden(wrong, "hello", golden_dir=golden_dir)
    written = np.asarray(Image.open(golden_dir / "hello.actual.png").convert("RGB"))
    assert np.array_equal(written, wrong)


def test_missing_golden_fails_and_update_mode_writes_it(
    golden_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = _text_image("새 그림")
    with pytest.raises(AssertionError, match="no golden"):
        assert_matches_golden(img, "new", golden_dir=golden_dir)
    assert (golden_dir / "new.actual.png").is_file()
    monkeypatch.setenv(UPDATE_ENV, "1")
    assert_matches_golden(img, "new", golden_dir=golden_dir)
    assert np.array_equal(np.asarray(Image.open(golden_dir / "new.png").convert("RGB")), img)
    assert not (golden_dir / "new.actual.png").exists()
