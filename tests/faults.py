"""Fault injection and instrumentation by wrapping stages from the outside
(``imgtrans.api`` ``wrap=``): nothing in imgtrans knows about them.

Wrappers of stages that run in worker processes (load, render, write) are module-level
dataclasses, so they pickle by reference into spawned workers and Ray tasks.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _in_worker() -> bool:
    """True in a worker process (a pool worker or a Ray worker), never in the main one."""
    return multiprocessing.parent_process() is not None or "RAY_RAYLET_PID" in os.environ


@dataclass(frozen=True)
class CrashOn:
    """Kills the worker process (as a segfault or the OOM killer would) when ``stage``
    gets an item whose ``rel_path`` is in ``paths``. With ``once``, a marker file in that
    folder lets only the first attempt die (a retried page then succeeds)."""

    stage: Any
    paths: frozenset[str]
    once: Path | None = None

    def __call__(self, items: list[Any]) -> Any:
        for item in items:
            if item.rel_path in self.paths and _in_worker():
                if self.once is None:
                    os._exit(70)
                marker = self.once / item.rel_path.replace("/", "_")
                try:
                    marker.touch(exist_ok=False)
                except FileExistsError:
                    continue
                os._exit(70)
        return self.stage(items)


def crash(where: dict[str, set[str]], once: Path | None = None) -> Callable[[str, Any], Any]:
    """A ``wrap`` that kills the worker running stage ``name`` on the pages named."""

    def wrap(name: str, stage: Any) -> Any:
        return CrashOn(stage, frozenset(where[name]), once) if name in where else stage

    return wrap


@dataclass(frozen=True)
class Count:
    """Appends a line per item to ``log`` (a file: workers and the main process share it)."""

    stage: Any
    log: Path
    tag: str

    def __call__(self, items: list[Any]) -> Any:
        with self.log.open("a", encoding="utf-8") as fh:
            for item in items:
                fh.write(f"{self.tag}\t{item.rel_path}\n")
        return self.stage(items)
