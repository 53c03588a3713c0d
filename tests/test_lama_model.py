"""The LaMa generator: official key layout, tensor contract, Fourier unit maths."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from lama_testing import tiny_lama

from imgtrans.models.lama import FourierUnit, LamaConfig, LamaGenerator, build_lama

torch.set_num_threads(1)

# Keys and shapes of the official big-lama generator (copied from shared/reference).
REFERENCE = Path(__file__).parent / "data" / "lama_big_keys.json"


def test_state_dict_matches_official_big_lama() -> None:
    ref = json.loads(REFERENCE.read_text())
    with torch.device("meta"):
        model = LamaGenerator(LamaConfig())
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert got == ref["keys"]
    assert len(got) == 989
    assert sum(p.numel() for p in model.parameters()) == ref["parameters"] == 50_975_875
    # And the official state loads strictly into a fresh model.
    with torch.device("meta"):
        LamaGenerator().load_state_dict(model.state_dict(), strict=True, assign=True)


def _inputs(n: int = 2, h: int = 48, w: int = 64, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(n, 3, h, w, generator=g)
    mask = (torch.rand(n, 1, h, w, generator=g) > 0.7).float()
    return image, mask


def test_forward_contract() -> None:
    model = tiny_lama()
    image, mask = _inputs()
    with torch.inference_mode():
        pred = model(image, mask)
    assert pred.shape == image.shape and pred.dtype == torch.float32
    assert float(pred.min()) >= 0.0 and float(pred.max()) <= 1.0
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 3, 30, 32), torch.zeros(1, 1, 30, 32))


def test_batch_equals_single() -> None:
    model = tiny_lama(seed=1)
    image, mask = _inputs(n=4, seed=2)
    with torch.inference_mode():
        batch = model(image, mask)
        singles = torch.cat([model(image[i : i + 1], mask[i : i + 1]) for i in range(4)])
    assert (batch - singles).abs().max().item() < 1e-5


def test_masked_pixels_do_not_leak_into_the_input() -> None:
    """What lies under the mask (the text to erase) cannot influence the prediction."""
    model = tiny_lama(seed=4)
    image, mask = _inputs(n=1, seed=5)
    scrambled = torch.where(mask.bool(), torch.rand_like(image), image)
    with torch.inference_mode():
        assert torch.equal(model(image, mask), model(scrambled, mask))
        # ... while a change outside the mask does change it.
        assert not torch.equal(model(image, mask), model(image * 0.5, mask))


def _identity_unit(channels: int) -> FourierUnit:
    unit = FourierUnit(channels, channels).eval()
    with torch.no_grad():
        unit.conv_layer.weight.zero_()
        unit.bn.eps = 0.0
        unit.bn.running_mean.zero_()
        unit.bn.running_var.fill_(1.0)
        unit.bn.weight.fill_(1.0)
        unit.bn.bias.zero_()
    return unit


def _waves(h: int, w: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.arange(w, dtype=torch.float64)
    phase = 2 * math.pi * k * x / w
    cos = torch.cos(phase).expand(h, w).float()
    sin = torch.sin(phase).expand(h, w).float()
    return cos, sin


def test_fourier_unit_interleaves_real_and_imag_per_channel() -> None:
    """Spectral channel 2c is Re(channel c), 2c+1 is Im(channel c).

    The 1x1 conv is set to copy spectral channel 0 (Re of channel 0) into spectral channel 1.
    With the interleaved layout that is Im of channel 0: cos -> irfft(i * Re) = -sin, in
    channel 0. With a [all real, all imag] layout it would land in Re of channel 1 instead.
    """
    h, w, k = 8, 16, 3
    cos, sin = _waves(h, w, k)
    unit = _identity_unit(2)
    with torch.no_grad():
        unit.conv_layer.weight[1, 0] = 1.0
        x = torch.stack([cos, torch.zeros(h, w)])[None]
        out = unit(x)[0]
    assert torch.allclose(out[0], -sin, atol=1e-5)
    assert torch.allclose(out[1], torch.zeros(h, w), atol=1e-6)


def test_fourier_unit_identity_and_relu_on_spectrum() -> None:
    """Identity conv keeps cos (positive real spectrum) and a positive mean; ReLU removes sin
    (its rfft coefficient is -i/2 * sqrt(HW) scaled, negative imaginary)."""
    h, w, k = 8, 12, 2
    cos, sin = _waves(h, w, k)
    unit = _identity_unit(3)
    with torch.no_grad():
        unit.conv_layer.weight[:, :, 0, 0] = torch.eye(6)
        x = torch.stack([cos, sin, torch.full((h, w), 0.25)])[None]
        out = unit(x)[0]
    assert torch.allclose(out[0], cos, atol=1e-5)
    assert torch.allclose(out[1], torch.zeros(h, w), atol=1e-5)
    assert torch.allclose(out[2], torch.full((h, w), 0.25), atol=1e-6)


def test_fourier_unit_fft_stays_fp32_under_bf16_autocast() -> None:
    """torch has no bfloat16 FFT (CPU or CUDA): this fails unless the FFTs run in fp32."""
    model = build_lama(LamaConfig(ngf=8, n_blocks=1))
    image, mask = _inputs(n=1, h=32, w=32)
    with torch.inference_mode():
        ref = model(image, mask)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(image, mask)
    assert low.shape == ref.shape
    assert (low.float() - ref).abs().mean().item() < 0.02
