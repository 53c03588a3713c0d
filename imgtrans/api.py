"""The Python API behind the CLI: build options, load models once, run the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imgtrans import __version__
from imgtrans.errors import MissingModelError, UsageError
from imgtrans.options import (
    InpaintOptions,
    OcrOptions,
    RenderOptions,
    RunOptions,
    TranslatorOptions,
)
from imgtrans.pipeline import Pipeline, Summary
from imgtrans.sidecar import RunInfo

log = logging.getLogger(__name__)


def build_options(
    *, to: str, source: str, translator: str | None, tm: Path | None, **kw: Any
) -> RunOptions:
    """CLI flag values -> one frozen :class:`RunOptions` (UsageError on bad values)."""
    try:
        options = RunOptions(
            target_lang=to,
            output=kw["output"],
            format=kw["fmt"],
            overwrite=kw["overwrite"],
            batch_size=kw["batch_size"],
            jobs=kw["jobs"],
            device=kw["device"],
            fail_fast=kw["fail_fast"],
            max_pixels=kw["max_pixels"],
            max_archive_bytes=kw.get("max_archive_bytes", 4 * 1024**3),
            keep_clean=kw["keep_clean"],
            ocr=OcrOptions(source_lang=source, sfx=kw.get("sfx", "keep")),
            inpaint=InpaintOptions(inpainter=kw["inpainter"], compile=kw["compile_model"]),
            translator=TranslatorOptions(
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
            render=RenderOptions(fonts=kw["fonts"], direction=kw["direction"]),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid options: {problems}") from None
    return _resolve_auto(options)


def _resolve_auto(options: RunOptions) -> RunOptions:
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


def prepare_device(device: str) -> str:
    """Log the device once; on CUDA allow TF32 (LaMa runs 2.5x slower without it, measured)."""
    if device == "cuda":
        import torch

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


def run_translate(
    inputs: list[Path],
    options: RunOptions,
    console: Any | None,
    resolve_device: Callable[[str], str],
) -> Summary:
    """Run ``imgtrans translate``; ``console`` (rich) draws a progress bar when given."""
    from imgtrans.config import load_dotenv_file
    from imgtrans.stages.ocr import OcrEngine, make_backend
    from imgtrans.stages.render import font_chain
    from imgtrans.translators import build_translator

    load_dotenv_file()
    device = prepare_device(resolve_device(options.device))
    font_chain(options.render, options.target_lang)  # fail before any work if fonts are missing
    translator = build_translator(options.translator)
    translator.check_pair(options.ocr.source_lang, options.target_lang)
    engine = OcrEngine(options.ocr, make_backend(device), batch_size=options.batch_size)
    inpainter = make_inpainter(options.inpaint, device)
    run = RunInfo(
        version=__version__,
        models=dict(engine.models),
        translator=translator.describe(),
        options_sha256=options.fingerprint(),
        inpainter=inpainter.name,
        source_lang=options.ocr.source_lang,
        target_lang=options.target_lang,
    )
    progress = _progress(console)
    try:
        return Pipeline(options, engine, translator, inpainter, run, progress).run(inputs)
    finally:
        progress.close()
        translator.close()


def _progress(console: Any | None) -> Any:
    from imgtrans.progress import NullProgress, RichProgress

    return RichProgress(console) if console is not None else NullProgress()


def run_ocr(
    inputs: list[Path],
    output: Path,
    *,
    source: str,
    batch_size: int,
    jobs: int,
    device: str,
    overwrite: bool,
) -> Summary:
    """Run ``imgtrans ocr``: sidecars only."""
    from imgtrans.stages.ocr import OcrEngine, make_backend

    options = RunOptions(
        target_lang="none",
        output=output,
        batch_size=batch_size,
        jobs=jobs,
        overwrite=overwrite,
        ocr=OcrOptions(source_lang=source),
    )
    engine = OcrEngine(options.ocr, make_backend(prepare_device(device)), batch_size=batch_size)
    run = RunInfo(
        version=__version__,
        models=dict(engine.models),
        translator="none",
        options_sha256=options.fingerprint(),
        inpainter="none",
        source_lang=source,
        target_lang="none",
    )
    return Pipeline(options, engine, None, None, run).run(inputs)
