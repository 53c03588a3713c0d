"""PP-OCR models on onnxruntime: the CPU backend (1.5-3.5x faster than torch on CPU).

Same three methods as :class:`imgtrans.models.ppocr_torch.TorchOcrBackend`; inputs are
already normalised float32 NCHW arrays (BGR order as PaddleOCR trains them).
"""

from __future__ import annotations

import numpy as np

from imgtrans.models.ppocr import ocr_model_paths


class OnnxOcrBackend:
    name = "onnxruntime"

    def __init__(self, threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        paths = ocr_model_paths()
        self.paths = paths
        self._sessions = {
            name: ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            for name, path in paths.items()
        }

    def _run(self, name: str, batch: np.ndarray) -> np.ndarray:
        sess = self._sessions[name]
        feed = {sess.get_inputs()[0].name: np.ascontiguousarray(batch, dtype=np.float32)}
        return np.asarray(sess.run(None, feed)[0])

    def det(self, batch: np.ndarray) -> np.ndarray:
        """N x 3 x H x W (H, W multiples of 32) -> N x H x W text probability in [0, 1]."""
        return self._run("det", batch)[:, 0]

    def rec(self, batch: np.ndarray) -> np.ndarray:
        """N x 3 x 48 x W -> N x W/8 x C softmax probabilities over the charset."""
        return self._run("rec", batch)

    def cls(self, batch: np.ndarray) -> np.ndarray:
        """N x 3 x 48 x 192 -> N x 2 probabilities (upright, rotated 180 degrees)."""
        return self._run("cls", batch)
