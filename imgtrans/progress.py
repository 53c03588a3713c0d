"""Progress reporting: a null reporter for the library, a rich bar for the CLI.

The library never draws; ``cli.py`` passes a :class:`RichProgress` when stderr is a
terminal and ``--quiet`` is off.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, path: str, status: str) -> None: ...
    def close(self) -> None: ...


class NullProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, path: str, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """Pages, pages/s and ETA on stderr."""

    def __init__(self, console: Console) -> None:
        self._bar = RichBar(
            TextColumn("[bold]pages"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("pages", total=total, rate="")

    def advance(self, path: str, status: str) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task)
        task = self._bar.tasks[0]
        speed = task.speed
        self._bar.update(self._task, rate=f"{speed:.2f} pages/s" if speed else "")

    def close(self) -> None:
        self._bar.stop()
