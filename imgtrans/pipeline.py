"""Stream batches of pages through the stages; owns the worker pool, threads and models.

    load (pool) -> ocr -> mask -> inpaint ---------> join -> render + write (pool)
                                `-> translate (threads) -'

Load and render/encode/write run in a process pool (spawn context: CUDA cannot be
re-initialised in a forked child); OCR and inpainting run in the main process on the
device; translation runs in I/O threads and overlaps with inpainting. Every queue is
bounded, so memory stays flat however many images the input holds. Only the main process
touches progress and the summary.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from imgtrans import archive, sidecar
from imgtrans.discover import Job, check_writable, discover
from imgtrans.errors import ExitCode, ImgtransError, PageError, TranslatorError
from imgtrans.options import RunOptions
from imgtrans.page import Page
from imgtrans.pool import Task, WorkerPool, worker_count
from imgtrans.progress import NullProgress, Progress
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import mask as mask_stage
from imgtrans.stages.ocr import OcrEngine
from imgtrans.stages.preprocess import LoadResult, load_job
from imgtrans.stages.translate import translate_page
from imgtrans.stages.write import PageResult, finish_page, write_ocr_sidecar
from imgtrans.translators.base import ContextPair, Translator

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


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

    def add_failure(self, path: str, kind: str, message: str) -> None:
        self.failed += 1
        self.failures.append({"path": path, "kind": kind, "message": message})


class FailFast(ImgtransError):
    """``--fail-fast``: the first failed image stops the run."""

    code = ExitCode.SOME_FAILED
    kind = "fail_fast"


def default_jobs() -> int:
    """Workers when ``--jobs 0``: one per usable core, as many as the memory holds."""
    return worker_count(0)


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


class Pipeline:
    """One run: ``Pipeline(options, ...).run(inputs) -> Summary``."""

    def __init__(
        self,
        options: RunOptions,
        ocr: OcrEngine,
        translator: Translator | None,
        inpainter: Inpainter | None,
        run_info: sidecar.RunInfo,
        progress: Progress | None = None,
    ) -> None:
        """``translator`` and ``inpainter`` None: OCR only (``imgtrans ocr``), sidecars only."""
        self.ocr_only = translator is None or inpainter is None
        self.options = options
        self.ocr = ocr
        self.translator = translator
        self.inpainter = inpainter
        self.run_info = run_info
        self.progress = progress or NullProgress()
        self.summary = Summary()
        self._stopping = False  # draining in-flight writes after a clean stop
        # (source, translation) of earlier pages, for context-aware translators.
        self._context: deque[ContextPair] = deque(maxlen=64)

    def run(self, inputs: list[Path]) -> Summary:
        opts = self.options
        found = discover(inputs, opts.output, opts.target_lang, opts.format, opts.max_archive_bytes)
        for root in {job.output.parent for job in found.jobs} or {opts.output or Path.cwd()}:
            check_writable(root)
        folders = {job.output.parent for job in found.jobs}
        folders |= {plan.output.parent for plan in found.archives}
        if removed := sidecar.sweep_temp_files(folders):
            log.info("removed %d temp file(s) left by an interrupted run", removed)
        self.summary.total = len(found.jobs) + len(found.problems)
        self.progress.start(self.summary.total)
        for path, message in found.warnings:
            self.summary.warnings.append({"path": path, "message": message})
            log.warning("%s", message)
        for problem in found.problems:
            self.summary.add_failure(problem.path, problem.kind, problem.message)
            log.error("%s", problem.message)
            self.progress.advance(problem.path, "failed")
        self._check_fail_fast()
        jobs = worker_count(opts.jobs)
        pool = WorkerPool(jobs)
        threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="translate")
        try:
            self._stream(found.jobs, pool, threads, window=max(2 * opts.batch_size, 2 * jobs))
        except BaseException:
            # Stopped (signal, fatal error): queued translations are cancelled and the HTTP
            # calls in flight abandoned, so the interpreter's exit does not wait for them.
            threads.shutdown(wait=False, cancel_futures=True)
            if self.translator is not None:
                self.translator.abort()
            pool.abort()
            raise
        finally:
            self.summary.worker_restarts = pool.restarts
            sidecar.sweep_temp_files(folders)
        threads.shutdown()
        pool.shutdown()
        if not self.ocr_only:  # comic archives: a .cbz once all of its pages are done
            for path, message in archive.assemble_all(found.archives):
                self.summary.warnings.append({"path": path, "message": message})
        return self.summary

    def _stream(
        self, jobs: list[Job], pool: WorkerPool, threads: ThreadPoolExecutor, window: int
    ) -> None:
        opts = self.options
        writes: deque[tuple[Job, Task]] = deque()
        batch: list[tuple[Job, Page]] = []
        try:
            for loaded in self._loaded(jobs, pool, window):
                if loaded.warning:
                    self._warn(loaded.job, loaded.warning)
                if loaded.skipped:
                    self.summary.skipped += 1
                    self.progress.advance(loaded.job.rel_path, "skipped")
                elif loaded.page is None:
                    self._record_failure(
                        loaded.job, loaded.error or ("unknown", "load failed"), loaded.sha256
                    )
                else:
                    page = loaded.page
                    if loaded.warning:
                        page = replace(page, notes=(*page.notes, loaded.warning))
                    batch.append((loaded.job, page))
                if len(batch) >= opts.batch_size:
                    self._process(batch, pool, threads, writes)
                    batch = []
                while len(writes) > window:
                    self._collect(pool, *writes.popleft())
            if batch:
                self._process(batch, pool, threads, writes)
        except (TranslatorError, FailFast):
            # A clean stop: pages already being written are finished, so they stay done.
            self._stopping = True
            while writes:
                self._collect(pool, *writes.popleft())
            raise
        while writes:
            self._collect(pool, *writes.popleft())

    def _loaded(self, jobs: list[Job], pool: WorkerPool, window: int) -> Iterator[LoadResult]:
        """Load results in input order with at most ``window`` loads in flight."""
        opts = self.options
        fingerprint = self.run_info.options_sha256
        pending: deque[Task] = deque()
        for job in jobs:
            pending.append(
                pool.submit(
                    load_job,
                    job,
                    fingerprint,
                    opts.overwrite,
                    opts.max_pixels,
                    not self.ocr_only,
                    label=str(job.source),
                )
            )
            if len(pending) >= window:
                yield self._result(pool, pending.popleft())
        while pending:
            yield self._result(pool, pending.popleft())

    @staticmethod
    def _result(pool: WorkerPool, task: Task) -> LoadResult:
        job: Job = task.args[0]
        try:
            result: LoadResult = pool.result(task)
        except PageError as exc:  # WorkerCrashed: the decoder killed its worker process
            return LoadResult(job, error=(exc.kind, str(exc)))
        return result

    def _process(
        self,
        batch: list[tuple[Job, Page]],
        pool: WorkerPool,
        threads: ThreadPoolExecutor,
        writes: deque[tuple[Job, Task]],
    ) -> None:
        batch = self._model_stage(batch, self._read_text)
        if not batch:
            return
        if self.translator is None or self.inpainter is None:
            for job, page in batch:
                task = pool.submit(
                    write_ocr_sidecar, page, job, self.run_info, label=str(job.source)
                )
                writes.append((job, task))
            return
        target = self.options.target_lang
        context = self._context_window()
        # Joined by the job itself, never by a path: two input roots may both hold p.png.
        translated = {
            id(job): threads.submit(translate_page, page, self.translator, target, context)
            for job, page in batch
        }
        for job, clean_page in self._model_stage(batch, self.inpainter):
            done = self._translation(job, translated[id(job)], clean_page.sha256)
            if done is None:
                continue
            self._remember(done)
            merged = replace(
                done,
                clean=clean_page.clean,
                mask=clean_page.mask,
                blocks=_merge_inpaint(done, clean_page),
            )
            task = pool.submit(
                finish_page, merged, job, self.run_info, self.options, label=str(job.source)
            )
            writes.append((job, task))

    def _read_text(self, pages: list[Page]) -> list[Page]:
        return mask_stage(self.ocr(pages), self.options.mask)

    def _model_stage(
        self, batch: list[tuple[Job, Page]], stage: Callable[[list[Page]], list[Page]]
    ) -> list[tuple[Job, Page]]:
        """Run a main-process model stage with OOM back-off; failed pages are recorded and
        dropped from the batch."""
        try:
            results = run_with_oom_backoff(stage, [page for _, page in batch], len(batch))
        except PageError as exc:
            for job, page in batch:
                self._record_failure(job, (exc.kind, f"{job.source}: {exc}"), page.sha256)
            return []
        kept = []
        for (job, page), result in zip(batch, results, strict=True):
            if isinstance(result, OomFailure):
                self._record_failure(
                    job, ("out_of_memory", f"{job.source}: {result.message}"), page.sha256
                )
            else:
                kept.append((job, result))
        return kept

    def _translation(self, job: Job, fut: Future[Page], sha256: str) -> Page | None:
        """The translated page, or None when this page's translation failed (recorded).
        A :class:`TranslatorError` (auth, quota) stops the run."""
        try:
            return fut.result()
        except TranslatorError:
            raise
        except Exception as exc:  # noqa: BLE001 - one page's translation failing is that page's failure
            self._record_failure(
                job, ("translate", f"{job.source}: {type(exc).__name__}: {exc}"), sha256
            )
            return None

    def _context_window(self) -> tuple[ContextPair, ...]:
        """Blocks of the last ``--context-pages`` pages of earlier batches (pages of one batch
        are translated at the same time, so they cannot see each other)."""
        pages = self.options.translator.context_pages
        if not pages:
            return ()
        return tuple(self._context)[-8 * pages :]

    def _remember(self, page: Page) -> None:
        for block in page.blocks:
            if block.translation:
                self._context.append(ContextPair(block.text, block.translation))

    def _collect(self, pool: WorkerPool, job: Job, task: Task) -> None:
        try:
            result: PageResult = pool.result(task)
        except PageError as exc:  # WorkerCrashed
            result = PageResult(job.rel_path, "failed", (exc.kind, str(exc)))
        if result.status == "ok":
            self.summary.done += 1
            for status, path in result.blocks:
                self.summary.blocks += 1
                self.summary.overflow += status == "overflow"
                self.summary.kept += status == "kept"
                self.summary.untranslated += status == "untranslated"
                if path:
                    self.summary.inpaint_paths[path] = self.summary.inpaint_paths.get(path, 0) + 1
        else:
            kind, message = result.error or ("unknown", "")
            if kind == "worker_crashed":  # the worker could not write the failed sidecar
                self._write_failed_sidecar(job, kind, message, None)
            self.summary.add_failure(job.rel_path, kind, message)
            log.error("%s", message)
        self.progress.advance(job.rel_path, result.status)
        self._check_fail_fast()

    def _check_fail_fast(self) -> None:
        if self.options.fail_fast and self.summary.failed and not self._stopping:
            first = self.summary.failures[0]
            raise FailFast(f"stopped at the first failure (--fail-fast): {first['message']}")

    def _warn(self, job: Job, message: str) -> None:
        self.summary.warnings.append({"path": job.rel_path, "message": message})
        log.warning("%s", message)

    def _record_failure(self, job: Job, error: tuple[str, str], sha256: str | None) -> None:
        kind, message = error
        self.summary.add_failure(job.rel_path, kind, message)
        log.error("%s", message)
        self._write_failed_sidecar(job, kind, message, sha256)
        self.progress.advance(job.rel_path, "failed")
        self._check_fail_fast()

    def _write_failed_sidecar(self, job: Job, kind: str, message: str, sha256: str | None) -> None:
        """Best effort: when even this fails (disk full), the run summary still has it."""
        try:
            job.output.unlink(missing_ok=True)
            doc = sidecar.failed_json(job.rel_path, sha256, self.run_info, kind, message)
            sidecar.write(job.sidecar, doc)
        except OSError as exc:
            log.error("cannot write the sidecar of %s: %s", job.rel_path, exc.strerror or exc)


def _merge_inpaint(translated: Page, cleaned: Page) -> tuple[Any, ...]:
    paths = {b.id: b.inpaint_path for b in cleaned.blocks}
    return tuple(replace(b, inpaint_path=paths.get(b.id)) for b in translated.blocks)
