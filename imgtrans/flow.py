"""Batches of pages through the steps of the model stages, device and workers overlapped.

The model stages (ocr, mask, inpaint) split into steps (:class:`imgtrans.stages.Step`):
device steps (model calls, batched across the pages of a batch) run here, in the process
that holds the models; worker steps (pre- and post-processing, crops, masks, pastes) run in
the worker pool, one task per page (consecutive worker steps in one task). Several batches
are in flight at once: while this process runs a device step of batch k, the workers
prepare batch k+1 and finish batch k-1, so the device waits on the host as little as the
cores allow and this process does little more than assemble batches and call models.

Batches leave in the order they came in. A page that fails (a worker that dies on it, out
of memory) is passed over by the later steps; what a page reads depends on that page only:
device steps batch pages as the stage always did, worker steps see one page.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from imgtrans.errors import PageError
from imgtrans.page import Page
from imgtrans.pool import Task, WorkerPool
from imgtrans.stages import Chain, Stage, Step, apply_model_stage

DEPTH = 3  # batches in flight: k-1 finishing in workers, k on the device, k+1 being prepared


def span(steps: Sequence[Step], translate_at: int | None) -> tuple[int, int]:
    """The steps a :class:`Flow` runs, (from, to): the worker steps before the first device
    step run with the load, those after the last one with the write, in the same tasks (a
    page crosses processes fewer times), as long as the translation, which starts after
    ``translate_at`` steps, does not have to wait for them."""
    device = [i for i, step in enumerate(steps) if step.device]
    if not device:
        return 0, len(steps)
    start = device[0] if translate_at is None else min(device[0], translate_at)
    end = device[-1] + 1
    if translate_at is not None and end <= translate_at:
        end = len(steps)
    return start, end


@dataclass(frozen=True)
class Then:
    """A worker task: ``first``, then ``then`` on the pages that did not fail."""

    first: Callable[[list[Any]], list[Page]]
    then: Stage

    def __call__(self, items: list[Any]) -> list[Page]:
        return [p if p.error is not None else self.then([p])[0] for p in self.first(items)]


@dataclass
class Flight:
    """One batch in flight: its pages, the next step, the worker tasks it waits for."""

    pages: list[Page]
    at: int = 0
    tasks: dict[int, Task] = field(default_factory=dict)  # page index -> task
    live: list[int] = field(default_factory=list)  # pages handed to translation
    translation: Future[Any] | None = None
    finished: bool = False


class Flow:
    """``steps`` over batches: :meth:`admit` a batch, :meth:`pump` to get finished ones.

    ``translate``: called with the batch's live pages once they are past ``translate_at``
    steps (the text read), returning the translation's future (kept on the flight)."""

    def __init__(
        self,
        steps: Sequence[Step],
        pool: WorkerPool,
        batch_size: int,
        translate_at: int | None = None,
        translate: Callable[[list[Page]], Future[Any]] | None = None,
        depth: int = DEPTH,
        span: tuple[int, int] | None = None,
    ) -> None:
        """``span``: the steps this flow runs (from, to); the caller runs the others (the
        leading worker steps with the load, the trailing ones with the write)."""
        self.steps = tuple(steps)
        self.start, self.end = span if span is not None else (0, len(self.steps))
        self.pool = pool
        self.batch_size = batch_size
        self.translate_at = translate_at if translate is not None else None
        self.translate = translate
        self.depth = depth
        self.flights: deque[Flight] = deque()

    def __len__(self) -> int:
        return len(self.flights)

    def admit(self, pages: list[Page]) -> None:
        self.flights.append(Flight(list(pages), at=self.start))

    def pump(self, limit: int | None = None) -> list[Flight]:
        """Move every batch on as far as it goes without waiting; wait (for worker tasks)
        while ``limit`` or more batches are in flight (None: never wait). Returns the
        finished batches, oldest first."""
        done: list[Flight] = []
        while True:
            moved = [self._advance(f) for f in self.flights]
            while self.flights and self.flights[0].finished:
                done.append(self.flights.popleft())
            if limit is None or len(self.flights) < limit:
                return done
            if not any(moved):
                self._wait()

    def drain(self) -> list[Flight]:
        """Every batch in flight, finished, oldest first."""
        return self.pump(limit=1)

    def _wait(self) -> None:
        """Until one more worker task or translation is done (a batch moves once all of its
        tasks are; it is finished once its translation is too)."""
        futures = [t.future for f in self.flights for t in f.tasks.values()]
        futures += [f.translation for f in self.flights if f.translation is not None]
        pending = [fut for fut in futures if not fut.done()]
        if pending:
            wait_futures(pending, return_when=FIRST_COMPLETED)

    def _advance(self, f: Flight) -> bool:
        moved = False
        while not f.finished:
            if f.tasks:
                if not all(t.future.done() for t in f.tasks.values()):
                    return moved
                self._collect(f)
                moved = True
            self._maybe_translate(f)
            if f.at >= self.end:
                f.finished = f.translation is None or f.translation.done()
                return moved or f.finished
            if self.steps[f.at].device:
                f.pages = apply_model_stage(self.steps[f.at].fn, f.pages, self.batch_size)
                f.at += 1
            else:
                self._submit(f)
            moved = True
        return moved

    def _maybe_translate(self, f: Flight) -> None:
        if self.translate is None or self.translate_at is None or f.translation is not None:
            return
        if f.at >= self.translate_at:
            f.live = [i for i, page in enumerate(f.pages) if page.error is None]
            f.translation = self.translate([f.pages[i] for i in f.live])

    def _submit(self, f: Flight) -> None:
        end = f.at
        while end < self.end and not self.steps[end].device:
            end += 1
        fns = tuple(step.fn for step in self.steps[f.at : end])
        fn = fns[0] if len(fns) == 1 else Chain(fns)  # one task
        f.tasks = {
            i: self.pool.submit(fn, [page], label=str(page.source))
            for i, page in enumerate(f.pages)
            if page.error is None
        }
        f.at = end

    def _collect(self, f: Flight) -> None:
        tasks, f.tasks = f.tasks, {}
        for i, task in tasks.items():
            page = f.pages[i]
            try:
                [f.pages[i]] = self.pool.result(task)
            except PageError as exc:  # WorkerCrashed: the page killed its worker
                f.pages[i] = page.fail(exc.kind, str(exc))
            except MemoryError as exc:
                f.pages[i] = page.fail("out_of_memory", f"{page.source}: out of memory ({exc})")
