"""The Python API behind the CLI: plan a run, build its stages, hand both to an executor.

``translate_images``, ``ocr_images`` and ``render_outputs`` are three modes of the same
executor: the same :class:`Summary`, progress, worker pool and ``fail_fast``. Every option
has a default; the device is resolved here. ``wrap`` wraps every stage from the outside
(timing in benchmarks, fault injection and fakes in tests): ``wrap(name, stage) -> stage``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imgtrans import __version__, archive
from imgtrans.discover import check_writable, discover, resume
from imgtrans.errors import MissingModelError, UsageError
from imgtrans.lock import output_locks
from imgtrans.options import (
    InpaintOptions,
    OcrOptions,
    RenderOptions,
    RunOptions,
    TranslatorOptions,
)
from imgtrans.pipeline import Pipeline, Plan, Summary
from imgtrans.progress import Progress
from imgtrans.prune import prune_orphans
from imgtrans.sidecar import RunInfo
from imgtrans.stages import Stages
from imgtrans.translators.langs import check_code

log = logging.getLogger(__name__)

Wrap = Callable[[str, Any], Any]
OCR_TARGET = "none"  # target_lang of OCR-only sidecars


def build_options(
    *, to: str, source: str, translator: str | None, tm: Path | None, **kw: Any
) -> RunOptions:
    """CLI flag values -> one frozen :class:`RunOptions` (UsageError on bad values)."""
    check_code(to, "--to")
    options = options_from(
        {
            "target_lang": to,
            "output": kw["output"],
            "format": kw["fmt"],
            "overwrite": kw["overwrite"],
            "batch_size": kw["batch_size"],
            "jobs": kw["jobs"],
            "device": kw["device"],
            "fail_fast": kw["fail_fast"],
            "max_pixels": kw["max_pixels"],
            "max_archive_bytes": kw.get("max_archive_bytes", 4 * 1024**3),
            "keep_clean": kw["keep_clean"],
            "wait": kw.get("wait", False),
            "prune": kw.get("prune", False),
            "executor": kw.get("executor", "local"),
            "ray_address": kw.get("ray_address"),
            "ocr": OcrOptions(source_lang=source, sfx=kw.get("sfx", "keep")),
            "inpaint": InpaintOptions(inpainter=kw["inpainter"], compile=kw["compile_model"]),
            "translator": TranslatorOptions(
                name=translator or "auto",
                tm=tm,
                api_base=kw["api_base"],
                model=kw["model"],
                glossary=kw["glossary"],
                context_pages=kw["context_pages"],
                cache=kw["cache"],
                system_prompt=kw["system_prompt"],
                ct2_model=kw.get("ct2_model"),
            ),
            "render": RenderOptions(fonts=kw["fonts"], direction=kw["direction"]),
        }
    )
    return resolve_auto(options)


def options_from(values: dict[str, Any]) -> RunOptions:
    """:class:`RunOptions` from plain values; :class:`UsageError` naming each bad one."""
    try:
        return RunOptions.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid options: {problems}") from None


def resolve_auto(options: RunOptions) -> RunOptions:
    """``--translator auto`` (the default) -> the first configured backend, said once."""
    if options.translator.name != "auto":
        return options
    from imgtrans.config import load_dotenv_file
    from imgtrans.translators import auto

    load_dotenv_file()
    name, why = auto.resolve(options.translator)
    log.info("translator: %s (auto: %s)", name, why)
    translator = options.translator.model_copy(update={"name": name})
    return options.model_copy(update={"translator": translator})


def build_render_options(fonts: tuple[Path, ...], direction: str) -> RenderOptions:
    try:
        return RenderOptions.model_validate({"fonts": fonts, "direction": direction})
    except ValidationError as exc:
        raise UsageError(f"invalid options: {exc.errors()[0]['msg']}") from None


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when torch sees a GPU, else cpu; ``cuda`` without one is an error
    (never a silent fallback). Logged once; on CUDA TF32 is allowed (LaMa runs 2.5x
    slower without it, measured)."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            "--device cuda: no CUDA GPU is available to torch (use --device cpu or auto)"
        )
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        log.info("device: cuda (%s)", torch.cuda.get_device_name(0))
    else:
        log.debug("device: cpu")
    return device


def make_inpainter(options: InpaintOptions, device: str) -> Any:
    """LaMa when verified weights are installed (or asked for), else OpenCV with a notice."""
    from imgtrans.stages.inpaint import Inpainter

    if options.inpainter == "opencv":
        return Inpainter(options)
    try:
        import torch

        from imgtrans.models.lama_runner import LamaInpainter

        lama = LamaInpainter.load(torch.device(device), compile=options.compile)
    except MissingModelError:
        if options.inpainter == "lama":
            raise
        log.info(
            "LaMa weights not installed, erasing with OpenCV (for LaMa: imgtrans models fetch lama-manga)"
        )
        return Inpainter(options)
    except ImportError:
        if options.inpainter == "lama":
            raise MissingModelError("LaMa support is not available in this install") from None
        return Inpainter(options)
    return Inpainter(options, lama)


def make_ocr(options: RunOptions, device: str) -> Any:
    """The OCR engine (models loaded) for ``options`` on ``device``."""
    from imgtrans.stages.ocr import OcrEngine, make_backend

    return OcrEngine(options.ocr, make_backend(device), batch_size=options.batch_size)


def make_translate(options: RunOptions) -> Any:
    """The translate stage (translator built and checked for the language pair)."""
    from imgtrans.config import load_dotenv_file
    from imgtrans.stages.translate import Translate
    from imgtrans.translators import build_translator

    load_dotenv_file()
    translator = build_translator(options.translator)
    try:
        translator.check_pair(options.ocr.source_lang, options.target_lang)
    except BaseException:
        translator.close()
        raise
    return Translate(
        translator,
        options.target_lang,
        options.translator.context_pages,
        source=options.ocr.source_lang,
    )


def run_info(
    options: RunOptions, models: dict[str, str], translator: str, inpainter: str
) -> RunInfo:
    return RunInfo(
        version=__version__,
        models=dict(models),
        translator=translator,
        options_sha256=options.fingerprint(),
        inpainter=inpainter,
        source_lang=options.ocr.source_lang,
        target_lang=options.target_lang,
    )


def as_paths(inputs: Sequence[str | Path]) -> list[Path]:
    """Input paths; a file list (:class:`imgtrans.filelist.ListedPaths`) stays one."""
    if isinstance(inputs, list) and all(isinstance(p, Path) for p in inputs):
        return inputs
    return [Path(p) for p in inputs]


def plan_run(
    inputs: list[Path],
    options: RunOptions,
    name: str,
    needs_image: bool,
    locks: ExitStack | None = None,
) -> Plan:
    """Discovery and resume: the jobs to run, those finished before, and the problems.
    With ``locks``, the lock of every output root is taken (into that stack) before the
    resume decisions: one run per output tree (another exits 8, or waits with --wait)."""
    found = discover(inputs, options.output, name, options.format, options.max_archive_bytes)
    folders = {job.output.parent for job in found.jobs}
    folders |= {plan.output.parent for plan in found.archives}
    for root in folders or {options.output or Path.cwd()}:
        check_writable(root)
    if locks is not None and (found.jobs or found.archives):
        locks.enter_context(output_locks(found.out_roots, options.wait))
    done = resume(found.jobs, options.fingerprint(), options.overwrite, needs_image)
    problems = [(str(p.path), p.kind, p.message) for p in found.problems]
    warnings = [*found.warnings, *((job.rel_path, w) for job, w in done.warnings.items())]
    return Plan(
        done.todo,
        done.skipped,
        problems,
        warnings,
        done.warnings,
        frozenset(folders),
        found.archives,
        found.out_roots,
    )


def prune_stale(plan: Plan, summary: Summary) -> None:
    """``--prune``, after a run that walked every input folder (a folder that could not be
    read this time must not lose its outputs): sidecars of inputs that are gone, with the
    files they name."""
    if any(kind in ("unreadable", "symlink_loop") for _, kind, _ in plan.problems):
        log.warning("--prune skipped: not every input folder could be read")
        return
    removed, kept = prune_orphans(plan.out_roots, [*plan.jobs, *plan.skipped])
    summary.pruned += removed
    for message in kept:
        summary.warnings.append({"path": "", "message": message})
        log.warning("%s", message)


def translate_images(
    inputs: Sequence[str | Path],
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    wrap: Wrap | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Read, translate, erase and re-letter every image under ``inputs`` (files and
    folders); writes each output image and its sidecar. Returns the run's summary
    (``summary``, when given, is filled as the run goes: it is there if the run stops)."""
    from imgtrans.stages import Stages
    from imgtrans.stages.mask import Mask
    from imgtrans.stages.preprocess import Load
    from imgtrans.stages.render import Render, font_chain
    from imgtrans.stages.write import Write

    options = resolve_auto(options or RunOptions())
    device = resolve_device(options.device)
    font_chain(options.render, options.target_lang)  # fail before any work if fonts are missing
    translate = make_translate(options)
    try:
        engine = make_ocr(options, device)
        inpainter = make_inpainter(options.inpaint, device)
        run = run_info(options, engine.models, translate.translator.describe(), inpainter.name)
        with ExitStack() as locks:
            plan = plan_run(as_paths(inputs), options, options.target_lang, True, locks)
            stages = Stages(
                load=Load(options.max_pixels),
                ocr=engine,
                mask=Mask(options.mask),
                translate=translate,
                inpaint=inpainter,
                render=Render(options.render, options.target_lang),
                write=Write(run, image=True, keep_clean=options.keep_clean, prune=options.prune),
            )
            summary = execute(
                "translate", stages, plan, options, run, progress, wrap, summary=summary
            )
            if options.prune:
                prune_stale(plan, summary)
            # Comic archives: a .cbz once all of its pages are done (under the lock).
            for path, message in archive.assemble_all(plan.archives):
                summary.warnings.append({"path": path, "message": message})
    finally:
        translate.close()
    return summary


def ocr_images(
    inputs: Sequence[str | Path],
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    wrap: Wrap | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Only read the text: a sidecar per image (no image) in ``options.output`` (default:
    ``<input>_ocr`` beside each input)."""
    from imgtrans.stages import Stages
    from imgtrans.stages.preprocess import Load
    from imgtrans.stages.write import Write

    options = (options or RunOptions()).model_copy(update={"target_lang": OCR_TARGET})
    engine = make_ocr(options, resolve_device(options.device))
    run = run_info(options, engine.models, "none", "none")
    with ExitStack() as locks:
        plan = plan_run(as_paths(inputs), options, "ocr", False, locks)
        stages = Stages(load=Load(options.max_pixels), ocr=engine, write=Write(run, image=False))
        return execute("ocr", stages, plan, options, run, progress, wrap, summary=summary)


def render_outputs(
    targets: Sequence[str | Path],
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    wrap: Wrap | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Re-letter output images from their (edited) sidecars: no OCR, no translation.
    ``targets`` are output folders (searched for ``*.imgtrans.json``) and/or sidecars."""
    from imgtrans.rerender import LoadForRender, Rewrite, render_jobs
    from imgtrans.stages import Stages

    options = options or RunOptions()
    paths = [Path(t) for t in targets]
    plan = Plan(render_jobs(paths))
    stages = Stages(
        load=LoadForRender(options.max_pixels),
        write=Rewrite(options.render),
        failed_sidecars=False,
    )
    run = run_info(options, {}, "none", "none")
    # The folders rewritten: a translate run writing one of them (or a folder around it)
    # must not interleave with this one.
    folders = {(p if p.is_dir() else p.parent).resolve() for p in paths}
    with output_locks(folders if plan.jobs else (), options.wait):
        summary = execute("render", stages, plan, options, run, progress, wrap, summary=summary)
        failed = {f["path"] for f in summary.failures}
        rendered = [job.sidecar for job in plan.jobs if job.rel_path not in failed]
        for problem in archive.rebuild_after_render(rendered):  # comic archives: their .cbz
            log.warning("%s", problem)
    return summary


def execute(
    mode: str,
    stages: Stages,
    plan: Plan,
    options: RunOptions,
    run: RunInfo,
    progress: Progress | None,
    wrap: Wrap | None,
    summary: Summary | None = None,
) -> Summary:
    """Run ``plan`` through ``stages`` on the executor ``options.executor`` names."""
    if options.executor == "ray":
        from imgtrans.ray_executor import RayExecutor

        return RayExecutor(mode, stages, options, run, progress, wrap, summary).run(plan)
    if wrap is not None:
        stages = stages.wrap(wrap)
    return Pipeline(stages, options, run, progress, summary).run(plan)
