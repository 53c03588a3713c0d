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

import contextlib
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imgtrans import sidecar
from imgtrans.discover import Job, check_writable, discover
from imgtrans.errors import ExitCode, ImgtransError, PageError, TranslatorError
from imgtrans.options import RunOptions
from imgtrans.output import clean_path, write_image
from imgtrans.page import Page
from imgtrans.progress import NullProgress, Progress
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import mask as mask_stage
from imgtrans.stages.ocr import OcrEngine
from imgtrans.stages.preprocess import file_sha256, load_page
from imgtrans.stages.translate import translate_page
from imgtrans.translators.base import ContextPair, Translator

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
    untranslated: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    inpaint_paths: dict[str, int] = field(default_factory=dict)

    def add_failure(self, path: str, kind: str, message: str) -> None:
        self.failed += 1
        self.failures.append({"path": path, "kind": kind, "message": message})


class FailFast(ImgtransError):
    """``--fail-fast``: the first failed image stops the run."""

    code = ExitCode.SOME_FAILED
    kind = "fail_fast"


@dataclass(frozen=True)
class LoadResult:
    job: Job
    page: Page | None = None
    skipped: bool = False
    sha256: str | None = None
    error: tuple[str, str] | None = None


def load_job(
    job: Job, fingerprint: str, overwrite: bool, max_pixels: int, needs_image: bool = True
) -> LoadResult:
    """Worker: decide skip (finished before with the same bytes and options) or decode."""
    try:
        if not overwrite and job.sidecar.is_file() and (job.output.is_file() or not needs_image):
            sha = file_sha256(job.source)
            if sidecar.is_done(sidecar.read(job.sidecar), sha, fingerprint):
                return LoadResult(job, skipped=True, sha256=sha)
        return LoadResult(job, page=load_page(job.source, job.rel_path, max_pixels))
    except PageError as exc:
        return LoadResult(job, error=(exc.kind, str(exc)))
    except OSError as exc:
        return LoadResult(job, error=("unreadable", f"{job.source}: {exc.strerror or exc}"))


@dataclass(frozen=True)
class PageResult:
    rel_path: str
    status: str
    error: tuple[str, str] | None = None
    blocks: tuple[tuple[str, str | None], ...] = ()  # (render status, inpaint path)


def finish_page(page: Page, job: Job, run: sidecar.RunInfo, options: RunOptions) -> PageResult:
    """Worker: letter the page, write image (+ clean background), then the sidecar."""
    from imgtrans.stages.render import render

    try:
        [page] = render([page], options.render, options.target_lang)
        assert page.output is not None
        write_image(job.output, page.output, page.alpha)
        out_doc: dict[str, Any] = {"path": job.output.name}
        if options.keep_clean and page.clean is not None:
            write_image(clean_path(job.output), page.clean, None)
        doc = sidecar.page_json(page, run, job.output.name, "ok")
        if options.keep_clean:
            doc["output"] = {**out_doc, "clean": clean_path(job.output).name}
        sidecar.write(job.sidecar, doc)
    except ImgtransError as exc:
        if not isinstance(exc, PageError):
            raise
        return _fail_page(page, job, run, (exc.kind, str(exc)))
    except OSError as exc:
        return _fail_page(page, job, run, ("write", f"{job.output}: {exc.strerror or exc}"))
    stats = tuple(
        (b.render.status if b.render else "untranslated", b.inpaint_path) for b in page.blocks
    )
    return PageResult(job.rel_path, "ok", blocks=stats)


def write_ocr_sidecar(page: Page, job: Job, run: sidecar.RunInfo) -> PageResult:
    """Worker for ``imgtrans ocr``: the sidecar alone, no image."""
    try:
        sidecar.write(job.sidecar, sidecar.page_json(page, run, None, "ok"))
    except OSError as exc:
        return PageResult(
            job.rel_path, "failed", ("write", f"{job.sidecar}: {exc.strerror or exc}")
        )
    return PageResult(job.rel_path, "ok", blocks=tuple(("untranslated", None) for _ in page.blocks))


def _fail_page(page: Page, job: Job, run: sidecar.RunInfo, error: tuple[str, str]) -> PageResult:
    job.output.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        sidecar.write(job.sidecar, sidecar.page_json(page, run, None, "failed", error))
    return PageResult(job.rel_path, "failed", error)


class InlineExecutor(Executor):
    """Runs submitted work at once in this process (``--jobs 1``, and tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


def default_jobs() -> int:
    return max(
        1,
        min(
            8,
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1,
        ),
    )


def make_pool(jobs: int) -> Executor:
    if jobs <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


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
        # (source, translation) of earlier pages, for context-aware translators.
        self._context: deque[ContextPair] = deque(maxlen=64)

    def run(self, inputs: list[Path]) -> Summary:
        opts = self.options
        found = discover(inputs, opts.output, opts.target_lang, opts.format)
        for root in {job.output.parent for job in found.jobs} or {opts.output or Path.cwd()}:
            check_writable(root)
        self.summary.total = len(found.jobs) + len(found.problems)
        for path, reason in found.problems:
            self.summary.add_failure(str(path), "input", reason)
            log.warning("%s: %s", path, reason)
        self.progress.start(self.summary.total)
        for path, _ in found.problems:
            self.progress.advance(str(path), "failed")
        jobs = opts.jobs or default_jobs()
        pool = make_pool(jobs)
        threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="translate")
        try:
            self._stream(found.jobs, pool, threads, window=max(2 * opts.batch_size, 2 * jobs))
        except BaseException:
            threads.shutdown(wait=False, cancel_futures=True)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        threads.shutdown()
        pool.shutdown()
        return self.summary

    def _stream(
        self, jobs: list[Job], pool: Executor, threads: ThreadPoolExecutor, window: int
    ) -> None:
        opts = self.options
        writes: deque[tuple[Job, Future[PageResult]]] = deque()
        batch: list[tuple[Job, Page]] = []
        for loaded in self._loaded(jobs, pool, window):
            if loaded.skipped:
                self.summary.skipped += 1
                self.progress.advance(loaded.job.rel_path, "skipped")
            elif loaded.page is None:
                self._record_failure(
                    loaded.job, loaded.error or ("unknown", "load failed"), loaded.sha256
                )
            else:
                batch.append((loaded.job, loaded.page))
            if len(batch) >= opts.batch_size:
                self._process(batch, pool, threads, writes)
                batch = []
            while len(writes) > window:
                self._collect(*writes.popleft())
        if batch:
            self._process(batch, pool, threads, writes)
        while writes:
            self._collect(*writes.popleft())

    def _loaded(self, jobs: list[Job], pool: Executor, window: int) -> Iterator[LoadResult]:
        """Load results in input order with at most ``window`` loads in flight."""
        opts = self.options
        fingerprint = self.run_info.options_sha256
        pending: deque[tuple[Job, Future[LoadResult]]] = deque()
        todo = iter(jobs)
        for job in todo:
            pending.append(
                (
                    job,
                    pool.submit(
                        load_job,
                        job,
                        fingerprint,
                        opts.overwrite,
                        opts.max_pixels,
                        not self.ocr_only,
                    ),
                )
            )
            if len(pending) >= window:
                yield self._result(*pending.popleft())
        while pending:
            yield self._result(*pending.popleft())

    @staticmethod
    def _result(job: Job, fut: Future[LoadResult]) -> LoadResult:
        try:
            return fut.result()
        except BrokenProcessPool:
            return LoadResult(
                job,
                error=("worker_crashed", f"{job.source}: the worker process died while loading it"),
            )

    def _process(
        self,
        batch: list[tuple[Job, Page]],
        pool: Executor,
        threads: ThreadPoolExecutor,
        writes: deque[tuple[Job, Future[PageResult]]],
    ) -> None:
        pages = [page for _, page in batch]
        try:
            pages = self.ocr(pages)
            pages = mask_stage(pages, self.options.mask)
        except PageError as exc:
            for job, page in batch:
                self._record_failure(job, (exc.kind, str(exc)), page.sha256)
            return
        if self.translator is None or self.inpainter is None:
            for (job, _), page in zip(batch, pages, strict=True):
                writes.append((job, pool.submit(write_ocr_sidecar, page, job, self.run_info)))
            return
        target = self.options.target_lang
        translated = [
            threads.submit(translate_page, page, self.translator, target) for page in pages
        ]
        cleaned = self.inpainter(pages)
        for (job, _), clean_page, fut in zip(batch, cleaned, translated, strict=True):
            try:
                page = fut.result()
            except TranslatorError:
                raise
            except Exception as exc:  # noqa: BLE001 - one page's translation failing is that page's failure
                self._record_failure(
                    job,
                    ("translate", f"{job.source}: {type(exc).__name__}: {exc}"),
                    clean_page.sha256,
                )
                continue
            merged = replace(
                page,
                clean=clean_page.clean,
                mask=clean_page.mask,
                blocks=_merge_inpaint(page, clean_page),
            )
            writes.append((job, pool.submit(finish_page, merged, job, self.run_info, self.options)))

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

    def _collect(self, job: Job, fut: Future[PageResult]) -> None:
        try:
            result = fut.result()
        except BrokenProcessPool:
            result = PageResult(
                job.rel_path, "failed", ("worker_crashed", f"{job.source}: the worker process died")
            )
        if result.status == "ok":
            self.summary.done += 1
            for status, path in result.blocks:
                self.summary.blocks += 1
                self.summary.overflow += status == "overflow"
                self.summary.untranslated += status == "untranslated"
                if path:
                    self.summary.inpaint_paths[path] = self.summary.inpaint_paths.get(path, 0) + 1
        else:
            kind, message = result.error or ("unknown", "")
            self.summary.add_failure(job.rel_path, kind, message)
            log.error("%s", message)
        self.progress.advance(job.rel_path, result.status)
        self._check_fail_fast()

    def _check_fail_fast(self) -> None:
        if self.options.fail_fast and self.summary.failed:
            first = self.summary.failures[0]
            raise FailFast(f"stopped at the first failure (--fail-fast): {first['message']}")

    def _record_failure(self, job: Job, error: tuple[str, str], sha256: str | None) -> None:
        kind, message = error
        self.summary.add_failure(job.rel_path, kind, message)
        log.error("%s", message)
        try:
            job.output.unlink(missing_ok=True)
            sidecar.write(
                job.sidecar, sidecar.failed_json(job.rel_path, sha256, self.run_info, kind, message)
            )
        except OSError as exc:
            log.error("cannot write the sidecar of %s: %s", job.rel_path, exc.strerror or exc)
        self.progress.advance(job.rel_path, "failed")
        self._check_fail_fast()


def _merge_inpaint(translated: Page, cleaned: Page) -> tuple[Any, ...]:
    paths = {b.id: b.inpaint_path for b in cleaned.blocks}
    return tuple(replace(b, inpaint_path=paths.get(b.id)) for b in translated.blocks)
