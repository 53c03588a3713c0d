"""``imgtrans models``: list, fetch, verify and import inpainting weights.

Commands raise :mod:`imgtrans.errors` exceptions; the main CLI maps them to exit codes.
Results go to stdout (one line per item, tab-separated); progress bars go to stderr.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from imgtrans.errors import MissingModelError, UsageError
from imgtrans.models import weights

app = typer.Typer(
    name="models",
    help="Inpainting model weights: list, fetch, verify, import.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _status(spec: weights.WeightSpec, directory: Path) -> str:
    path = directory / spec.filename
    if not path.exists():
        return "absent"
    return "verified" if weights.verify_file(path, spec) else "checksum-mismatch"


@app.command("list")
def list_() -> None:
    """Registered weights with their status in the weights directory."""
    directory = weights.weights_dir()
    typer.echo(f"# weights directory: {directory}")
    for spec in weights.REGISTRY.values():
        default = " (default)" if spec.name == weights.DEFAULT else ""
        typer.echo(
            "\t".join(
                [
                    spec.name,
                    _status(spec, directory),
                    spec.filename,
                    f"{spec.algorithm}:{spec.digest}",
                    spec.url,
                    spec.description + default,
                ]
            )
        )
    for sidecar in sorted(directory.glob("*.safetensors.sha256")):
        name = sidecar.name.removesuffix(".safetensors.sha256")
        ok = weights.find_verified(name, directory) is not None
        typer.echo(
            f"{name}\t{'verified' if ok else 'checksum-mismatch'}\t{name}.safetensors\timported"
        )


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="Registered weights name, e.g. lama-manga.")],
    url: Annotated[str | None, typer.Option(help="Download from this URL (a mirror).")] = None,
    dest: Annotated[
        Path | None, typer.Option(help="Directory to store the file (default: weights dir).")
    ] = None,
) -> None:
    """Download weights (resumable) and check their checksum."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    spec = weights.spec_for(name)
    console = Console(stderr=True)
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(spec.filename, total=None)

        def report(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path = weights.fetch(name, dest_dir=dest, url=url, progress=report)
    typer.echo(f"{name}\tverified\t{path}")


@app.command()
def verify(
    name: Annotated[str | None, typer.Argument(help="Weights name; default: all.")] = None,
) -> None:
    """Check the checksum of downloaded (or imported) weights."""
    directory = weights.weights_dir()
    if name is not None:
        path = weights.find_verified(name, directory)
        if path is None:
            raise MissingModelError(weights.missing_message(name, directory))
        typer.echo(f"{name}\tverified\t{path}")
        return
    statuses = {spec.name: _status(spec, directory) for spec in weights.REGISTRY.values()}
    for spec_name, status in statuses.items():
        typer.echo(f"{spec_name}\t{status}")
    bad = [n for n, s in statuses.items() if s == "checksum-mismatch"]
    if bad:
        raise MissingModelError(
            f"checksum mismatch for {', '.join(bad)} in {directory}; delete the file and run "
            f"`{weights.fetch_command(bad[0])}`"
        )
    if "verified" not in statuses.values():
        raise MissingModelError(weights.missing_message(weights.DEFAULT, directory))


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A .ckpt, Lightning best.ckpt or TorchScript .pt.")],
    name: Annotated[
        str | None, typer.Option(help="Name to store it under (default: the file's stem).")
    ] = None,
) -> None:
    """Convert weights to a tensors-only safetensors file in the weights directory."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    name = name or path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise UsageError(f"invalid name {name!r}: use letters, digits, '.', '_' or '-'")
    out = weights.weights_dir() / f"{name}.safetensors"
    digest = weights.import_weights(path, out)
    typer.echo(f"{name}\tsha256:{digest}\t{out}")
