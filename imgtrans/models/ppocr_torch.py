"""PP-OCR detection, recognition and orientation as torch modules (CPU or CUDA).

The networks are the ONNX files shipped in the rapidocr wheel, run by :class:`OnnxGraph`:
same weights, same graph, outputs within ~1e-5 of onnxruntime. Not onnx2torch: it imports
torchvision at import time (whose PyPI wheel does not load beside the CPU torch wheel), its
Reshape breaks torch.compile and its Identity clones cost ~30% of CPU time; a port of the
Paddle network classes would have to rebuild deploy-mode blocks (BatchNorm folded,
re-parameterised branches merged) to match the exported weights. Interpreting the ~30 ONNX
operators these graphs use keeps one source of truth, the shipped file. On CPU onnxruntime is 1.5-3x faster
(ppocr_onnx.py); this backend exists for batched GPU inference.

All numpy boundaries are float32 NCHW, already normalised by the caller:
det ``N x 3 x H x W`` (H, W multiples of 32) -> ``N x H x W`` text probability in [0, 1];
rec ``N x 3 x 48 x W`` BGR ``(x / 255 - 0.5) / 0.5`` -> ``N x W/8 x C`` softmax probabilities;
cls ``N x 3 x 48 x 192`` same normalisation -> ``N x 2`` probabilities (upright, 180 deg).

On CUDA, torch's default TF32 convolutions round to ~1e-3; the pipeline decides that flag.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from imgtrans.errors import UsageError
from imgtrans.models.onnx_graph import OnnxGraph
from imgtrans.models.ppocr import ocr_model_paths


def _check(batch: torch.Tensor | np.ndarray, what: str, height: int | None, mult: int) -> None:
    shape = tuple(batch.shape)
    if len(shape) != 4 or shape[1] != 3:
        raise ValueError(f"{what} expects N x 3 x H x W float32, got shape {shape}")
    if height is not None and shape[2] != height:
        raise ValueError(f"{what} expects height {height}, got shape {shape}")
    if shape[2] % mult or shape[3] % mult:
        raise ValueError(f"{what} expects height and width multiples of {mult}, got {shape}")


class TorchOcrBackend:
    """The three PP-OCR models on one torch device. Thread-compatible, not thread-safe."""

    def __init__(self, device: torch.device, paths: dict[str, Path] | None = None) -> None:
        if device.type == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for, but torch sees no CUDA GPU")
        paths = paths or ocr_model_paths()
        self.device = device
        self.det_model = OnnxGraph(paths["det"]).eval().to(device)
        self.rec_model = OnnxGraph(paths["rec"]).eval().to(device)
        self.cls_model = OnnxGraph(paths["cls"]).eval().to(device)

    def _run(self, model: OnnxGraph, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
            out: np.ndarray = model(x.to(self.device, non_blocking=True)).float().cpu().numpy()
            return out

    def det_torch(self, batch: torch.Tensor) -> torch.Tensor:
        """``N x 3 x H x W`` float32 on ``self.device`` -> ``N x H x W`` probabilities, same
        device, so the caller can threshold before copying anything back."""
        _check(batch, "det", None, 32)
        with torch.inference_mode():
            out: torch.Tensor = self.det_model(batch)[:, 0]
            return out

    def rec_torch(self, batch: torch.Tensor) -> torch.Tensor:
        """``N x 3 x 48 x W`` on ``self.device`` -> ``N x W/8 x C`` probabilities there."""
        _check(batch, "rec", 48, 1)
        with torch.inference_mode():
            out: torch.Tensor = self.rec_model(batch)
            return out

    def det(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x H x W`` float32 normalised -> ``N x H x W`` float32 probability map."""
        _check(batch, "det", None, 32)
        return self._run(self.det_model, batch)[:, 0]

    def rec(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x 48 x W`` float32 normalised -> ``N x W/8 x C`` softmax probabilities."""
        _check(batch, "rec", 48, 1)
        return self._run(self.rec_model, batch)

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`rec`, reduced on the device to the best class per time step:
        ``N x T`` int64 class and ``N x T`` float32 probability (for ctc_decode_best).
        Copies ~18,700x less than the full probabilities back from a GPU."""
        _check(batch, "rec", 48, 1)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
            best_p, best = self.rec_model(x.to(self.device, non_blocking=True)).max(dim=2)
            return best.cpu().numpy(), best_p.float().cpu().numpy()

    def cls(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x 48 x 192`` float32 normalised -> ``N x 2`` (upright, rotated 180)."""
        _check(batch, "cls", 48, 1)
        return self._run(self.cls_model, batch)


class TorchRec:
    """One extra recognition model (see ocr_registry.py) on a torch device."""

    def __init__(self, path: Path, device: torch.device) -> None:
        self.device = device
        self.model = OnnxGraph(path).eval().to(device)

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`TorchOcrBackend.rec_best`."""
        _check(batch, "rec", 48, 1)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
            best_p, best = self.model(x.to(self.device, non_blocking=True)).max(dim=2)
            return best.cpu().numpy(), best_p.float().cpu().numpy()
