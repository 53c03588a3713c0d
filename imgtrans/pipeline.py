"""The local executor: streams batches of pages through the stages of a run.

    load (pool) -> ocr+mask -> inpaint ---------> join -> render + write (pool)
                           `-> translate (thread) -'

Load and render/encode/write run in a process pool (spawn context: CUDA cannot be
re-initialised in a forked child). The model stages run as their steps
(:mod:`imgtrans.flow`): model calls in the main process on the device, the host work
around them (detection post-processing, crops, decoding, grouping, masks, flat fills, LaMa
crops and pastes) in the pool, several batches in flight so that the two overlap.
Translation runs in a thread once a batch's text is read and is joined to the inpainted
pages by position in the batch. Every queue is bounded, so memory stays flat however many images
the input holds. Only the main process touches progress and the summary. The same
executor runs every mode: translate, OCR only (no translate/inpaint/render) and render
(sidecars in, no OCR).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imgtrans import sidecar
from imgtrans.errors import ExitCode, ImgtransError, PageError, TranslatorError
from imgtrans.flow import Flight, Flow, Then, span
from imgtrans.oom import OomFailure, is_out_of_memory, run_with_oom_backoff
from imgtrans.options import RunOptions
from imgtrans.page import Failure, Job, Page
from imgtrans.pool import Task, WorkerPool, worker_count
from imgtrans.progress import NullProgress, Progress
from imgtrans.stages import Chain, Stages, Translations, apply_translations, steps_of
from imgtrans.stages.write import Finish, PageResult

__all__ = [
    "FailFast",
    "OomFailure",
    "Pipeline",
    "Plan",
    "Summary",
    "is_out_of_memory",
    "run_with_oom_backoff",
]

log = logging.getLogger(__name__)


@dataclass
class Summary:
    """What happened to every input; ``--json`` prints it."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    blocks: int = 0
    overflow: int = 0
    kept: int = 0  # blocks left as they were (no legible size fits even past their area)
    untranslated: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    inpaint_paths: dict[str, int] = field(default_factory=dict)
    worker_restarts: int = 0
    pruned: int = 0  # files removed by --prune

    def add_failure(self, path: str, kind: str, message: str) -> None:
        self.failed += 1
        self.failures.append({"path": path, "kind": kind, "message": message})

    def add_result(self, result: PageResult) -> None:
        """Count one written page (ok or failed)."""
        if result.status != "ok":
            kind, message = result.error or ("unknown", "")
            self.add_failure(result.rel_path, kind, message)
            return
        self.done += 1
        self.pruned += result.pruned
        for status, path in result.blocks:
            self.blocks += 1
            self.overflow += status == "overflow"
            self.kept += status == "kept"
            self.untranslated += status == "untranslated"
            if path:
                self.inpaint_paths[path] = self.inpaint_paths.get(path, 0) + 1


@dataclass(frozen=True)
class Plan:
    """What a run does, decided before any page is scheduled (discovery + resume)."""

    jobs: list[Job]  # to run, in order
    skipped: list[Job] = field(default_factory=list)  # finished before
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, kind, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    notes: dict[Job, str] = field(default_factory=dict)  # warnings noted on a page too
    folders: frozenset[Path] = frozenset()  # output folders (temp files of dead runs swept)
    archives: list[Any] = field(default_factory=list)  # comic archives: built after the run
    out_roots: list[Path] = field(default_factory=list)  # locked for the run; --prune cleans

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.skipped) + len(self.problems)


class FailFast(ImgtransError):
    """``--fail-fast``: the first failed image stops the run."""

    code = ExitCode.SOME_FAILED
    kind = "fail_fast"


def default_jobs() -> int:
    """Workers when ``--jobs 0``: one per usable core, as many as the memory holds."""
    return worker_count(0)


class Tracker:
    """The summary and progress of a run, fed by any executor (main process only)."""

    def __init__(
        self,
        options: RunOptions,
        run: sidecar.RunInfo,
        progress: Progress,
        summary: Summary | None = None,
    ) -> None:
        self.options = options
        self.run_info = run
        self.progress = progress
        self.summary = summary if summary is not None else Summary()
        self.stopping = False  # draining in-flight writes after a clean stop
        self.failed_sidecars = True  # render mode: a failed page keeps its (input) sidecar

    def start(self, plan: Plan) -> None:
        if removed := sidecar.sweep_temp_files(plan.folders):
            log.info("removed %d temp file(s) left by an interrupted run", removed)
        self.summary.total = plan.total
        self.progress.start(plan.total)
        for path, message in plan.warnings:
            self.summary.warnings.append({"path": path, "message": message})
            log.warning("%s", message)
        for path, kind, message in plan.problems:
            self.summary.add_failure(path, kind, message)
            log.error("%s", message)
            self.progress.advance(path, "failed")
        for job in plan.skipped:
            self.summary.skipped += 1
            self.progress.advance(job.rel_path, "skipped")
        self.check_fail_fast()

    def result(self, job: Job, result: PageResult) -> None:
        if result.status != "ok":
            kind, message = result.error or ("unknown", "")
            if kind == "worker_crashed" and self.failed_sidecars:
                # the worker could not write the failed sidecar
                self.write_failed_sidecar(job, kind, message)
            log.error("%s", message)
        self.summary.add_result(result)
        self.progress.advance(job.rel_path, result.status)
        self.check_fail_fast()

    def check_fail_fast(self) -> None:
        if self.options.fail_fast and self.summary.failed and not self.stopping:
            first = self.summary.failures[0]
            raise FailFast(f"stopped at the first failure (--fail-fast): {first['message']}")

    def write_failed_sidecar(self, job: Job, kind: str, message: str) -> None:
        """Best effort: when even this fails (disk full), the run summary still has it."""
        try:
            job.output.unlink(missing_ok=True)
            doc = sidecar.failed_json(job.rel_path, None, self.run_info, kind, message)
            sidecar.write(job.sidecar, doc)
        except OSError as exc:
            log.error("cannot write the sidecar of %s: %s", job.rel_path, exc.strerror or exc)


def noted(page: Page, plan: Plan) -> Page:
    """The page with its discovery warning (if any) in its notes."""
    warning = plan.notes.get(page.job) if page.job is not None else None
    return replace(page, notes=(*page.notes, warning)) if warning else page


class Pipeline:
    """The local executor: ``Pipeline(stages, options, run_info).run(plan) -> Summary``."""

    def __init__(
        self,
        stages: Stages,
        options: RunOptions,
        run_info: sidecar.RunInfo,
        progress: Progress | None = None,
        summary: Summary | None = None,
    ) -> None:
        """``summary``: filled as the run goes, so it is there even when the run stops."""
        self.stages = stages
        self.options = options
        self.tracker = Tracker(options, run_info, progress or NullProgress(), summary)
        self.tracker.failed_sidecars = stages.failed_sidecars
        self.summary = self.tracker.summary
        read = (*steps_of(stages.ocr), *steps_of(stages.mask)) if stages.ocr is not None else ()
        self.translate_at = len(read) if stages.translates else None
        self.steps = (*read, *steps_of(stages.inpaint)) if stages.translates else read
        # The model stages' first worker steps run in the load task, their last ones in the
        # write task: a page crosses processes twice less.
        self.span = span(self.steps, self.translate_at)
        start, end = self.span
        head, tail = self.steps[:start], self.steps[end:]
        self.load = Then(stages.load, Chain(tuple(s.fn for s in head))) if head else stages.load
        prepare = Chain(tuple(s.fn for s in tail)) if tail else None
        self.finish = Finish(stages.write, stages.render, prepare)

    def run(self, plan: Plan) -> Summary:
        self.tracker.start(plan)
        jobs = worker_count(self.options.jobs)
        pool = WorkerPool(jobs)
        threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate")
        window = max(2 * self.options.batch_size, 2 * jobs)
        try:
            self._stream(plan, pool, threads, window)
        except BaseException:
            # Stopped (signal, fatal error): queued translations are cancelled and the HTTP
            # calls in flight abandoned, so the interpreter's exit does not wait for them.
            threads.shutdown(wait=False, cancel_futures=True)
            abort = getattr(self.stages.translate, "abort", None)
            if abort is not None:
                abort()
            pool.abort()
            raise
        finally:
            self.summary.worker_restarts = pool.restarts
            sidecar.sweep_temp_files(plan.folders)
        threads.shutdown()
        pool.shutdown()
        return self.summary

    def _stream(
        self, plan: Plan, pool: WorkerPool, threads: ThreadPoolExecutor, window: int
    ) -> None:
        writes: deque[tuple[Job, Task]] = deque()
        batch: list[Page] = []
        translate = self.stages.translate

        def start(pages: list[Page]) -> Future[list[Translations | Failure]]:
            assert translate is not None
            return threads.submit(translate, pages)

        size = self.options.batch_size
        flow = Flow(self.steps, pool, size, self.translate_at, start, span=self.span)
        try:
            for page in self._loaded(plan.jobs, pool, window):
                if page.error is not None:  # recorded at once (--fail-fast stops here)
                    self._failed(noted(page, plan))
                    continue
                batch.append(noted(page, plan))
                if len(batch) >= self.options.batch_size:
                    flow.admit(batch)
                    batch = []
                self._finish(flow.pump(flow.depth), pool, writes)
                while len(writes) > window:
                    self._collect(pool, *writes.popleft())
            if batch:
                flow.admit(batch)
            self._finish(flow.drain(), pool, writes)
        except (TranslatorError, FailFast):
            # A clean stop: pages already being written are finished, so they stay done.
            self.tracker.stopping = True
            while writes:
                self._collect(pool, *writes.popleft())
            raise
        while writes:
            self._collect(pool, *writes.popleft())

    def _loaded(self, jobs: list[Job], pool: WorkerPool, window: int) -> Iterator[Page]:
        """Loaded pages in input order with at most ``window`` loads in flight."""
        pending: deque[Task] = deque()
        for job in jobs:
            pending.append(pool.submit(self.load, [job], label=str(job.source)))
            if len(pending) >= window:
                yield self._page(pool, pending.popleft())
        while pending:
            yield self._page(pool, pending.popleft())

    @staticmethod
    def _page(pool: WorkerPool, task: Task) -> Page:
        [job] = task.args[0]
        try:
            pages: list[Page] = pool.result(task)
        except PageError as exc:  # WorkerCrashed: the decoder killed its worker process
            return Page.failed(job, exc.kind, str(exc))
        return pages[0]

    def _finish(
        self, flights: list[Flight], pool: WorkerPool, writes: deque[tuple[Job, Task]]
    ) -> None:
        """Finished batches: translations joined, pages handed to render + write."""
        for flight in flights:
            batch = flight.pages
            if flight.translation is not None:
                batch = self._joined(batch, flight.live, flight.translation)
            for page in batch:
                assert page.job is not None
                if page.error is not None:
                    self._failed(page)
                else:
                    task = pool.submit(self.finish, [page], label=str(page.source))
                    writes.append((page.job, task))

    def _failed(self, page: Page) -> None:
        """A page failed in the main process: its failed sidecar written here, recorded."""
        assert page.job is not None
        [result] = self.finish([page])
        self.tracker.result(page.job, result)

    @staticmethod
    def _joined(
        batch: list[Page], live: list[int], future: Future[list[Translations | Failure]]
    ) -> list[Page]:
        """Translations applied to the inpainted pages, by position in the batch. A
        :class:`TranslatorError` (auth, quota) stops the run."""
        results = future.result()
        out = list(batch)
        for i, result in zip(live, results, strict=True):
            if out[i].error is None:
                out[i] = apply_translations(out[i], result)
        return out

    def _collect(self, pool: WorkerPool, job: Job, task: Task) -> None:
        try:
            [result] = pool.result(task)
        except PageError as exc:  # WorkerCrashed
            result = PageResult(job.rel_path, "failed", (exc.kind, str(exc)))
        self.tracker.result(job, result)
