"""The stages of a run, one module each in run order: preprocess (load), ocr, mask,
translate, inpaint, render, write; and the contract an executor composes them by.

Every stage is a callable over a batch, same length and order out as in:

- ``load``: ``list[Job] -> list[Page]`` (a file that cannot be read gives a failed page);
- ``ocr``, ``mask``, ``inpaint``, ``render``: ``list[Page] -> list[Page]``;
- ``translate``: ``list[Page] -> list[Translations | Failure]``: per page, block id ->
  (translation, error), applied by the executor to the same page (by position in the
  batch, never by path) with :func:`apply_translations`;
- ``write``: ``list[Page] -> list[PageResult]`` (image, then sidecar, each atomic).

A page that failed (``page.error``) is passed over by later stages and its failed sidecar
is written by ``write``. Executors (``imgtrans.pipeline`` locally, ``imgtrans.ray_executor``
on Ray) decide where each stage runs; timing, fault injection and fakes wrap stages from
outside with :meth:`Stages.wrap`.

Where the work of ``ocr``, ``mask`` and ``inpaint`` runs: a stage may split itself into
:class:`Step` s (its ``steps()``), each either a **device** step (a model call, batched
across the pages of a batch, run by the process that holds the models) or a **worker** step
(host work on one page: pre- and post-processing, crops, masks, pastes; picklable, run in
the worker pool so the process that feeds the device only assembles batches and calls
models). A split stage keeps its state between steps in ``page.work``; running its steps in
order over a batch (:func:`run_steps`) is the stage itself. A stage without ``steps()`` (a
fake, or one wrapped from outside) is one device step, run whole where the models are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from imgtrans.errors import PageError
from imgtrans.oom import OomFailure, run_with_oom_backoff
from imgtrans.page import Failure, Job, Page

if TYPE_CHECKING:
    from imgtrans.stages.write import PageResult

Stage = Callable[[list[Page]], list[Page]]
Translations = dict[int, tuple[str | None, str | None]]  # block id -> (translation, error)
TranslateStage = Callable[[list[Page]], list["Translations | Failure"]]

STAGE_NAMES = ("load", "ocr", "mask", "translate", "inpaint", "render", "write")


@dataclass(frozen=True)
class Stages:
    """The stages of one run, in run order. ``None``: the mode leaves that stage out
    (``imgtrans ocr`` has no translate, inpaint or render; ``imgtrans render`` only load,
    render and write)."""

    load: Callable[[list[Job]], list[Page]]
    write: Callable[[list[Page]], list[PageResult]]
    ocr: Stage | None = None
    mask: Stage | None = None
    translate: TranslateStage | None = None
    inpaint: Stage | None = None
    render: Stage | None = None
    failed_sidecars: bool = True  # False for render mode: a failed page keeps its sidecar

    def wrap(self, wrapper: Callable[[str, Any], Any]) -> Stages:
        """Every present stage replaced by ``wrapper(name, stage)`` (timing, faults, fakes).
        Stages that run in worker processes (load, render, write) must stay picklable."""
        changes = {
            f.name: wrapper(f.name, getattr(self, f.name))
            for f in fields(self)
            if f.name in STAGE_NAMES and getattr(self, f.name) is not None
        }
        return replace(self, **changes)

    @property
    def reads_text(self) -> bool:
        return self.ocr is not None

    @property
    def translates(self) -> bool:
        return self.translate is not None and self.inpaint is not None


def apply_translations(page: Page, result: Translations | Failure) -> Page:
    """``page`` with each block's translation (or translation error) set; a
    :class:`Failure` fails the page."""
    if isinstance(result, Failure):
        return replace(page, error=result)
    blocks = tuple(
        replace(b, translation=result[b.id][0], translation_error=result[b.id][1])
        if b.id in result
        else b
        for b in page.blocks
    )
    return replace(page, blocks=blocks)


@dataclass(frozen=True)
class Step:
    """One step of a split stage: ``fn`` over a batch of pages (same length and order out).
    ``device``: a model call over the whole batch in the process holding the models; else
    host work run one page at a time in a worker (``fn`` must pickle)."""

    fn: Stage
    device: bool


def steps_of(stage: Stage | None) -> tuple[Step, ...]:
    """The steps an executor runs for ``stage``: its own ``steps()``, else the stage whole
    as one device step (``None``: no steps)."""
    if stage is None:
        return ()
    split = getattr(stage, "steps", None)
    if callable(split):
        return tuple(split())
    return (Step(stage, device=True),)


def run_steps(steps: Sequence[Step], pages: list[Page]) -> list[Page]:
    """The steps one after the other over ``pages`` in this process: what the split stage
    computes, whichever process runs each step (worker steps page by page)."""
    for step in steps:
        if step.device:
            pages = step.fn(pages)
        else:
            pages = [out for page in pages for out in step.fn([page])]
    return pages


def apply_model_stage(stage: Stage, pages: Sequence[Page], batch: int) -> list[Page]:
    """Run a model stage over the pages that have not failed, with out-of-memory back-off;
    same length and order out. A page that runs out of memory alone fails
    (``out_of_memory``); a :class:`PageError` fails the whole batch. Other errors are bugs
    and propagate."""
    out = list(pages)
    live = [i for i, page in enumerate(pages) if page.error is None]
    if not live:
        return out
    try:
        results = run_with_oom_backoff(stage, [pages[i] for i in live], batch)
    except PageError as exc:
        for i in live:
            out[i] = pages[i].fail(exc.kind, f"{pages[i].source}: {exc}")
        return out
    for i, result in zip(live, results, strict=True):
        if isinstance(result, OomFailure):
            out[i] = pages[i].fail("out_of_memory", f"{pages[i].source}: {result.message}")
        else:
            out[i] = result
    return out


def chain(*stages: Stage | None) -> Stage:
    """The stages one after the other (``None`` ones left out), as one stage."""
    return Chain(tuple(s for s in stages if s is not None))


@dataclass(frozen=True)
class Chain:
    stages: tuple[Stage, ...]

    def __call__(self, pages: list[Page]) -> list[Page]:
        for stage in self.stages:
            pages = stage(pages)
        return pages
