"""Find input images, decide their output paths, and decide what a rerun can skip
(:func:`resume`, before any page is scheduled).

Inputs are files and/or directories (walked recursively, symlink loops detected). The
output tree mirrors each input root under ``--output`` (default: a sibling
``<input>_<lang>`` directory). imgtrans never writes inside an input tree unless the user
points ``--output`` there explicitly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from imgtrans.errors import NoInputError, OutputError
from imgtrans.page import Job

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
SIDECAR_SUFFIX = ".imgtrans.json"
FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}


@dataclass(frozen=True)
class Problem:
    """An input that cannot become a job; it is reported in the run summary (no sidecar:
    there is no output path of its own to put one at)."""

    path: Path
    kind: str  # symlink_loop, unreadable, broken_symlink, output_clash, output_path
    message: str


@dataclass(frozen=True)
class Discovery:
    jobs: list[Job]
    problems: list[Problem]  # paths that could not be walked or mapped, with the reason


def sidecar_path(image_out: Path) -> Path:
    """``page.png`` -> ``page.imgtrans.json`` beside it."""
    return image_out.with_name(image_out.stem + SIDECAR_SUFFIX)


def default_output_root(input_root: Path, target_lang: str) -> Path:
    base = input_root if input_root.is_dir() else input_root.parent
    return base.parent / f"{base.name}_{target_lang}"


def output_suffix(source: Path, fmt: str) -> str:
    if fmt == "same":
        suffix = source.suffix.lower()
        # GIF in, PNG out: we write a still image and GIF would lose colours.
        return ".png" if suffix == ".gif" else source.suffix
    return FORMAT_SUFFIX[fmt]


def _walk(root: Path, problems: list[Problem]) -> Iterator[Path]:
    """Yield image files under ``root`` in sorted order; follows symlinks, detects loops."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            problems.append(
                Problem(folder, "unreadable", f"{folder}: cannot read folder: {exc.strerror}")
            )
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            problems.append(
                Problem(folder, "symlink_loop", f"{folder}: symlink loop (folder already visited)")
            )
            continue
        seen.add(ident)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                Problem(folder, "unreadable", f"{folder}: cannot list folder: {exc.strerror}")
            )
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    subdirs.append(path)
                elif entry.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    yield path
                elif entry.is_symlink() and not path.exists():
                    problems.append(Problem(path, "broken_symlink", f"{path}: broken symlink"))
            except OSError as exc:
                problems.append(Problem(path, "unreadable", f"{path}: cannot stat: {exc.strerror}"))
        stack.extend(reversed(subdirs))


def discover(
    inputs: list[Path], output: Path | None, target_lang: str, fmt: str = "same"
) -> Discovery:
    """Expand ``inputs`` into jobs. Raises :class:`NoInputError` when nothing is found."""
    jobs: list[Job] = []
    problems: list[Problem] = []
    by_output: dict[Path, Job] = {}
    for given in inputs:
        if not given.exists():
            raise NoInputError(f"input not found: {given}")
        root = given.resolve()
        out_root = (output or default_output_root(root, target_lang)).resolve()
        if root.is_dir():
            _refuse_inside(out_root, root, explicit=output is not None)
            files = [(p, p.relative_to(root)) for p in _walk(root, problems)]
            # A file inside the output tree (output placed under the input) is not an input.
            files = [(p, r) for p, r in files if not _is_within(p.resolve(), out_root)]
        else:
            files = [(root, Path(root.name))]
        for path, rel in files:
            out = out_root / rel.with_suffix(output_suffix(path, fmt))
            job = Job(
                path if path.is_absolute() else path.resolve(),
                rel.as_posix(),
                out,
                sidecar_path(out),
            )
            if not _is_within(out, out_root):  # never write outside the output root
                problems.append(
                    Problem(path, "output_path", f"{path}: output {out} escapes {out_root}")
                )
                continue
            clash = by_output.get(out) or by_output.get(job.sidecar)
            if clash is not None:
                problems.append(
                    Problem(
                        path,
                        "output_clash",
                        f"{path}: its output {out} (or its sidecar) is already the output of "
                        f"{clash.source}; "
                        "skipped (use separate -o folders or --format)",
                    )
                )
                continue
            by_output[out] = by_output[job.sidecar] = job  # a.png and a.jpg share a sidecar
            jobs.append(job)
    if not jobs and not problems:
        raise NoInputError(
            "no images found in "
            + ", ".join(str(p) for p in inputs)
            + f" (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return Discovery(jobs, problems)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refuse_inside(out_root: Path, in_root: Path, explicit: bool) -> None:
    if out_root == in_root:
        raise OutputError(
            f"output folder {out_root} is the input folder: choose another -o/--output"
        )
    if _is_within(out_root, in_root) and not explicit:
        raise OutputError(f"default output {out_root} would be inside the input {in_root}")


@dataclass(frozen=True)
class Resume:
    """What a rerun does: the jobs to run and those finished before (skipped)."""

    todo: list[Job]
    skipped: list[Job]
    warnings: dict[Job, str]  # e.g. the earlier sidecar is corrupt (treated as absent)


def resume(
    jobs: list[Job], fingerprint: str, overwrite: bool, needs_image: bool = True, threads: int = 4
) -> Resume:
    """Split ``jobs`` into those to run and those a rerun skips: a job is skipped when its
    sidecar says ``ok`` for the same input bytes (sha256) and the same options
    (``fingerprint``), and its output image exists (``needs_image``). Decided before any
    page is scheduled, in I/O threads (hashing releases the GIL)."""
    if overwrite:
        return Resume(list(jobs), [], {})
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="resume") as pool:
        verdicts = list(pool.map(lambda job: _finished(job, fingerprint, needs_image), jobs))
    todo = [job for job, (done, _) in zip(jobs, verdicts, strict=True) if not done]
    skipped = [job for job, (done, _) in zip(jobs, verdicts, strict=True) if done]
    warnings = {job: w for job, (_, w) in zip(jobs, verdicts, strict=True) if w}
    return Resume(todo, skipped, warnings)


def _finished(job: Job, fingerprint: str, needs_image: bool) -> tuple[bool, str | None]:
    """(finished before, warning)."""
    from imgtrans import sidecar

    doc, problem = sidecar.read_checked(job.sidecar)
    if problem:
        return False, f"{job.sidecar}: the sidecar of an earlier run {problem}; treated as absent"
    if doc is None or (needs_image and not job.output.is_file()):
        return False, None
    try:
        sha = file_sha256(job.source)
    except OSError:
        return False, None  # the load stage says what is wrong with the file
    return sidecar.is_done(doc, sha, fingerprint), None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_writable(folder: Path) -> None:
    """Fail before any work if ``folder`` (or its nearest existing parent) cannot be written.

    Probes with a real temp file: permission bits say nothing to root, and a read-only
    mount refuses writes whatever the bits say.
    """
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"output path {folder}: {probe} is not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".imgtrans-probe-", dir=probe)
    except OSError as exc:
        raise OutputError(f"output folder {probe} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)
