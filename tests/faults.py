"""Fault injection and instrumentation by wrapping stages from the outside
(``imgtrans.api`` ``wrap=``): nothing in imgtrans knows about them.

Wrappers of stages that run in worker processes (load, render, write) are module-level
dataclasses, so they pickle by reference into spawned workers and Ray tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CrashOn:
    """Kills the worker process (as a segfault or the OOM killer would) when ``stage``
    gets an item whose ``rel_path`` is in ``paths``. With ``once``, a marker file in that
    folder lets only the first attempt die (a retried page then succeeds)."""

    stage: Any
    paths: frozenset[str]
    once: Path | None = None
    main_pid: int = field(default_factory=os.getpid)  # never kill the main process

    def __call__(self, items: list[Any]) -> Any:
        for item in items:
            if item.rel_path in self.paths and os.getpid() != self.main_pid:
                if self.once is None:
                    os._exit(70)
                marker = self.once / item.rel_path.replace("/", "_")
                try:
                    marker.touch(exist_ok=False)
                except FileExistsError:
                    continue
                os._exit(70)
        return self.stage(items)


@dataclass(frozen=True)
class Crash:
    """A ``wrap`` (picklable) that kills the worker running stage ``name`` on the pages
    ``where[name]`` names; ``count``: every wrapped call is also logged there (:class:`Count`)."""

    where: dict[str, frozenset[str]]
    once: Path | None = None
    count: Path | None = None
    main_pid: int = field(default_factory=os.getpid)  # made in the main process

    def __call__(self, name: str, stage: Any) -> Any:
        if self.count is not None and name in self.where:
            stage = Count(stage, self.count, name)
        if name in self.where:
            stage = CrashOn(stage, self.where[name], self.once, self.main_pid)
        return stage


def crash(
    where: dict[str, set[str]], once: Path | None = None, count: Path | None = None
) -> Callable[[str, Any], Any]:
    """A ``wrap`` that kills the worker running stage ``name`` on the pages named."""
    return Crash({k: frozenset(v) for k, v in where.items()}, once, count)


@dataclass(frozen=True)
class Count:
    """Appends a line per item to ``log`` after the stage ran (a file: workers and the main
    process share it)."""

    stage: Any
    log: Path
    tag: str

    def __call__(self, items: list[Any]) -> Any:
        out = self.stage(items)
        with self.log.open("a", encoding="utf-8") as fh:
            for item in items:
                fh.write(f"{self.tag}\t{item.rel_path}\n")
        return out
