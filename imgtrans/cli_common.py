"""What every ``imgtrans`` command shares: logging, the progress bar, exceptions turned
into exit codes, the ``--json`` summary, and the options several commands take."""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from imgtrans.errors import ExitCode, ImgtransError, Interrupted

console = Console(stderr=True)
log = logging.getLogger("imgtrans")


def setup_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = RichHandler(console=console, show_time=False, show_path=False, rich_tracebacks=False)
    root = logging.getLogger("imgtrans")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@contextmanager
def exit_codes() -> Iterator[None]:
    """The one place where exceptions turn into process exit codes (see errors.ExitCode)."""

    def on_term(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except typer.Exit:
        raise
    except Interrupted as exc:
        console.print(
            f"[yellow]interrupted ({'SIGTERM' if exc.code == ExitCode.TERMINATED else 'SIGINT'}): "
            "finished images are kept; rerun to do the rest"
        )
        raise typer.Exit(int(exc.code)) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished images are kept; rerun to do the rest")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except ImgtransError as exc:
        # soft_wrap: a path in the message must not be broken across lines (logs, grep).
        # escape: a message may hold brackets ("[env]", a path) that are not rich markup.
        console.print(
            f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True
        )
        raise typer.Exit(int(exc.code)) from None
    except Exception as exc:  # noqa: BLE001 - the last resort: say what happened, exit 1
        # Traceback without locals: locals could hold API keys.
        console.print(
            f"[red]unexpected error:[/red] {type(exc).__name__}: {exc}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8)),
            markup=False,
            highlight=False,
        )
        raise typer.Exit(int(ExitCode.UNEXPECTED)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def json_summary(summary: Any) -> Iterator[None]:
    """``--json``: print ``summary`` on stdout on every exit, whatever the exit status (0, 3,
    an error that stopped the run, an interrupt), with that status as ``exit_code``. Goes
    outside :func:`exit_codes`, which turns every exception into ``typer.Exit``."""
    code = int(ExitCode.OK)
    try:
        yield
    except typer.Exit as exc:
        code = exc.exit_code
        raise
    except BaseException:
        code = int(ExitCode.UNEXPECTED)
        raise
    finally:
        if summary is not None:
            from dataclasses import asdict

            from imgtrans.sidecar import dumps

            typer.echo(dumps({**asdict(summary), "exit_code": code}))


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal and --quiet is off."""
    from imgtrans.progress import NullProgress, RichProgress

    progress = RichProgress(console) if not quiet and sys.stderr.isatty() else NullProgress()
    try:
        yield progress
    finally:
        progress.close()


def report_run(summary: Any) -> None:
    report_counts(summary)
    log.info(
        "blocks: %d, overflow %d, kept %d, untranslated %d",
        summary.blocks,
        summary.overflow,
        getattr(summary, "kept", 0),
        summary.untranslated,
    )


def report_counts(summary: Any) -> None:
    log.info(
        "%d done, %d skipped, %d failed of %d",
        summary.done,
        summary.skipped,
        summary.failed,
        summary.total,
    )


Inputs = Annotated[
    list[Path], typer.Argument(help="Image files and/or folders (walked recursively).")
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only warnings and errors; no progress bar.")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Pages per model batch.")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")]
Fonts = Annotated[
    list[Path] | None,
    typer.Option(
        "--font", help="Font file tried before the shipped ones (repeatable: a fallback chain)."
    ),
]
LetterDirection = Annotated[
    str,
    typer.Option(
        "--direction", help="Lettering direction for ja/zh targets: auto, horizontal, vertical."
    ),
]
Wait = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="If another run is writing the output folder, wait for it (default: exit 8).",
    ),
]
JsonOut = Annotated[
    bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")
]
FailFastOpt = Annotated[
    bool, typer.Option("--fail-fast", help="Stop at the first image that fails.")
]
Executor = Annotated[
    str,
    typer.Option(
        "--executor",
        help="local (this machine: a worker pool and one device) or ray (a Ray cluster; "
        'pip install "imgtrans[ray]").',
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        envvar="RAY_ADDRESS",
        help="Ray cluster to join (default: $RAY_ADDRESS, else a local cluster for the run).",
    ),
]


# A prepared command: ``runner(progress=..., summary=...)`` runs it and returns its summary.
Runner = Callable[..., Any]


def run_command(
    quiet: bool,
    verbose: bool,
    json_out: bool,
    prepare: Callable[[], Runner],
    counts_only: bool = False,
) -> None:
    """The frame every run command shares: logging, the ``--json`` summary on every exit,
    exceptions turned into exit codes, the progress bar, the closing counts, and exit 3 when
    a file failed. ``prepare()`` checks the options (its errors are exit codes too) and
    returns the run."""
    setup_logging(quiet, verbose)
    from imgtrans.pipeline import Summary

    summary = Summary()
    with json_summary(summary if json_out else None), exit_codes():
        start = prepare()
        with progress_bar(quiet) as progress:
            summary = start(progress=progress, summary=summary)
        (report_counts if counts_only else report_run)(summary)
        if summary.failed:
            raise typer.Exit(int(ExitCode.SOME_FAILED))
