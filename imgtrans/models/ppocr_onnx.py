"""PP-OCR detection, recognition and orientation on onnxruntime's CPU provider.

The CPU backend: onnxruntime runs these small networks 1.5-3x faster than eager torch on
CPU. Same three methods and array conventions as :class:`TorchOcrBackend`
(see ppocr_torch.py for shapes, colour order and normalisation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imgtrans.models.ppocr import ocr_model_paths


class OnnxOcrBackend:
    """The three PP-OCR models as onnxruntime sessions (CPUExecutionProvider)."""

    def __init__(self, intra_op_threads: int = 0, paths: dict[str, Path] | None = None) -> None:
        """``intra_op_threads`` 0 lets onnxruntime choose (one per physical core)."""
        import onnxruntime as ort

        paths = paths or ocr_model_paths()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = intra_op_threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # no warnings about unused initialisers on stderr

        def session(kind: str) -> Any:
            return ort.InferenceSession(str(paths[kind]), opts, providers=["CPUExecutionProvider"])

        self._sessions = {kind: session(kind) for kind in ("det", "rec", "cls")}
        self._inputs = {k: s.get_inputs()[0].name for k, s in self._sessions.items()}

    def _run(self, kind: str, batch: np.ndarray) -> np.ndarray:
        if batch.ndim != 4 or batch.shape[1] != 3:
            raise ValueError(f"{kind} expects N x 3 x H x W float32, got shape {batch.shape}")
        x = np.ascontiguousarray(batch, dtype=np.float32)
        out: np.ndarray = self._sessions[kind].run(None, {self._inputs[kind]: x})[0]
        return out

    def det(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x H x W`` float32 normalised -> ``N x H x W`` float32 probability map."""
        if batch.ndim == 4 and (batch.shape[2] % 32 or batch.shape[3] % 32):
            raise ValueError(f"det expects height and width multiples of 32, got {batch.shape}")
        return self._run("det", batch)[:, 0]

    def rec(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x 48 x W`` float32 normalised -> ``N x W/8 x C`` softmax probabilities."""
        return self._run("rec", batch)

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``N x T`` int64 best class and ``N x T`` float32 its probability (see rec)."""
        probs = self.rec(batch)
        best = probs.argmax(axis=2)
        return best, np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0]

    def cls(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x 48 x 192`` float32 normalised -> ``N x 2`` (upright, rotated 180)."""
        return self._run("cls", batch)


class OnnxRec:
    """One extra recognition model (see ocr_registry.py) on onnxruntime's CPU provider."""

    def __init__(self, path: Path, intra_op_threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = intra_op_threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``N x 3 x 48 x W`` float32 normalised -> ``N x T`` best class, its probability."""
        if batch.ndim != 4 or batch.shape[1:3] != (3, 48):
            raise ValueError(f"rec expects N x 3 x 48 x W float32, got shape {batch.shape}")
        x = np.ascontiguousarray(batch, dtype=np.float32)
        probs: np.ndarray = self._session.run(None, {self._input: x})[0]
        best = probs.argmax(axis=2)
        return best, np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0]
