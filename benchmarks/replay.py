"""Record-and-replay stand-ins for imgtrans's models, for measuring the host CPU path.

A :class:`Store` maps a digest of one model input sample (one page tile for detection, one
line crop for orientation and recognition, one crop and its mask for LaMa) to the model's
output for that sample. Every model here treats the samples of a batch independently, so a
sample's output does not depend on its batch: a rerun that batches pages differently still
finds every sample it has seen. A sample the store has not seen (a *miss*) is computed by
the real model and added.

The stand-ins wrap the engine objects handed to ``imgtrans.pipeline.Pipeline`` from the
outside: :class:`ReplayOcrBackend` is an ``OcrBackend`` (``det``, ``cls``, ``rec_best``),
:func:`replay_lama` replaces the batch call of one ``LamaInpainter`` instance. Time spent in
them (hashing, loading recorded arrays, misses) is summed in :attr:`Store.overhead_s`
(thread CPU time of the calling thread): a benchmark subtracts it, since on a GPU machine
that work is the device's.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imgtrans.translators.base import ContextPair, Translation, Translator, normalize_text

Arrays = tuple[np.ndarray, ...]


def digest(kind: str, *arrays: np.ndarray) -> str:
    """Content key of one model input sample: kind, shapes, dtypes and bytes."""
    h = hashlib.blake2b(kind.encode(), digest_size=20)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


class Store:
    """Recorded model outputs in a folder (one ``.npz`` per sample), cached in memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._mem: dict[str, Arrays] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.overhead_s = 0.0

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.npz"))

    def _get(self, key: str) -> Arrays | None:
        if key in self._mem:
            return self._mem[key]
        path = self.folder / f"{key}.npz"
        if not path.is_file():
            return None
        with np.load(path) as data:
            value = tuple(data[f"a{i}"] for i in range(len(data.files)))
        self._mem[key] = value
        return value

    def _put(self, key: str, value: Arrays) -> None:
        self._mem[key] = value
        tmp = self.folder / f".{key}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **{f"a{i}": a for i, a in enumerate(value)})
        tmp.replace(self.folder / f"{key}.npz")

    def run(
        self,
        kind: str,
        samples: Sequence[Arrays],
        compute: Callable[[list[int]], list[Arrays]],
    ) -> list[Arrays]:
        """Outputs for ``samples`` (each a tuple of arrays): recorded ones, and for the rest
        ``compute(indices)`` (the real model on those samples), which are then recorded."""
        start = time.thread_time()
        with self._lock:
            try:
                keys = [digest(kind, *s) for s in samples]
                found = [self._get(k) for k in keys]
                todo = [i for i, v in enumerate(found) if v is None]
                self.hits += len(samples) - len(todo)
                self.misses += len(todo)
                if todo:
                    for i, value in zip(todo, compute(todo), strict=True):
                        self._put(keys[i], value)
                        found[i] = value
                return [v for v in found if v is not None]
            finally:
                self.overhead_s += time.thread_time() - start


class ReplayOcrBackend:
    """An ``OcrBackend`` answering from a :class:`Store`; misses go to ``real``.

    ``real`` should run its models in the calling thread (onnxruntime with one intra-op
    thread), so that the thread CPU time counted as overhead covers them.
    """

    def __init__(self, store: Store, real: Any) -> None:
        self.store = store
        self.real = real

    def _batch(self, kind: str, batch: np.ndarray, fn: Callable[[np.ndarray], Any]) -> list[Arrays]:
        def compute(idx: list[int]) -> list[Arrays]:
            out = fn(batch[idx])
            parts = out if isinstance(out, tuple) else (out,)
            return [tuple(np.asarray(p[k]) for p in parts) for k in range(len(idx))]

        return self.store.run(kind, [(s,) for s in batch], compute)

    def det(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([v[0] for v in self._batch("det", batch, self.real.det)])

    def cls(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([v[0] for v in self._batch("cls", batch, self.real.cls)])

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = self._batch("rec", batch, self.real.rec_best)
        return np.stack([v[0] for v in values]), np.stack([v[1] for v in values])


def replay_lama(runner: Any, store: Store, kind: str = "lama") -> Any:
    """Make one ``LamaInpainter`` answer its generator calls (``_run``: uint8 N x H x W x 3
    crops and N x H x W masks -> float32 N x H x W x 3) from ``store``. Crop planning,
    resizing, padding and pasting stay the runner's own code. Returns ``runner``."""
    real = runner._run

    def run(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        def compute(idx: list[int]) -> list[Arrays]:
            out = real(images[idx], masks[idx])
            return [(out[k],) for k in range(len(idx))]

        samples = [(images[k], masks[k]) for k in range(len(images))]
        return np.stack([v[0] for v in store.run(kind, samples, compute)])

    runner._run = run
    return runner


# A Korean text to cut translations from: the corpus's TM covers its own pages; real pages
# get a filler of about the source's length, so that every block is lettered.
FILLER = (
    "오늘은 날씨가 정말 좋네 우리 같이 바다에 가자 그런데 너 숙제는 다 했어 아직이야 "
    "내일까지 끝내면 돼 걱정하지 마 나만 믿어 정말이지 어쩔 수 없는 녀석이라니까 "
)


class FillTranslator(Translator):
    """A translation memory, then a deterministic Korean filler for everything else."""

    name = "bench-fill"

    def __init__(self, tm: dict[str, str] | None = None) -> None:
        self.memory = {normalize_text(k): v for k, v in (tm or {}).items()}

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        out = []
        for text in texts:
            hit = self.memory.get(normalize_text(text))
            if hit is None:
                n = max(2, len(text) if not text.isascii() else len(text) // 2)
                start = sum(map(ord, text)) % 40
                hit = (FILLER * 4)[start : start + n].strip() or "네"
            out.append(Translation(hit))
        return out


def read_tm(path: Path) -> dict[str, str]:
    pairs = [line.split("\t", 1) for line in path.read_text("utf-8").splitlines() if "\t" in line]
    return {src: dst for src, dst in pairs}
