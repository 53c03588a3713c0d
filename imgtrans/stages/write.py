"""Write stage (runs in worker processes): the image, then its sidecar, each atomically.

The sidecar is written last, so "sidecar says ok" implies the image is complete. A failed
page (``page.error``) gets a failed sidecar and no image; a page that cannot be written
gets one too (when even that cannot be written, the run summary still has it).
:class:`Finish` is render + write in one worker task, each page guarded on its own.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imgtrans import prune, sidecar
from imgtrans.errors import ImgtransError, MissingFontError, PageError
from imgtrans.output import clean_path, write_image
from imgtrans.page import Job, Page


@dataclass(frozen=True)
class PageResult:
    rel_path: str
    status: str
    error: tuple[str, str] | None = None
    blocks: tuple[tuple[str, str | None], ...] = ()  # (render status, inpaint path)
    pruned: int = 0  # files of an earlier run removed (--prune)


@dataclass(frozen=True)
class Write:
    """The write stage: ``list[Page] -> list[PageResult]``. ``image=False`` (``imgtrans
    ocr``) writes the sidecar alone; ``keep_clean`` also the erased background; ``prune``
    removes the image an earlier run wrote in another format (its previous sidecar names it)."""

    run: sidecar.RunInfo
    image: bool = True
    keep_clean: bool = False
    prune: bool = False

    def __call__(self, pages: list[Page]) -> list[PageResult]:
        return [self.one(page) for page in pages]

    def one(self, page: Page) -> PageResult:
        job = _job(page)
        if page.error is not None:
            return fail_page(page, job, self.run, (page.error.kind, page.error.message))
        previous = sidecar.read(job.sidecar) if self.prune else None
        try:
            output = None
            if self.image:
                assert page.output is not None, "write needs page.output: run render first"
                write_image(job.output, page.output, page.alpha, quality_of=job.source)
                clean = None
                if self.keep_clean and page.clean is not None:
                    write_image(clean_path(job.output), page.clean, None)
                    clean = sidecar.safe_text(clean_path(job.output).name)
                output = sidecar.OutputRecord(path=sidecar.safe_text(job.output.name), clean=clean)
            doc = sidecar.page_record(page, self.run, output, "ok")
            sidecar.write(job.sidecar, doc.to_json())
        except OSError as exc:
            return fail_page(page, job, self.run, write_error(job.output, exc))
        pruned = prune.remove(prune.replaced(job, previous))
        stats = tuple(
            (b.render.status if b.render else "untranslated", b.inpaint_path) for b in page.blocks
        )
        return PageResult(job.rel_path, "ok", blocks=stats, pruned=pruned)


@dataclass(frozen=True)
class Finish:
    """Render (when given) then write, one page at a time, in a worker process: a page
    whose lettering fails (a character no font has, a bug) fails alone. ``prepare``: the
    last host steps of the model stages (LaMa's pastes), run first in the same task."""

    write: Callable[[list[Page]], list[PageResult]]
    render: Callable[[list[Page]], list[Page]] | None = None
    prepare: Callable[[list[Page]], list[Page]] | None = None

    def __call__(self, pages: list[Page]) -> list[PageResult]:
        out: list[PageResult] = []
        for page in pages:
            if self.prepare is not None and page.error is None:
                page = guarded(self.prepare, page)
            if self.render is not None and page.error is None:
                page = guarded(self.render, page)
            out.extend(self.write([page]))
        return out


def guarded(stage: Callable[[list[Page]], list[Page]], page: Page) -> Page:
    """``stage`` on one page; a page-level failure becomes ``page.error``."""
    try:
        [done] = stage([page])
    except ImgtransError as exc:
        # A character no font has, in one page's translation (an emoji from an LLM, say),
        # fails that page; the target script itself was checked before the run started.
        if not isinstance(exc, PageError | MissingFontError):
            raise
        return page.fail(exc.kind, str(exc))
    except Exception as exc:  # noqa: BLE001 - one page's lettering bug must not stop the batch
        return page.fail("internal_error", f"{page.source}: {exc!r}")
    return done


def _job(page: Page) -> Job:
    if page.job is None:
        raise ValueError(f"write needs page.job (where to write): run load first ({page.rel_path})")
    return page.job


def write_error(path: Path, exc: OSError) -> tuple[str, str]:
    """(kind, message) for a failed write: ``disk_full`` says what to do about it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk_full", f"{path}: no space left on the device (free some, then rerun)"
    return "write", f"{path}: cannot write: {exc.strerror or exc}"


def fail_page(page: Page, job: Job, run: sidecar.RunInfo, error: tuple[str, str]) -> PageResult:
    """Remove the page's output image and write its failed sidecar (best effort)."""
    job.output.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        if page.image.size:
            doc = sidecar.page_json(page, run, None, "failed", error)
        else:  # failed before it had pixels
            doc = sidecar.failed_json(job.rel_path, page.sha256 or None, run, *error)
        sidecar.write(job.sidecar, doc)
    return PageResult(job.rel_path, "failed", error)
