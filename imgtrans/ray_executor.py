"""The Ray executor (``--executor ray``): the same stages on a Ray Data pipeline.

    jobs (resume already filtered) -> load (CPU tasks) -> ocr+mask (actor pool) ->
    translate (one actor, bounded requests in flight) -> inpaint (actor pool) ->
    render + write (CPU tasks) -> results streamed back to this process

Model stages run in actor pools that build their models once (``num_gpus=1`` each where
the cluster has GPUs, CPU actors where it has none); batches hold ``--batch-size`` pages.
Outputs are written atomically by the workers straight into the output tree, so every node
must see it at the same path (a shared mount on a real cluster). Progress, the summary and
``--fail-fast`` are the local executor's (:class:`imgtrans.pipeline.Tracker`), fed from the
results as they arrive. A worker that dies has its task retried by Ray; writes are atomic
and the sidecar comes last, so a retried page is written once, completely.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imgtrans.errors import ImgtransError, UsageError
from imgtrans.options import RunOptions
from imgtrans.page import Job, Page
from imgtrans.pipeline import Plan, Summary, Tracker
from imgtrans.progress import NullProgress, Progress
from imgtrans.sidecar import RunInfo
from imgtrans.stages import Stages, apply_model_stage, apply_translations, chain
from imgtrans.stages.write import Finish, PageResult

log = logging.getLogger(__name__)

Wrap = Callable[[str, Any], Any]
RAY_MISSING = 'the ray executor needs Ray: pip install "imgtrans[ray]"'
# A worker that dies (OOM killer, segfault, a lost node): its task is run again, at most this
# many times (Ray Data's default is forever: a file that kills every decoder would loop).
TASK_RETRIES = 3


def _column(items: list[Any]) -> np.ndarray:
    """An object column (Ray Data keeps arbitrary Python objects pickled)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


@dataclass(frozen=True)
class Models:
    """Picklable recipe for the model stages, built once inside each Ray actor."""

    options: RunOptions
    device: str
    wrap: Wrap | None = None

    def _wrapped(self, name: str, stage: Any) -> Any:
        return stage if self.wrap is None else self.wrap(name, stage)

    def read_text(self) -> Any:
        from imgtrans.api import make_ocr
        from imgtrans.stages.mask import Mask

        ocr = self._wrapped("ocr", make_ocr(self.options, self.device))
        return chain(ocr, self._wrapped("mask", Mask(self.options.mask)))

    def translate(self) -> Any:
        from imgtrans.api import make_translate

        return self._wrapped("translate", make_translate(self.options))

    def inpaint(self) -> Any:
        from imgtrans.api import make_inpainter

        return self._wrapped("inpaint", make_inpainter(self.options.inpaint, self.device))


@dataclass(frozen=True)
class LoadTask:
    """Ray task: jobs -> pages (with their discovery notes)."""

    load: Callable[[list[Job]], list[Page]]
    notes: dict[Job, str]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pages = self.load(list(batch["item"]))
        pages = [
            replace(p, notes=(*p.notes, self.notes[p.job])) if p.job in self.notes else p
            for p in pages
        ]
        return {"item": _column(pages)}


class ModelActor:
    """Ray actor: holds one model stage (built from a :class:`Models` recipe)."""

    def __init__(self, models: Models, which: str, batch: int) -> None:
        self.stage = getattr(models, which)()
        self.batch = batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pages = apply_model_stage(self.stage, list(batch["item"]), self.batch)
        return {"item": _column(pages)}


class TranslateActor:
    """Ray actor: the translate stage, its results applied to the same pages by position."""

    def __init__(self, models: Models) -> None:
        self.stage = models.translate()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pages: list[Page] = list(batch["item"])
        live = [i for i, page in enumerate(pages) if page.error is None]
        results: list[Any] = self.stage([pages[i] for i in live]) if live else []
        for i, result in zip(live, results, strict=True):
            pages[i] = apply_translations(pages[i], result)
        return {"item": _column(pages)}


@dataclass(frozen=True)
class FinishTask:
    """Ray task: render + write; returns (job, result) per page."""

    finish: Finish

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pages: list[Page] = list(batch["item"])
        results = self.finish(pages)
        return {"job": _column([p.job for p in pages]), "result": _column(results)}


class RayExecutor:
    """``RayExecutor(mode, stages, options, run_info).run(plan) -> Summary``.

    ``stages`` gives the CPU stages (load, render, write: picklable); the model stages are
    rebuilt inside actors from ``options``. ``wrap`` wraps every stage, wherever it runs."""

    def __init__(
        self,
        mode: str,
        stages: Stages,
        options: RunOptions,
        run_info: RunInfo,
        progress: Progress | None = None,
        wrap: Wrap | None = None,
        summary: Summary | None = None,
    ) -> None:
        """``summary``: filled as the run goes, so it is there even when the run stops."""
        self.mode = mode
        self.stages = stages.wrap(wrap) if wrap is not None else stages
        self.options = options
        self.wrap = wrap
        self.tracker = Tracker(options, run_info, progress or NullProgress(), summary)
        self.tracker.failed_sidecars = stages.failed_sidecars

    def run(self, plan: Plan) -> Summary:
        ray = _import_ray()
        started = not ray.is_initialized()
        if started:
            ray.init(
                address=self.options.ray_address,  # None: $RAY_ADDRESS, else a local cluster
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        try:
            self.tracker.start(plan)
            if plan.jobs:
                for job, result in self._results(ray, plan):
                    self.tracker.result(job, result)
        except Exception as exc:
            raise _unwrapped(exc) from None
        finally:
            if started:
                ray.shutdown()
        return self.tracker.summary

    def _results(self, ray: Any, plan: Plan) -> Iterator[tuple[Job, PageResult]]:
        with warnings.catch_warnings():
            # max_retries has no named parameter yet; Ray warns about the keyword form.
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = self._dataset(ray, plan)
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            yield from zip(batch["job"], batch["result"], strict=True)

    def _dataset(self, ray: Any, plan: Plan) -> Any:
        """The Ray Data pipeline of the run (lazy: nothing runs until it is iterated)."""
        from ray.data import ActorPoolStrategy, DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False
        context.enable_operator_progress_bars = False
        detectors = getattr(context, "issue_detectors_config", None)
        memory = getattr(detectors, "high_memory_detector_config", None)
        if memory is not None:  # its advice (memory=...) is for data jobs, not model actors
            memory.detection_time_interval_s = -1
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        opts, size = self.options, self.options.batch_size
        gpus = int(ray.cluster_resources().get("GPU", 0))
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if opts.device == "cuda" and not gpus:
            raise UsageError("--device cuda: the Ray cluster has no GPU (use --device cpu or auto)")
        device = "cpu" if opts.device == "cpu" or not gpus else "cuda"
        models = Models(opts, device, self.wrap)
        model_args: dict[str, Any] = (
            {"num_gpus": 1, "compute": ActorPoolStrategy(size=gpus)}
            if device == "cuda"
            else {"num_cpus": 0.5, "compute": ActorPoolStrategy(size=max(1, cpus // 4))}
        )
        task_args: dict[str, Any] = {"num_cpus": 0.5, "max_retries": TASK_RETRIES}
        blocks = max(1, math.ceil(len(plan.jobs) / size))
        ds = ray.data.from_items([{"item": job} for job in plan.jobs], override_num_blocks=blocks)
        ds = ds.map_batches(LoadTask(self.stages.load, plan.notes), batch_size=size, **task_args)
        if self.stages.ocr is not None:
            ds = ds.map_batches(
                ModelActor, fn_constructor_args=(models, "read_text", size), batch_size=size,
                **model_args,
            )  # fmt: skip
        if self.stages.translates:
            ds = ds.map_batches(
                TranslateActor, fn_constructor_args=(models,), batch_size=size, num_cpus=0,
                compute=ActorPoolStrategy(size=1),
            )  # fmt: skip
            ds = ds.map_batches(
                ModelActor, fn_constructor_args=(models, "inpaint", size), batch_size=size,
                **model_args,
            )  # fmt: skip
        finish = FinishTask(Finish(self.stages.write, self.stages.render))
        return ds.map_batches(finish, batch_size=size, **task_args)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the extra installs both
    except ImportError:
        raise UsageError(RAY_MISSING) from None
    return ray


def _unwrapped(exc: Exception) -> Exception:
    """The imgtrans error inside a Ray task error (auth, quota, fail-fast), else ``exc``."""
    seen: Exception | BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ImgtransError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return exc
