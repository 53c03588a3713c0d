"""LamaInpainter: cropping, bucketing, batching across pages, padding and paste-back."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from lama_testing import tiny_lama
from torch import nn

from imgtrans.errors import MissingModelError
from imgtrans.models.lama_runner import LamaInpainter, feather_alpha, padded_shape
from imgtrans.page import BBox

torch.set_num_threads(1)
CPU = torch.device("cpu")


class Echo(nn.Module):
    """Returns its (unmasked) image input: a paste-back that lands anywhere but on the
    same pixel shows up as a changed pixel. Records the input shapes it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(image.shape))
        return image


def _page(h: int, w: int, text: str, seed: int) -> tuple[np.ndarray, np.ndarray, list[BBox]]:
    """A textured page with lettering; mask = the lettering, dilated; regions = its boxes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 127 // (h + w)], axis=-1)
    image = np.clip(base + rng.integers(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)
    ink = np.zeros((h, w), np.uint8)
    regions = []
    for i, y in enumerate(range(30, h - 10, 45)):
        x = 10 + 17 * i
        cv2.putText(ink, f"{text}{i}", (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 255, 2)
        (tw, th), base_line = cv2.getTextSize(f"{text}{i}", cv2.FONT_HERSHEY_SIMPLEX, 0.9, 2)
        regions.append(BBox(x - 4, y - th - 4, min(w, x + tw + 4), min(h, y + base_line + 4)))
    image[ink > 0] = (20, 20, 20)
    mask = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    return image, mask, regions


def test_padded_shape_buckets() -> None:
    assert padded_shape(37, 53) == (64, 64)
    assert padded_shape(300, 100) == (384, 128)
    assert padded_shape(1024, 10) == (1024, 256)
    assert padded_shape(257, 256) == (384, 256)
    for h in range(1, 1025, 37):
        ph, pw = padded_shape(h, 1024 - h // 2)
        assert ph % 8 == 0 and pw % 8 == 0 and ph >= h and pw <= 1024


def test_feather_alpha() -> None:
    mask = np.zeros((11, 11), bool)
    mask[2:9, 2:9] = True
    alpha = feather_alpha(mask, 2)
    assert (alpha[~mask] == 0).all()
    assert alpha[5, 5] == 1.0 and 0 < alpha[2, 5] < alpha[3, 5] < 1.0
    assert (feather_alpha(mask, 0) == mask).all()


def test_padding_and_crop_back_are_exact() -> None:
    """Odd-sized crops padded to their bucket shape and cut back land on the same pixels."""
    echo = Echo()
    runner = LamaInpainter(echo, CPU, feather=0, batch_size=3, min_margin=5)
    image, mask, regions = _page(157, 211, "Ab", seed=1)
    (out,) = runner.inpaint([image], [mask], [regions])
    assert np.array_equal(out, image)
    assert echo.shapes and all(s[2] % 8 == 0 and s[3] % 8 == 0 for s in echo.shapes)
    assert sum(s[0] for s in echo.shapes) == len(regions)


def test_large_crop_is_shrunk_and_restored() -> None:
    echo = Echo()
    runner = LamaInpainter(echo, CPU, feather=0, buckets=(64, 128))
    image = np.full((300, 260, 3), 200, np.uint8)
    image[:, 130:] = 60
    mask = np.zeros((300, 260), np.uint8)
    mask[40:260, 100:160] = 255
    (out,) = runner.inpaint([image], [mask], [[BBox(100, 40, 160, 260)]])
    assert max(max(s[2:]) for s in echo.shapes) == 128  # shrunk to the largest bucket
    outside = mask == 0
    assert np.array_equal(out[outside], image[outside])
    diff = np.abs(out.astype(int) - image.astype(int))[~outside]
    assert diff.mean() < 6  # a blurred copy of the same picture, not a shifted one


def test_outside_mask_is_bit_identical_and_mask_is_filled() -> None:
    runner = LamaInpainter(tiny_lama(seed=7), CPU, batch_size=4)
    image, mask, regions = _page(120, 180, "Hi", seed=2)
    before = image.copy()
    (out,) = runner.inpaint([image], [mask], [regions])
    assert np.array_equal(image, before)  # input not modified
    outside = mask == 0
    assert np.array_equal(out[outside], image[outside])
    assert (out[~outside] != image[~outside]).any(axis=-1).mean() > 0.9


def test_batched_pages_equal_single_pages() -> None:
    model = tiny_lama(seed=8)
    pages = [_page(100, 150, "P", seed=s) for s in range(3)]
    images, masks, regions = (list(x) for x in zip(*pages, strict=True))
    together = LamaInpainter(model, CPU, batch_size=8).inpaint(images, masks, regions)
    single = LamaInpainter(model, CPU, batch_size=1)
    for i in range(3):
        (alone,) = single.inpaint([images[i]], [masks[i]], [regions[i]])
        assert np.abs(alone.astype(int) - together[i].astype(int)).max() <= 1


def test_masked_pixels_outside_regions_are_left_alone() -> None:
    echo = Echo()
    runner = LamaInpainter(echo, CPU)
    image, mask, regions = _page(120, 160, "Q", seed=3)
    (out,) = runner.inpaint([image], [mask], [[]])
    assert np.array_equal(out, image) and echo.shapes == []
    empty = np.zeros_like(mask)
    (out,) = runner.inpaint([image], [empty], [regions])
    assert np.array_equal(out, image) and echo.shapes == []


def test_rejects_bad_inputs() -> None:
    runner = LamaInpainter(Echo(), CPU)
    image, mask, regions = _page(64, 64, "x", seed=4)
    with pytest.raises(ValueError, match="same length"):
        runner.inpaint([image], [], [regions])
    with pytest.raises(ValueError, match="does not match"):
        runner.inpaint([image], [mask[:10]], [regions])
    with pytest.raises(ValueError, match="uint8"):
        runner.inpaint([image.astype(np.float32)], [mask], [regions])


def test_load_without_weights_names_fetch_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(tmp_path))
    with pytest.raises(MissingModelError, match="imgtrans models fetch lama-manga"):
        LamaInpainter.load(CPU)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bf16_autocast_on_cuda_close_to_fp32() -> None:
    cuda = torch.device("cuda")
    pages = [_page(200, 300, "GPU", seed=s) for s in range(2)]
    images, masks, regions = (list(x) for x in zip(*pages, strict=True))
    low = LamaInpainter(tiny_lama(seed=9), cuda, batch_size=8)
    full = LamaInpainter(tiny_lama(seed=9), cuda, batch_size=8, bf16=False)
    assert low.bf16 and not full.bf16
    assert next(low.model.parameters()).dtype == torch.float32  # weights stay fp32
    for image, mask, a, b in zip(
        images,
        masks,
        low.inpaint(images, masks, regions),
        full.inpaint(images, masks, regions),
        strict=True,
    ):
        outside = mask == 0
        assert np.array_equal(a[outside], image[outside])
        diff = np.abs(a.astype(int) - b.astype(int))[~outside]
        assert diff.mean() < 2.0 and diff.max() < 40
