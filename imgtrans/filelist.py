"""File lists: ``imgtrans translate -`` (paths on stdin) and ``--files-from FILE``.

One path per line, or NUL-separated with ``-0`` (as ``find -print0`` writes them). Listed
paths are taken relative to the current folder, which acts as the one input root: each is
written at the same relative path under ``-o`` (default: the sibling ``<folder>_<lang>``),
so ``find pages -name '*.png' | imgtrans translate - -o out`` writes ``out/pages/...``.
A listed folder is walked; a path outside the current folder, a missing path or a file that
is not an image is reported for that entry and the others go on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from imgtrans.discover import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    Discovery,
    Problem,
    _Found,
    _is_within,
    _walk,
    default_output_root,
    is_input_file,
)
from imgtrans.errors import NoInputError, OutputError, UsageError


class ListedPaths(list[Path]):
    """Inputs read from a file list: mirrored relative to the current folder."""


def parse(data: bytes, nul: bool) -> ListedPaths:
    """Split a list into paths; names that are not UTF-8 survive (surrogate escapes)."""
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    items = data.split(b"\0") if nul else lines
    return ListedPaths(Path(os.fsdecode(item)) for item in items if item.strip())


def read(source: Path, nul: bool) -> ListedPaths:
    """The list in ``source`` (``-``: standard input)."""
    if str(source) == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise NoInputError(
                f"cannot read the file list {source}: {exc.strerror or exc}"
            ) from None
    paths = parse(data, nul)
    if not paths:
        where = "standard input" if str(source) == "-" else str(source)
        raise NoInputError(f"the file list on {where} is empty")
    return paths


def inputs_from(inputs: list[Path], files_from: Path | None, nul: bool) -> list[Path]:
    """The command line's inputs, or the paths of its list (``-`` or ``--files-from``)."""
    dash = [p for p in inputs if str(p) == "-"]
    if not dash and files_from is None:
        if nul:
            raise UsageError("-0 needs a file list: '-' (standard input) or --files-from FILE")
        if not inputs:
            raise UsageError(
                "give INPUTS (files or folders), '-' to read paths from standard "
                "input, or --files-from FILE"
            )
        return inputs
    if len(inputs) > len(dash) or len(dash) > 1 or (dash and files_from is not None):
        raise UsageError(
            "a file list ('-' or --files-from) is the only input: put the other paths in it"
        )
    return read(files_from or Path("-"), nul)


def discover_listed(
    paths: ListedPaths, output: Path | None, target_lang: str, fmt: str, max_archive_bytes: int
) -> Discovery:
    """Jobs for listed paths: each mirrored at its path relative to the current folder."""
    root = Path.cwd().resolve()
    out_root = (output or default_output_root(root, target_lang)).resolve()
    if out_root == root:
        raise OutputError(f"output folder {out_root} is the current folder: choose another -o")
    found = _Found([root], [out_root], max_archive_bytes)
    for given in paths:
        path = Path(os.path.normpath(root / given))
        problem = _listed_problem(given, path, root, out_root)
        if problem is not None:
            found.problems.append(Problem(str(given), *problem))
        elif path.is_dir():
            for file in _walk(path, found.problems):
                if not _is_within(file, out_root):
                    found.add_file(file, file.relative_to(root), out_root, fmt)
        else:
            found.add_file(path, path.relative_to(root), out_root, fmt)
    return Discovery(found.jobs, found.problems, found.warnings, found.archives)


def _listed_problem(given: Path, path: Path, root: Path, out_root: Path) -> tuple[str, str] | None:
    if not _is_within(path, root) or path == root:
        return "outside_root", (
            f"{given}: listed paths are mirrored under -o relative to the current folder, and "
            f"this one is outside {root} (cd to a folder above it)"
        )
    if _is_within(path, out_root):
        return "output_path", f"{given}: inside the output folder {out_root}: not an input"
    if not path.exists():
        return "not_found", f"{given}: no such file or folder"
    if path.is_file() and not is_input_file(path):
        return "not_an_image", (
            f"{given}: not an image or comic archive name "
            f"({', '.join(sorted(IMAGE_SUFFIXES | ARCHIVE_SUFFIXES))})"
        )
    return None
