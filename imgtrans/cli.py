"""The ``imgtrans`` command line: flags -> options -> run -> exit code.

Exceptions become exit codes in exactly one place, :func:`imgtrans.cli_common.exit_codes`. Human output goes
to stderr (one rich console shared by logging and the progress bar); stdout carries only
machine-readable output (``--json``, ``imgtrans schema``). Heavy imports (torch, models)
happen inside command bodies so ``imgtrans --help`` is instant.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from imgtrans import __version__
from imgtrans.cli_common import (
    BatchSize,
    Device,
    Executor,
    FailFastOpt,
    Fonts,
    Inputs,
    JsonOut,
    LetterDirection,
    Quiet,
    RayAddress,
    Runner,
    Verbose,
    Wait,
    exit_codes,
    log,
    run_command,
    setup_logging,
)
from imgtrans.errors import ExitCode

app = typer.Typer(
    name="imgtrans",
    help="Translate the text inside images, a whole folder at a time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imgtrans {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Translate the text inside images: OCR, translation, inpainting, lettering."""
    if ctx.invoked_subcommand == "translate":
        # Config files and IMGTRANS_* variables become the defaults the command line overrides.
        from imgtrans.config import default_map

        with exit_codes():
            command = ctx.command.commands["translate"]  # type: ignore[attr-defined]
            ctx.default_map = {"translate": default_map(command)}


@app.command()
def translate(
    to: Annotated[
        str, typer.Option("--to", help="Target language (ko, en, ja, zh-Hans, zh-Hant, ...).")
    ],
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Image files, comic archives (.cbz, .zip) and/or folders (walked recursively); "
            "'-' reads the paths from standard input."
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            "--from", help="Source language, or auto: decided per page from the script read."
        ),
    ] = "auto",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Output folder (default: <input>_<lang> beside each input)."
        ),
    ] = None,
    translator: Annotated[
        str,
        typer.Option(
            "--translator",
            "-t",
            help="Backend or chain: auto, none, tm, deepl, google, papago, microsoft, libretranslate, openai, ctranslate2 (offline); e.g. tm,deepl. auto: the first backend configured in the environment/.env/config (after the TM with --tm).",
        ),
    ] = "auto",
    tm: Annotated[
        Path | None, typer.Option("--tm", help="Translation memory, TSV source<TAB>target.")
    ] = None,
    glossary: Annotated[
        Path | None,
        typer.Option(
            "--glossary", help="Glossary TSV source<TAB>target, honoured by every backend."
        ),
    ] = None,
    api_base: Annotated[
        str | None,
        typer.Option(
            "--api-base", help="Override the translator's endpoint (proxy, self-hosted, local LLM)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name for LLM backends (e.g. qwen2.5).")
    ] = None,
    context_pages: Annotated[
        int, typer.Option("--context-pages", help="LLM: previous pages given as context.")
    ] = 0,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Bypass the translation cache.")
    ] = False,
    system_prompt: Annotated[
        Path | None,
        typer.Option(
            "--system-prompt", help="LLM: file with a system prompt replacing the built-in one."
        ),
    ] = None,
    ct2_model: Annotated[
        Path | None,
        typer.Option(
            "--ct2-model",
            envvar="IMGTRANS_CT2_MODEL",
            help="ctranslate2: an Argos Translate package or CTranslate2 model folder, or a folder of them.",
        ),
    ] = None,
    inpainter: Annotated[
        str,
        typer.Option(
            "--inpainter",
            help="auto (LaMa when its weights are installed, else OpenCV), lama, opencv.",
        ),
    ] = "auto",
    compile_model: Annotated[
        bool,
        typer.Option("--compile", help="torch.compile LaMa (slow start, faster on long GPU runs)."),
    ] = False,
    sfx: Annotated[
        str,
        typer.Option(
            "--sfx",
            help="Large lettering over artwork (sound effects, title art): keep (as drawn) or translate.",
        ),
    ] = "keep",
    font: Fonts = None,
    direction: LetterDirection = "auto",
    fmt: Annotated[
        str, typer.Option("--format", help="Output format: same (as input), png, jpg, webp.")
    ] = "same",
    batch_size: BatchSize = 4,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Worker processes for decode/render/encode (0: one per core, as memory allows; 1: no pool).",
        ),
    ] = 0,
    device: Device = "auto",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Redo images whose sidecar says they are done.")
    ] = False,
    fail_fast: FailFastOpt = False,
    keep_clean: Annotated[
        bool,
        typer.Option(
            "--keep-clean",
            help="Also write the erased background (<stem>.clean.png) for `imgtrans render`.",
        ),
    ] = False,
    max_pixels: Annotated[
        int,
        typer.Option("--max-pixels", help="Refuse images with more pixels (decompression bombs)."),
    ] = 400_000_000,
    executor: Executor = "local",
    ray_address: RayAddress = None,
    max_archive_bytes: Annotated[
        int,
        typer.Option(
            "--max-archive-bytes", help="Refuse comic archives larger than this uncompressed."
        ),
    ] = 4 * 1024**3,
    files_from: Annotated[
        Path | None,
        typer.Option(
            "--files-from",
            help="Read the input paths from FILE, one per line (relative paths mirrored under -o).",
        ),
    ] = None,
    null: Annotated[
        bool,
        typer.Option("-0", "--null", help="The file list is NUL-separated (find -print0)."),
    ] = False,
    wait: Wait = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="After the run, remove the outputs of inputs that are gone and images of an "
            "earlier --format (only what imgtrans wrote; never an edited sidecar).",
        ),
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json_out: JsonOut = False,
) -> None:
    """Read, translate, erase and re-letter the text of every image under INPUTS."""

    def prepare() -> Runner:
        from imgtrans.api import build_options, translate_images
        from imgtrans.filelist import inputs_from

        paths = inputs_from(inputs or [], files_from, null)

        options = build_options(
            to=to,
            source=source,
            output=output,
            translator=translator,
            tm=tm,
            glossary=glossary,
            api_base=api_base,
            model=model,
            context_pages=context_pages,
            cache=not no_cache,
            system_prompt=system_prompt,
            ct2_model=ct2_model,
            inpainter=inpainter,
            compile_model=compile_model,
            sfx=sfx,
            fonts=tuple(font or ()),
            direction=direction,
            fmt=fmt,
            batch_size=batch_size,
            jobs=jobs,
            device=device,
            overwrite=overwrite,
            fail_fast=fail_fast,
            keep_clean=keep_clean,
            max_pixels=max_pixels,
            max_archive_bytes=max_archive_bytes,
            executor=executor,
            ray_address=ray_address,
            wait=wait,
            prune=prune,
        )
        return functools.partial(translate_images, paths, options)

    run_command(quiet, verbose, json_out, prepare)


@app.command()
def ocr(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the sidecars.")],
    source: Annotated[str, typer.Option("--from", help="Source language, or auto.")] = "auto",
    batch_size: BatchSize = 4,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes for decoding (0: one per core).")
    ] = 0,
    device: Device = "auto",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Redo images already done.")
    ] = False,
    fail_fast: FailFastOpt = False,
    executor: Executor = "local",
    ray_address: RayAddress = None,
    wait: Wait = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json_out: JsonOut = False,
) -> None:
    """Only read the text: write a sidecar per image (no image), for indexing and evaluation."""

    def prepare() -> Runner:
        from imgtrans.api import ocr_images, options_from

        options = options_from(
            {
                "output": output,
                "batch_size": batch_size,
                "jobs": jobs,
                "device": device,
                "overwrite": overwrite,
                "fail_fast": fail_fast,
                "executor": executor,
                "ray_address": ray_address,
                "wait": wait,
                "ocr": {"source_lang": source},
            }
        )
        return functools.partial(ocr_images, inputs, options)

    run_command(quiet, verbose, json_out, prepare)


@app.command()
def render(
    targets: Annotated[
        list[Path],
        typer.Argument(help="Output folders (searched for *.imgtrans.json) and/or sidecar files."),
    ],
    font: Fonts = None,
    direction: LetterDirection = "auto",
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", help="Worker processes (0: one per core, as memory allows)."),
    ] = 0,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first sidecar that fails.")
    ] = False,
    wait: Wait = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json_out: JsonOut = False,
) -> None:
    """Re-letter output images from (edited) sidecars: no OCR, no translation."""

    def prepare() -> Runner:
        from imgtrans.api import options_from, render_outputs

        options = options_from(
            {
                "jobs": jobs,
                "fail_fast": fail_fast,
                "wait": wait,
                "render": {"fonts": tuple(font or ()), "direction": direction},
            }
        )
        return functools.partial(render_outputs, targets, options)

    run_command(quiet, verbose, json_out, prepare, counts_only=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the sidecar files (generated from the sidecar models)."""
    from imgtrans.sidecar_models import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
def report(
    outdir: Annotated[Path, typer.Argument(help="An output folder of `imgtrans translate`.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="HTML file to write (default OUTDIR/report.html)."),
    ] = None,
    input_root: Annotated[
        Path | None,
        typer.Option(
            "--input", help="The input folder of the run (default: OUTDIR without its _LANG)."
        ),
    ] = None,
    embed: Annotated[
        bool, typer.Option("--embed", help="Embed the images in the HTML file (portable, big).")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Write one HTML page to look over a translated folder: before/after, blocks, status."""
    setup_logging(quiet, False)
    with exit_codes():
        from imgtrans.report import write_report

        path = write_report(outdir, output, input_root, embed)
        log.info("report written to %s", path)


@app.command()
def doctor(json_out: JsonOut = False) -> None:
    """Check this install: Python, torch and device, OCR models, fonts, LaMa weights,
    translators, folders. Exit 0 when translate would run, 1 otherwise (with the fixes)."""
    from imgtrans.doctor import report

    raise typer.Exit(report(json_out))


def _mount(sub: typer.Typer, name: str) -> None:
    """Add a sub-command group whose commands run inside :func:`exit_codes` too."""
    for info in sub.registered_commands:
        callback = info.callback
        assert callback is not None

        @functools.wraps(callback)
        def wrapped(*args: Any, __callback: Any = callback, **kwargs: Any) -> Any:
            with exit_codes():
                return __callback(*args, **kwargs)

        info.callback = wrapped
    app.add_typer(sub, name=name)


def _models_app() -> typer.Typer:
    from imgtrans.cli_models import app as models

    return models


def _config_app() -> typer.Typer:
    from imgtrans.cli_config import app as config_app

    return config_app


_mount(_models_app(), "models")
_mount(_config_app(), "config")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as exc:
        if exc.code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
            # Stopped: finished pages are on disk, workers are gone, temp files removed. Leave
            # at once: no interpreter teardown (seconds with torch loaded), no waiting for a
            # thread stuck in a network call, and no traceback from a second Ctrl-C.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(int(exc.code))
        raise
