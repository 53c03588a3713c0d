"""A native torch module that runs an ONNX graph: weights as fp32 buffers, nodes as torch ops.

Why not onnx2torch: it imports torchvision at import time (the PyPI torchvision wheel does
not load beside the CPU torch wheel), its Reshape breaks ``torch.compile``, it turns every
Identity into a ``clone()`` (~30% of CPU time on these models) and it needs a pre-pass for
``auto_pad=SAME_UPPER``. The three PP-OCR graphs use ~30 operators, so a small interpreter
for exactly those (``onnx_ops.py``) is less code to trust than a converter.

At load time the graph is simplified: Identity nodes become aliases, Constant nodes and
every node whose inputs are all constant are evaluated once, shape arithmetic stays in
Python ints, and a few chains are fused into single torch calls (Conv+BatchNorm, Conv+bias
Add, the erf GELU, SiLU, hard-swish, LayerNorm, MatMul+Add -> linear). ``forward`` then
walks a flat list of steps; batch, height and width stay dynamic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from imgtrans.models.onnx_fusion import Node, fuse
from imgtrans.models.onnx_ops import UnsupportedOnnxError, Value, make_op

_FLOAT_TYPES = {1, 10, 11}  # ONNX FLOAT, FLOAT16, DOUBLE
_SCALAR_OPS = {"Add", "Sub", "Mul", "Div", "Pow", "Clip"}  # constant scalars as Python floats


def _to_value(arr: np.ndarray, onnx_type: int) -> Value:
    """Float arrays -> fp32 tensors; small integer arrays -> host ints / tuples."""
    if onnx_type in _FLOAT_TYPES:
        return torch.from_numpy(np.array(arr, dtype=np.float32))
    if arr.ndim == 0:
        return int(arr)
    if arr.ndim == 1:
        return tuple(int(v) for v in arr)
    raise UnsupportedOnnxError(f"integer constant of rank {arr.ndim}")


def _attr_value(attr: Any) -> Any:
    import onnx

    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [v.decode() if isinstance(v, bytes) else v for v in value]
    return value


def _parse(path: Path) -> tuple[list[Node], dict[str, Value], str, str, int]:
    """Nodes (Identity resolved), constants, input name, output name, opset."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    static: dict[str, Value] = {
        t.name: _to_value(numpy_helper.to_array(t), t.data_type) for t in graph.initializer
    }
    alias: dict[str, str] = {}
    nodes: list[Node] = []
    for proto in graph.node:
        inputs = [alias.get(name, name) for name in proto.input]
        attrs = {a.name: _attr_value(a) for a in proto.attribute}
        if proto.op_type == "Identity":
            alias[proto.output[0]] = inputs[0]
        elif proto.op_type == "Constant":
            if "value" not in attrs:
                raise UnsupportedOnnxError(f"Constant without a tensor value: {sorted(attrs)}")
            tensor = attrs["value"]
            static[proto.output[0]] = _to_value(numpy_helper.to_array(tensor), tensor.data_type)
        else:
            if len(proto.output) != 1:
                raise UnsupportedOnnxError(f"{proto.op_type} with {len(proto.output)} outputs")
            nodes.append(Node(proto.op_type, inputs, list(proto.output), attrs))
    graph_inputs = [i.name for i in graph.input if i.name not in static]
    if len(graph_inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedOnnxError("only graphs with one input and one output are supported")
    output = graph.output[0].name
    return nodes, static, graph_inputs[0], alias.get(output, output), opset


def _fold(nodes: list[Node], static: dict[str, Value], opset: int) -> list[Node]:
    """Evaluate, once, every node whose inputs are all constant."""
    kept: list[Node] = []
    with torch.no_grad():
        for node in nodes:
            if all(not name or name in static for name in node.inputs):
                args = [static[name] if name else None for name in node.inputs]
                static[node.outputs[0]] = make_op(node.op, node.attrs, opset)(*args)
            else:
                kept.append(node)
    return kept


def _live(nodes: list[Node], output: str) -> list[Node]:
    """Drop nodes whose output nobody needs (left behind by folding and fusion)."""
    needed = {output}
    kept: list[Node] = []
    for node in reversed(nodes):
        if node.outputs[0] in needed:
            kept.append(node)
            needed.update(node.inputs)
    return kept[::-1]


class OnnxGraph(nn.Module):
    """Runs one single-input, single-output ONNX graph with torch ops.

    Constants are fp32 buffers, so ``.to(device)`` moves the whole model. The graph's own
    input and output conventions (shape, dtype, value range) are the ONNX file's.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        nodes, static, self._input, self._output, opset = _parse(path)
        nodes = _fold(nodes, static, opset)
        nodes = _live(fuse(nodes, static, self._output), self._output)
        buffer_of: dict[str, str] = {}
        steps: list[tuple[Any, list[tuple[int, Any]], str]] = []
        for node in nodes:
            args: list[tuple[int, Any]] = []
            for name in node.inputs:
                value = static.get(name) if name else None
                if name and name not in static:
                    args.append((0, name))  # computed at run time
                elif isinstance(value, torch.Tensor) and (
                    value.numel() == 1
                    and value.dim() <= 1
                    and node.op in _SCALAR_OPS
                    or node.op == "Resize"
                ):
                    # scalars and resize scales become Python numbers: no device sync, and
                    # torch.compile sees constants
                    args.append((2, value.item() if value.numel() == 1 else value.tolist()))
                elif isinstance(value, torch.Tensor):
                    if name not in buffer_of:
                        buffer_of[name] = f"c{len(buffer_of)}"
                        self.register_buffer(buffer_of[name], value.contiguous())
                    args.append((1, buffer_of[name]))
                else:
                    args.append((2, value))
            steps.append((make_op(node.op, node.attrs, opset), args, node.outputs[0]))
        self._steps = steps
        self._drop = self._last_uses(steps)
        self.n_steps = len(steps)

    def _last_uses(self, steps: list[tuple[Any, list[tuple[int, Any]], str]]) -> list[list[str]]:
        """Per step, the run-time values no later step reads: freed early to save memory."""
        last: dict[str, int] = {}
        for i, (_, args, _) in enumerate(steps):
            for kind, ref in args:
                if kind == 0:
                    last[ref] = i
        drop: list[list[str]] = [[] for _ in steps]
        for name, i in last.items():
            if name != self._output:
                drop[i].append(name)
        return drop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, Any] = {self._input: x}
        for (fn, args, out), drop in zip(self._steps, self._drop, strict=True):
            vals = [env[r] if k == 0 else getattr(self, r) if k == 1 else r for k, r in args]
            env[out] = fn(*vals)
            for name in drop:
                del env[name]
        result = env[self._output]
        assert isinstance(result, torch.Tensor)
        return result
