"""Out-of-memory back-off for model stages: halve the batch and retry, down to one page."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class OomFailure:
    """An item that ran out of memory even alone (returned by :func:`run_with_oom_backoff`)."""

    message: str


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM (``torch.cuda.OutOfMemoryError`` or a RuntimeError saying so) or MemoryError."""
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_device_memory() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_with_oom_backoff(
    fn: Callable[[list[T]], list[R]], items: Sequence[T], batch: int
) -> list[R | OomFailure]:
    """``fn`` over ``items`` in batches of ``batch``; on out-of-memory, halve the batch and
    retry, down to one item. An item that runs out of memory alone comes back as an
    :class:`OomFailure` in its place; every other result is ``fn``'s, in input order.
    ``fn`` maps a list to a same-length list. The smaller batch is kept for the rest."""
    out: list[R | OomFailure] = []
    size = max(1, batch)
    start = 0
    while start < len(items):
        chunk = list(items[start : start + size])
        try:
            results = fn(chunk)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            _free_device_memory()
            if len(chunk) > 1:
                size = max(1, len(chunk) // 2)
                log.warning("out of memory on %d pages: retrying %d at a time", len(chunk), size)
                continue
            out.append(
                OomFailure(
                    f"out of memory even alone ({type(exc).__name__}): try --batch-size 1, "
                    "--device cpu or a smaller --max-pixels"
                )
            )
            start += 1
            continue
        out.extend(results)
        start += len(chunk)
    return out
