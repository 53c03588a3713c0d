"""Write stage (runs in worker processes): letter the page, encode and write the image,
then its sidecar, each atomically. The sidecar is written last, so "sidecar says ok"
implies the image is complete. A page that cannot be written gets a failed sidecar (when
even that cannot be written, the run summary still has it).
"""

from __future__ import annotations

import contextlib
import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgtrans import sidecar
from imgtrans.discover import Job
from imgtrans.errors import ImgtransError, MissingFontError, PageError
from imgtrans.options import RunOptions
from imgtrans.output import clean_path, write_image
from imgtrans.page import Page
from imgtrans.pool import inject_fault


@dataclass(frozen=True)
class PageResult:
    rel_path: str
    status: str
    error: tuple[str, str] | None = None
    blocks: tuple[tuple[str, str | None], ...] = ()  # (render status, inpaint path)


def finish_page(page: Page, job: Job, run: sidecar.RunInfo, options: RunOptions) -> PageResult:
    """Worker: letter the page, write image (+ clean background), then the sidecar."""
    from imgtrans.stages.render import render

    inject_fault("finish", job.rel_path)
    try:
        [page] = render([page], options.render, options.target_lang)
        assert page.output is not None
        write_image(job.output, page.output, page.alpha, quality_of=job.source)
        out_doc: dict[str, Any] = {"path": job.output.name}
        if options.keep_clean and page.clean is not None:
            write_image(clean_path(job.output), page.clean, None)
        doc = sidecar.page_json(page, run, job.output.name, "ok")
        if options.keep_clean:
            doc["output"] = {**out_doc, "clean": clean_path(job.output).name}
        sidecar.write(job.sidecar, doc)
    except ImgtransError as exc:
        # A character no font has, in one page's translation (an emoji from an LLM, say),
        # fails that page; the target script itself was checked before the run started.
        if not isinstance(exc, PageError | MissingFontError):
            raise
        return fail_page(page, job, run, (exc.kind, str(exc)))
    except OSError as exc:
        return fail_page(page, job, run, write_error(job.output, exc))
    except Exception as exc:  # noqa: BLE001 - one page's lettering bug must not stop the batch
        return fail_page(page, job, run, ("internal_error", f"{job.source}: {exc!r}"))
    stats = tuple(
        (b.render.status if b.render else "untranslated", b.inpaint_path) for b in page.blocks
    )
    return PageResult(job.rel_path, "ok", blocks=stats)


def write_ocr_sidecar(page: Page, job: Job, run: sidecar.RunInfo) -> PageResult:
    """Worker for ``imgtrans ocr``: the sidecar alone, no image."""
    try:
        sidecar.write(job.sidecar, sidecar.page_json(page, run, None, "ok"))
    except OSError as exc:
        return PageResult(job.rel_path, "failed", write_error(job.sidecar, exc))
    return PageResult(job.rel_path, "ok", blocks=tuple(("untranslated", None) for _ in page.blocks))


def write_error(path: Path, exc: OSError) -> tuple[str, str]:
    """(kind, message) for a failed write: ``disk_full`` says what to do about it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk_full", f"{path}: no space left on the device (free some, then rerun)"
    return "write", f"{path}: cannot write: {exc.strerror or exc}"


def fail_page(page: Page, job: Job, run: sidecar.RunInfo, error: tuple[str, str]) -> PageResult:
    job.output.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        sidecar.write(job.sidecar, sidecar.page_json(page, run, None, "failed", error))
    return PageResult(job.rel_path, "failed", error)
