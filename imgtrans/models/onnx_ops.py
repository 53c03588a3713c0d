"""Torch implementations of the ONNX operators the PP-OCR models use (opset 11 semantics).

Each entry of :data:`OPS` is a factory: it reads a node's attributes once, at load time, and
returns a function of the node's runtime inputs. A runtime value is either a float tensor or
a *host value*: a small integer shape quantity kept in Python (``int`` for a 0-d tensor,
``tuple[int, ...]`` for a 1-d one). Shape arithmetic therefore never touches the device and
``torch.compile`` sees plain (symbolic) ints instead of data-dependent tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

Host = int | tuple[int, ...]
Value = torch.Tensor | Host
OpFn = Callable[..., Value]
Attrs = dict[str, Any]


class UnsupportedOnnxError(NotImplementedError):
    """An operator or attribute combination the interpreter does not implement."""


def _same_pads(
    size: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    upper: bool,
) -> list[int]:
    """F.pad argument (last dim first) for auto_pad=SAME_UPPER/SAME_LOWER.

    ONNX puts the odd pixel of padding at the end for SAME_UPPER, at the start for
    SAME_LOWER; torch's padding="same" does neither for even kernels, hence explicit pads.
    """
    pads: list[int] = []
    for n, k, s, d in zip(
        reversed(size), reversed(kernel), reversed(strides), reversed(dilations), strict=True
    ):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, big = total // 2, total - total // 2
        pads += [small, big] if upper else [big, small]
    return pads


def _pad_spec(a: Attrs, nd: int) -> tuple[str, Any]:
    """("same", upper) | ("sym", padding tuple) | ("pad", F.pad list) from auto_pad/pads."""
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return "same", auto == "SAME_UPPER"
    if auto == "VALID":
        return "sym", (0,) * nd
    if auto != "NOTSET":
        raise UnsupportedOnnxError(f"auto_pad={auto}")
    pads = list(a.get("pads", [0] * (2 * nd)))
    begin, end = pads[:nd], pads[nd:]
    if begin == end:
        return "sym", tuple(begin)
    flat: list[int] = []
    for b, e in zip(reversed(begin), reversed(end), strict=True):
        flat += [b, e]
    return "pad", flat


def _conv(a: Attrs) -> OpFn:
    strides = tuple(a.get("strides", (1, 1)))
    dil = tuple(a.get("dilations", (1, 1)))
    group = int(a.get("group", 1))
    kind, spec = _pad_spec(a, 2)

    if kind == "same" and strides == (1, 1):  # stride 1: SAME pads do not depend on the size
        kernel = [(k - 1) * d + 1 for k, d in zip(a["kernel_shape"], dil, strict=True)]
        kind, spec = "pad", _same_pads(kernel, kernel, strides, (1, 1), spec)

    def conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        if kind == "same":
            x = F.pad(x, _same_pads(x.shape[2:], w.shape[2:], strides, dil, spec))
        elif kind == "pad":
            x = F.pad(x, spec)
        padding = spec if kind == "sym" else 0
        return F.conv2d(x, w, b, strides, padding, dil, group)

    return conv


def _conv_transpose(a: Attrs) -> OpFn:
    if "output_shape" in a or a.get("auto_pad", "NOTSET") != "NOTSET":
        raise UnsupportedOnnxError("ConvTranspose with output_shape or auto_pad")
    kind, padding = _pad_spec(a, 2)
    if kind != "sym":
        raise UnsupportedOnnxError("ConvTranspose with asymmetric pads")
    strides = tuple(a.get("strides", (1, 1)))
    dil = tuple(a.get("dilations", (1, 1)))
    out_pad = tuple(a.get("output_padding", (0, 0)))
    group = int(a.get("group", 1))

    def conv_t(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv_transpose2d(x, w, b, strides, padding, out_pad, group, dil)

    return conv_t


def _shifted_max(x: torch.Tensor, kernel: tuple[int, ...], padding: Any) -> torch.Tensor:
    """Stride-1 max pooling as the maximum of the kernel's shifted views."""
    if any(padding):
        pads = [padding[1], padding[1], padding[0], padding[0]]
        x = F.pad(x, pads, value=-math.inf)
    kh, kw = kernel
    h, w = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = x[:, :, :h, :w]
    for i in range(kh):
        for j in range(kw):
            if i or j:
                out = torch.maximum(out, x[:, :, i : i + h, j : j + w])
    return out


def _pool(a: Attrs, is_max: bool) -> OpFn:
    kernel = tuple(a["kernel_shape"])
    strides = tuple(a.get("strides", (1,) * len(kernel)))
    ceil = bool(a.get("ceil_mode", 0))
    include_pad = bool(a.get("count_include_pad", 0))
    kind, spec = _pad_spec(a, len(kernel))
    if len(kernel) != 2 or any(d != 1 for d in a.get("dilations", (1, 1))):
        raise UnsupportedOnnxError("pooling other than 2-D without dilation")
    if not is_max and kind != "sym":
        raise UnsupportedOnnxError("AveragePool with SAME or asymmetric pads")

    # torch's CPU max_pool2d takes ~20% of det time for one 2x2 stride-1 pool; the maximum
    # of the kernel's shifted views is ~10x faster and exact
    shift_max = strides == (1, 1) and math.prod(kernel) <= 9

    def pool(x: torch.Tensor) -> torch.Tensor:
        padding = spec if kind == "sym" else (0, 0)
        if kind != "sym":  # padded cells never win a max: pad with -inf
            pads = (
                _same_pads(x.shape[2:], kernel, strides, (1, 1), spec) if kind == "same" else spec
            )
            x = F.pad(x, pads, value=-math.inf)
        if is_max and shift_max:
            return _shifted_max(x, kernel, padding)
        if is_max:
            return F.max_pool2d(x, kernel, strides, padding, ceil_mode=ceil)
        return F.avg_pool2d(x, kernel, strides, padding, ceil, include_pad)

    return pool


def _resize(a: Attrs) -> OpFn:
    mode = a.get("mode", "nearest")
    coord = a.get("coordinate_transformation_mode", "half_pixel")
    if mode != "nearest" or coord != "asymmetric" or a.get("nearest_mode", "") != "floor":
        raise UnsupportedOnnxError(f"Resize mode={mode} coordinate_transformation_mode={coord}")

    # torch "nearest" computes src = floor(dst / scale): ONNX asymmetric + floor.
    def resize(x: torch.Tensor, roi: Any = None, scales: Any = None, sizes: Any = None) -> Any:
        if sizes is not None and len(sizes):
            return F.interpolate(x, size=tuple(int(s) for s in sizes[2:]), mode="nearest")
        sc = list(scales)
        if sc[:2] != [1.0, 1.0]:
            raise UnsupportedOnnxError("Resize over the batch or channel axis")
        return F.interpolate(x, scale_factor=tuple(sc[2:]), mode="nearest")

    return resize


def _hard_sigmoid(a: Attrs) -> OpFn:
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if abs(alpha - 1 / 6) < 1e-6 and beta == 0.5:  # Paddle's 1/6 rounds 3e-8 off torch's
        return F.hardsigmoid
    return lambda x: (x * alpha + beta).clamp_(0.0, 1.0)


def _softmax(a: Attrs, opset: int) -> OpFn:
    axis = int(a.get("axis", 1 if opset < 13 else -1))

    def softmax(x: torch.Tensor) -> torch.Tensor:
        ax = axis % x.dim()
        if opset >= 13 or ax == x.dim() - 1:
            return torch.softmax(x, ax)
        # opset < 13 normalises over all trailing axes flattened together
        return torch.softmax(x.flatten(ax), ax).reshape(x.shape)

    return softmax


def _reduce_mean(a: Attrs) -> OpFn:
    axes = a.get("axes")
    keep = bool(a.get("keepdims", 1))
    if axes is None:
        return lambda x: x.mean(dim=tuple(range(x.dim())), keepdim=keep)
    dims = tuple(axes)
    return lambda x: x.mean(dim=dims, keepdim=keep)


def _host_or(tensor_fn: Callable[..., torch.Tensor], host_fn: Callable[..., Host]) -> OpFn:
    def op(*xs: Any) -> Value:
        return tensor_fn(*xs) if isinstance(xs[0], torch.Tensor) else host_fn(*xs)

    return op


def _as_tuple(v: Host) -> tuple[int, ...]:
    return v if isinstance(v, tuple) else (v,)


def _concat(a: Attrs) -> OpFn:
    axis = int(a["axis"])

    def host_cat(*xs: Host) -> Host:
        return tuple(i for x in xs for i in _as_tuple(x))

    return _host_or(lambda *xs: torch.cat(xs, axis), host_cat)


def _reshape(a: Attrs) -> OpFn:
    if a.get("allowzero", 0):
        raise UnsupportedOnnxError("Reshape allowzero=1")

    def reshape(x: Value, shape: Host) -> Value:
        shape = _as_tuple(shape)
        if not isinstance(x, torch.Tensor):  # host values only reshape between 0-d and 1-d
            return x[0] if shape == () and isinstance(x, tuple) else _as_tuple(x)
        return x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape)])

    return reshape


def _axes_op(a: Attrs, squeeze: bool) -> OpFn:
    attr_axes = a.get("axes")

    def op(x: Value, axes: Host | None = None) -> Value:
        ax = _as_tuple(axes) if axes is not None else tuple(attr_axes or ())
        if not isinstance(x, torch.Tensor):
            if squeeze:
                return x[0] if isinstance(x, tuple) and len(x) == 1 else x
            return (x,) if isinstance(x, int) else x
        if squeeze:
            dims = ax or tuple(i for i, n in enumerate(x.shape) if n == 1)
            return x.squeeze(dims)
        for d in sorted(i % (x.dim() + len(ax)) for i in ax):
            x = x.unsqueeze(d)
        return x

    return op


def _slice(a: Attrs) -> OpFn:
    def op(
        x: Value, starts: Host, ends: Host, axes: Host | None = None, steps: Host | None = None
    ) -> Value:
        st, en = _as_tuple(starts), _as_tuple(ends)
        ax = _as_tuple(axes) if axes is not None else tuple(range(len(st)))
        sp = _as_tuple(steps) if steps is not None else (1,) * len(st)
        if not isinstance(x, torch.Tensor):
            return _as_tuple(x)[slice(st[0], en[0], sp[0])]
        index: list[slice] = [slice(None)] * x.dim()
        for s, e, d, k in zip(st, en, ax, sp, strict=True):
            if k <= 0:
                raise UnsupportedOnnxError("Slice with a non-positive step")
            index[d] = slice(s, e, k)
        return x[tuple(index)]

    return op


_DTYPES = {1: torch.float32, 10: torch.float16, 11: torch.float64}
_INT_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}


def _cast(a: Attrs) -> OpFn:
    to = int(a["to"])

    def cast(x: Value) -> Value:
        if not isinstance(x, torch.Tensor):
            if to not in _INT_TYPES:
                raise UnsupportedOnnxError("Cast of a shape value to a float type")
            return x
        if to not in _DTYPES:
            raise UnsupportedOnnxError(f"Cast of a tensor to ONNX type {to}")
        return x.to(_DTYPES[to])

    return cast


def _clip(a: Attrs) -> OpFn:
    def clip(x: torch.Tensor, lo: Any = None, hi: Any = None) -> torch.Tensor:
        lo_v = float(lo) if lo is not None else a.get("min")
        hi_v = float(hi) if hi is not None else a.get("max")
        return torch.clamp(x, lo_v, hi_v)

    return clip


def _binary(fn: Callable[[Any, Any], Any]) -> Callable[[Attrs], OpFn]:
    return lambda a: fn


def _bn(a: Attrs) -> OpFn:
    eps = float(a.get("epsilon", 1e-5))

    def bn(x: torch.Tensor, scale: Any, bias: Any, mean: Any, var: Any) -> torch.Tensor:
        return F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)

    return bn


def _pow(a: Attrs) -> OpFn:
    def power(x: torch.Tensor, p: Any) -> torch.Tensor:
        if isinstance(p, float) and p == 2.0:
            return x * x
        return torch.pow(x, p)

    return power


def _fused_layer_norm(a: Attrs) -> OpFn:
    eps = float(a["epsilon"])
    return lambda x, w, b: F.layer_norm(x, w.shape, w, b, eps)


OPS: dict[str, Callable[[Attrs], OpFn]] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "BatchNormalization": _bn,
    "MaxPool": lambda a: _pool(a, True),
    "AveragePool": lambda a: _pool(a, False),
    "GlobalAveragePool": lambda a: lambda x: x.mean((2, 3), keepdim=True),
    "ReduceMean": _reduce_mean,
    "Resize": _resize,
    "Relu": lambda a: F.relu,
    "Sigmoid": lambda a: torch.sigmoid,
    "HardSigmoid": _hard_sigmoid,
    "Erf": lambda a: torch.erf,
    "Sqrt": lambda a: torch.sqrt,
    "Clip": _clip,
    "Add": _binary(torch.add),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "Div": _binary(torch.div),
    "Pow": _pow,
    "MatMul": _binary(torch.matmul),
    "Transpose": lambda a: lambda x: x.permute(tuple(a.get("perm") or range(x.dim() - 1, -1, -1))),
    "Concat": _concat,
    "Reshape": _reshape,
    "Squeeze": lambda a: _axes_op(a, True),
    "Unsqueeze": lambda a: _axes_op(a, False),
    "Slice": _slice,
    "Shape": lambda a: lambda x: tuple(x.shape),
    "Cast": _cast,
    # produced by the fusion passes in onnx_graph.py, not by ONNX itself
    "_Gelu": lambda a: F.gelu,
    "_SiLU": lambda a: F.silu,
    "_Hardswish": lambda a: F.hardswish,
    "_Linear": lambda a: F.linear,
    "_LayerNorm": _fused_layer_norm,
}


def make_op(op_type: str, attrs: Attrs, opset: int) -> OpFn:
    """The torch function for one node; UnsupportedOnnxError names an unknown operator."""
    if op_type == "Softmax":
        return _softmax(attrs, opset)
    if op_type not in OPS:
        raise UnsupportedOnnxError(
            f"ONNX operator {op_type!r} is not implemented by imgtrans' torch interpreter"
        )
    return OPS[op_type](attrs)
