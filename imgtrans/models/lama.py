"""LaMa generator: a Fast-Fourier-Convolution ResNet, key-compatible with official weights.

The module tree mirrors the official big-lama ``FFCResNetGenerator`` so that its
``state_dict()`` keys and shapes are the official ones (989 keys for the default config) and
official checkpoints load with ``strict=True``. Layout of ``self.model`` (an ``nn.Sequential``):

* ``0`` reflection pad 3, ``1`` 7x7 stem (local only),
* ``2 .. 1+n_downsampling`` stride-2 3x3 convs; the last one splits its output into a
  local part and a global (spectral) part with ``ratio`` of the channels,
* ``n_blocks`` residual FFC blocks, then a layer that concatenates local and global parts,
* ``n_downsampling`` x (transposed conv, BatchNorm, ReLU), reflection pad 3, 7x7 conv to 3
  channels, sigmoid.

Model boundary (:meth:`LamaGenerator.forward`): ``image`` float ``N x 3 x H x W`` RGB in
[0, 1], ``mask`` float ``N x 1 x H x W`` with 1 where pixels are to be filled; ``H`` and
``W`` multiples of ``2 ** n_downsampling``. Returns the raw prediction ``N x 3 x H x W`` in
[0, 1]; the caller composites ``mask * pred + (1 - mask) * image``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

Tensor = torch.Tensor
# A feature map split into a local part and a global part; either may be absent (None).
Split = tuple[Tensor | None, Tensor | None]


@dataclass(frozen=True)
class LamaConfig:
    """Shape of the generator. The defaults are big-lama (50,975,875 parameters)."""

    in_channels: int = 4  # RGB x (1 - mask) followed by the mask
    out_channels: int = 3
    ngf: int = 64
    n_downsampling: int = 3
    n_blocks: int = 18
    ratio: float = 0.75  # share of channels on the global (Fourier) path in the blocks
    max_features: int = 1024

    def __post_init__(self) -> None:
        if self.ngf < 1 or self.n_downsampling < 1 or self.n_blocks < 0:
            raise ValueError(f"invalid LaMa config: {self}")
        if not 0.0 <= self.ratio < 1.0:
            raise ValueError(f"ratio must be in [0, 1): {self.ratio}")

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this."""
        return int(2**self.n_downsampling)


class FourierUnit(nn.Module):
    """Convolution in the frequency domain: rfft2 -> 1x1 conv + BN + ReLU -> irfft2.

    The real and imaginary parts of channel ``c`` become channels ``2c`` and ``2c + 1`` of
    the spectral tensor (interleaved, as in the official checkpoints). The FFTs always run in
    float32: CUDA has no bfloat16 FFT and float16 only for power-of-two sizes.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(in_channels * 2, out_channels * 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels * 2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        with torch.autocast(x.device.type, enabled=False):
            spec = torch.fft.rfftn(x.float(), dim=(-2, -1), norm="ortho")
        # (n, c, h, w//2+1) complex -> (n, c, h, w//2+1, 2) -> (n, 2c, h, w//2+1), interleaved
        spec = torch.view_as_real(spec).permute(0, 1, 4, 2, 3).reshape(n, -1, h, w // 2 + 1)
        spec = self.relu(self.bn(self.conv_layer(spec)))
        spec = spec.float().reshape(n, -1, 2, h, w // 2 + 1).permute(0, 1, 3, 4, 2)
        with torch.autocast(x.device.type, enabled=False):
            out = torch.fft.irfftn(
                torch.view_as_complex(spec.contiguous()), s=(h, w), dim=(-2, -1), norm="ortho"
            )
        return out  # type: ignore[no-any-return]


class SpectralTransform(nn.Module):
    """Global branch: 1x1 reduce (conv1), Fourier unit (fu), residual sum, 1x1 expand (conv2)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        hidden = out_channels // 2
        self.downsample = nn.AvgPool2d(2, stride=2) if stride == 2 else nn.Identity()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
        )
        self.fu = FourierUnit(hidden, hidden)
        self.conv2 = nn.Conv2d(hidden, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(self.downsample(x))
        out: Tensor = self.conv2(x + self.fu(x))
        return out


def _conv_or_none(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Module | None:
    if cin == 0 or cout == 0:
        return None
    return nn.Conv2d(cin, cout, kernel, stride, padding, bias=False, padding_mode="reflect")


class FFC(nn.Module):
    """Fast Fourier convolution: four paths local/global -> local/global.

    ``convl2l``, ``convl2g``, ``convg2l`` are spatial convs; ``convg2g`` is the spectral
    transform. Paths whose input or output has no channels do not exist.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        ratio_in: float,
        ratio_out: float,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        in_g = int(cin * ratio_in)
        out_g = int(cout * ratio_out)
        in_l, out_l = cin - in_g, cout - out_g
        self.out_local, self.out_global = out_l, out_g
        self.convl2l = _conv_or_none(in_l, out_l, kernel, stride, padding)
        self.convl2g = _conv_or_none(in_l, out_g, kernel, stride, padding)
        self.convg2l = _conv_or_none(in_g, out_l, kernel, stride, padding)
        self.convg2g = SpectralTransform(in_g, out_g, stride) if in_g and out_g else None

    def forward(self, x: Split) -> Split:
        x_l, x_g = x
        out_l = _sum(_apply(self.convl2l, x_l), _apply(self.convg2l, x_g))
        out_g = _sum(_apply(self.convl2g, x_l), _apply(self.convg2g, x_g))
        return out_l, out_g


def _apply(layer: nn.Module | None, x: Tensor | None) -> Tensor | None:
    return None if layer is None or x is None else layer(x)


def _sum(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


class FFCBlock(nn.Module):
    """FFC followed by BatchNorm and ReLU on each existing part (``ffc``, ``bn_l``, ``bn_g``)."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        ratio_in: float,
        ratio_out: float,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.ffc = FFC(cin, cout, kernel, ratio_in, ratio_out, stride, padding)
        out_l, out_g = self.ffc.out_local, self.ffc.out_global
        self.bn_l = nn.BatchNorm2d(out_l) if out_l else None
        self.bn_g = nn.BatchNorm2d(out_g) if out_g else None
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Split) -> Split:
        x_l, x_g = self.ffc(x)
        x_l = self.act(self.bn_l(x_l)) if self.bn_l is not None and x_l is not None else x_l
        x_g = self.act(self.bn_g(x_g)) if self.bn_g is not None and x_g is not None else x_g
        return x_l, x_g


class FFCResBlock(nn.Module):
    """Two 3x3 FFC blocks with a residual connection on both parts."""

    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.conv1 = FFCBlock(dim, dim, 3, ratio, ratio, padding=1)
        self.conv2 = FFCBlock(dim, dim, 3, ratio, ratio, padding=1)

    def forward(self, x: Split) -> Split:
        y_l, y_g = self.conv2(self.conv1(x))
        return _sum(x[0], y_l), _sum(x[1], y_g)


class ConcatParts(nn.Module):
    """Local and global parts back into one tensor (local channels first)."""

    def forward(self, x: Split) -> Tensor:
        parts = [t for t in x if t is not None]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def _layers(cfg: LamaConfig) -> list[nn.Module]:
    def width(mult: int) -> int:
        return min(cfg.max_features, cfg.ngf * mult)

    layers: list[nn.Module] = [nn.ReflectionPad2d(3), FFCBlock(cfg.in_channels, cfg.ngf, 7, 0, 0)]
    for i in range(cfg.n_downsampling):
        last = i == cfg.n_downsampling - 1
        ratio_out = cfg.ratio if last else 0.0
        layers.append(FFCBlock(width(2**i), width(2 ** (i + 1)), 3, 0, ratio_out, 2, 1))
    dim = width(2**cfg.n_downsampling)
    layers += [FFCResBlock(dim, cfg.ratio) for _ in range(cfg.n_blocks)]
    layers.append(ConcatParts())
    for i in range(cfg.n_downsampling):
        mult = 2 ** (cfg.n_downsampling - i)
        cin, cout = width(mult), min(cfg.max_features, cfg.ngf * mult // 2)
        layers += [
            nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(cfg.ngf, cfg.out_channels, 7), nn.Sigmoid()]
    return layers


class LamaGenerator(nn.Module):
    """The LaMa generator. See the module docstring for the tensor contract."""

    def __init__(self, config: LamaConfig | None = None) -> None:
        super().__init__()
        self.config = config or LamaConfig()
        self.model = nn.Sequential(*_layers(self.config))

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        """``image`` N3HW RGB [0, 1], ``mask`` N1HW {0, 1} -> prediction N3HW in [0, 1]."""
        m = self.config.multiple
        tracing = torch.jit.is_tracing()  # type: ignore[attr-defined,no-untyped-call]
        if not tracing and (image.shape[-2] % m or image.shape[-1] % m):
            raise ValueError(f"height and width must be multiples of {m}: {tuple(image.shape)}")
        mask = (mask > 0).to(image.dtype)
        x: Tensor = torch.cat([image * (1 - mask), mask], dim=1)
        # Sequential cannot carry the (local, global) pair through the stem's pad, so the
        # first two layers are applied by hand; the rest pass the pair along.
        h: object = self.model[1]((self.model[0](x), None))
        for layer in list(self.model)[2:]:
            h = layer(h)
        assert isinstance(h, Tensor)
        return h


def build_lama(config: LamaConfig | None = None) -> LamaGenerator:
    """A generator in eval mode with freshly initialised (random) weights."""
    return LamaGenerator(config).eval()
