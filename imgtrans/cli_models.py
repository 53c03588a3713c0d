"""``imgtrans models``: list, fetch, verify and import model files (LaMa, OCR recognisers).

Commands raise :mod:`imgtrans.errors` exceptions; the main CLI maps them to exit codes.
Results go to stdout (one line per item, tab-separated); progress bars go to stderr.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from imgtrans.errors import MissingModelError, UsageError
from imgtrans.models import ocr_registry, weights

app = typer.Typer(
    name="models",
    help="Model files (LaMa inpainting weights, OCR recognisers per script): list, fetch, "
    "verify, import.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _spec(name: str) -> weights.WeightSpec:
    """A LaMa weights spec or an OCR model's spec; unknown names list both registries."""
    if name in ocr_registry.REGISTRY:
        return ocr_registry.REGISTRY[name].spec
    if name in weights.REGISTRY:
        return weights.REGISTRY[name]
    known = sorted([*weights.REGISTRY, *ocr_registry.REGISTRY])
    raise UsageError(f"unknown model {name!r}; known: {', '.join(known)}")


def _status(spec: weights.WeightSpec, directory: Path) -> str:
    path = directory / spec.filename
    if not path.exists():
        return "absent"
    return "verified" if weights.verify_file(path, spec) else "checksum-mismatch"


def _echo_spec(spec: weights.WeightSpec, directory: Path, note: str = "") -> None:
    status = _status(spec, directory)
    checksum = f"{spec.algorithm}:{spec.digest}"
    fields = [spec.name, status, spec.filename, checksum, spec.url, spec.description + note]
    typer.echo("\t".join(fields))


@app.command("list")
def list_() -> None:
    """Registered model files with their status in the weights directory."""
    directory = weights.weights_dir()
    typer.echo(f"# weights directory: {directory}")
    for spec in weights.REGISTRY.values():
        _echo_spec(spec, directory, " (default)" if spec.name == weights.DEFAULT else "")
    for model in ocr_registry.REGISTRY.values():
        langs = f" (--from {', '.join(model.languages)})" if model.languages else ""
        _echo_spec(model.spec, directory, langs)
    for sidecar in sorted(directory.glob("*.safetensors.sha256")):
        name = sidecar.name.removesuffix(".safetensors.sha256")
        ok = weights.find_verified(name, directory) is not None
        typer.echo(
            f"{name}\t{'verified' if ok else 'checksum-mismatch'}\t{name}.safetensors\timported"
        )
    _list_offline()


def _list_offline() -> None:
    """Offline translation models (--translator ctranslate2) found where the backend looks."""
    import os

    from imgtrans.models import ct2_models

    env = os.environ.get("IMGTRANS_CT2_MODEL", "").strip()
    roots = [Path(env)] if env else ct2_models.default_roots()
    typer.echo(f"# offline translation models (ctranslate2) in: {', '.join(map(str, roots))}")
    try:
        found = ct2_models.discover(roots)
    except MissingModelError as exc:  # a broken model folder: say so, list nothing from it
        typer.echo(f"# {exc}")
        return
    for model in found:
        folder = model.model_dir if model.kind == "ct2" else model.model_dir.parent
        typer.echo(f"{model.label}\tinstalled\t{model.pair}\t{model.kind}\t{folder}")


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="Registered name, e.g. lama-manga or ocr-korean.")],
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

    spec = _spec(name)
    console = Console(stderr=True)
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(spec.filename, total=None)

        def report(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path = weights.fetch_spec(spec, dest_dir=dest, url=url, progress=report)
    typer.echo(f"{name}\tverified\t{path}")


@app.command()
def verify(
    name: Annotated[str | None, typer.Argument(help="Weights name; default: all.")] = None,
) -> None:
    """Check the checksum of downloaded (or imported) weights."""
    directory = weights.weights_dir()
    if name in ocr_registry.REGISTRY:
        found = ocr_registry.require(ocr_registry.REGISTRY[name], "verify", directory)
        typer.echo(f"{name}\tverified\t{found}")
        return
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
