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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from imgtrans import archive
from imgtrans.errors import NoInputError, OutputError, PageError, UsageError
from imgtrans.page import Job

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
ARCHIVE_SUFFIXES = archive.ARCHIVE_SUFFIXES  # comic archives: their pages are inputs
SIDECAR_SUFFIX = ".imgtrans.json"
FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}
NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, APFS, NTFS in UTF-16 units)


@dataclass(frozen=True)
class Problem:
    """An input that cannot become a job; it is reported in the run summary (no sidecar:
    there is no output path of its own to put one at)."""

    path: str  # relative to its input root
    kind: str  # symlink_loop, unreadable, broken_symlink, output_clash, output_path, name_too_long
    message: str


@dataclass(frozen=True)
class Discovery:
    jobs: list[Job]
    problems: list[Problem]  # paths that could not be walked or mapped, with the reason
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    archives: list[archive.ArchivePlan] = field(default_factory=list)  # built after the run


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
                Problem(
                    _rel(folder, root),
                    "unreadable",
                    f"{folder}: cannot read folder: {exc.strerror}",
                )
            )
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            problems.append(
                Problem(
                    _rel(folder, root),
                    "symlink_loop",
                    f"{folder}: symlink loop (folder already visited)",
                )
            )
            continue
        seen.add(ident)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                Problem(
                    _rel(folder, root),
                    "unreadable",
                    f"{folder}: cannot list folder: {exc.strerror}",
                )
            )
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    subdirs.append(path)
                elif entry.is_file() and is_input_file(path):
                    yield path
                elif entry.is_symlink() and not path.exists():
                    problems.append(
                        Problem(_rel(path, root), "broken_symlink", f"{path}: broken symlink")
                    )
            except OSError as exc:
                problems.append(
                    Problem(_rel(path, root), "unreadable", f"{path}: cannot stat: {exc.strerror}")
                )
        stack.extend(reversed(subdirs))


def is_input_file(path: Path) -> bool:
    """An image, or a comic archive whose pages are images."""
    return path.suffix.lower() in IMAGE_SUFFIXES | ARCHIVE_SUFFIXES


def discover(
    inputs: list[Path],
    output: Path | None,
    target_lang: str,
    fmt: str = "same",
    max_archive_bytes: int = archive.DEFAULT_MAX_BYTES,
) -> Discovery:
    """Expand ``inputs`` into jobs. Raises :class:`NoInputError` when nothing is found,
    :class:`UsageError` when two inputs would be mirrored under the same name, and
    :class:`OutputError` when an output folder is an input. A
    :class:`~imgtrans.filelist.ListedPaths` (a file list) is mirrored from the current folder."""
    from imgtrans.filelist import ListedPaths, discover_listed

    if isinstance(inputs, ListedPaths):
        return discover_listed(inputs, output, target_lang, fmt, max_archive_bytes)
    roots = _roots(inputs)
    mirror = output is not None and len(roots) > 1
    if mirror:
        _check_unique_names(roots)
    outs = {root: _output_root(root, output, target_lang, mirror) for root in roots}
    # Output folders never feed the walk: an explicit -o inside an input tree is carved out
    # of it (and said so); a default one inside an input tree is refused.
    carved = [output.resolve()] if output is not None else list(outs.values())
    for out_root in outs.values():
        for root in roots:
            if out_root == root:
                raise OutputError(
                    f"output folder {out_root} is the input {root}: choose another -o"
                )
            if root in out_root.parents and output is None:
                raise OutputError(f"default output {out_root} would be inside the input {root}")
    found = _Found(roots, carved, max_archive_bytes)
    for root in roots:
        found.add_root(root, outs[root], fmt)
    if not found.jobs and not found.problems:
        raise NoInputError(
            "no images found in "
            + ", ".join(str(p) for p in inputs)
            + f" (looked for {', '.join(sorted(IMAGE_SUFFIXES | ARCHIVE_SUFFIXES))})"
        )
    return Discovery(found.jobs, found.problems, found.warnings, found.archives)


def _roots(inputs: list[Path]) -> list[Path]:
    """Resolved input roots, each once: the same folder given twice, or a folder and a file
    or folder inside it, is one input."""
    resolved: list[Path] = []
    for given in inputs:
        if not given.exists():
            raise NoInputError(f"input not found: {given}")
        root = given.resolve()
        if root not in resolved:
            resolved.append(root)
    roots = []
    for root in resolved:
        covered = [
            other
            for other in resolved
            if other.is_dir() and other in root.parents and _walked(root)
        ]
        if covered:
            log.info("%s is inside the input %s: taken once, as part of it", root, covered[0])
        else:
            roots.append(root)
    return roots


def _walked(path: Path) -> bool:
    """True when walking a folder above ``path`` finds it (a folder, or an image file)."""
    return path.is_dir() or is_input_file(path)


def _check_unique_names(roots: list[Path]) -> None:
    by_name: dict[str, Path] = {}
    for root in roots:
        if root.name in by_name:
            raise UsageError(
                f"inputs {by_name[root.name]} and {root} have the same name '{root.name}': "
                "under one -o each input is written to a folder of its own name "
                "(as cp -r would); give them separate -o folders or rename one"
            )
        by_name[root.name] = root


def _output_root(root: Path, output: Path | None, target_lang: str, mirror: bool) -> Path:
    """Where ``root``'s tree is mirrored: ``-o`` itself, ``-o/<root name>`` when several
    inputs share one ``-o``, else the sibling ``<input>_<lang>``."""
    if output is None:
        return default_output_root(root, target_lang).resolve()
    out = output.resolve()
    return out / root.name if mirror and root.is_dir() else out


class _Found:
    """Jobs and problems collected over every input root."""

    def __init__(
        self,
        roots: list[Path],
        carved: list[Path],
        max_archive_bytes: int = archive.DEFAULT_MAX_BYTES,
    ) -> None:
        self.roots = roots
        self.carved = carved
        self.max_archive_bytes = max_archive_bytes
        self.archives: list[archive.ArchivePlan] = []
        self.jobs: list[Job] = []
        self.problems: list[Problem] = []
        self.warnings: list[tuple[str, str]] = []
        self.by_output: dict[Path, Job] = {}

    def add_root(self, root: Path, out_root: Path, fmt: str) -> None:
        if root.is_dir():
            files = [(p, p.relative_to(root)) for p in _walk(root, self.problems)]
            files = self._without_outputs(root, files)
        else:
            files = [(root, Path(root.name))]
        for path, rel in files:
            self.add_file(path, rel, out_root, fmt)

    def add_file(self, path: Path, rel: Path, out_root: Path, fmt: str) -> None:
        """One input file (``rel`` to its root): an image, or every page of an archive."""
        if not archive.is_archive(path):
            out = out_root / rel.with_suffix(output_suffix(path, fmt))
            self.add(Job(path, rel.as_posix(), out, sidecar_path(out)), out_root)
            return
        try:
            infos = archive.entries(path, self.max_archive_bytes)
        except PageError as exc:
            self.problems.append(Problem(rel.as_posix(), exc.kind, str(exc)))
            return
        pages = {
            i.filename: PurePosixPath(i.filename).with_suffix(output_suffix(Path(i.filename), fmt))
            for i in infos
            if not i.is_dir() and Path(i.filename).suffix.lower() in IMAGE_SUFFIXES
        }
        folder = out_root / rel.with_suffix("")
        accepted: dict[str, str] = {}  # a refused page (a clash, say) is carried over as is
        for member, page in pages.items():
            out = folder / page
            before = len(self.jobs)
            self.add(
                Job(path, f"{rel.as_posix()}/{member}", out, sidecar_path(out), member), out_root
            )
            if len(self.jobs) > before:
                accepted[member] = page.as_posix()
        if accepted:
            names = [(i.filename, accepted.get(i.filename)) for i in infos]
            self.archives.append(archive.plan(path, rel, out_root, names))

    def _without_outputs(
        self, root: Path, files: list[tuple[Path, Path]]
    ) -> list[tuple[Path, Path]]:
        """Drop the files of an output folder that lies inside the input tree (said once)."""
        for folder in self.carved:
            if root not in folder.parents:
                continue
            kept = [(p, r) for p, r in files if not _is_within(p.resolve(), folder)]
            message = (
                f"output folder {folder} is inside the input {root}: its files are not read "
                "as inputs"
            )
            self.warnings.append((_rel(folder, root), message))
            files = kept
        return files

    def add(self, job: Job, out_root: Path) -> None:
        problem = self._problem(job, out_root)
        if problem is not None:
            self.problems.append(Problem(job.rel_path, *problem))
            return
        self.by_output[job.output] = self.by_output[job.sidecar] = job  # a.png, a.jpg
        self.jobs.append(job)

    def _problem(self, job: Job, out_root: Path) -> tuple[str, str] | None:
        out = job.output
        if not _is_within(out, out_root):
            return "output_path", f"{job.source}: output {out} escapes {out_root}"
        for path in (out, job.sidecar):
            victim = self._input_at(path)
            if victim is not None:
                return "output_path", (
                    f"{job.source}: its output {path} would overwrite the input {victim}: "
                    "skipped (choose another -o)"
                )
        too_long = [p.name for p in (out, job.sidecar) if len(os.fsencode(p.name)) > NAME_MAX]
        if too_long:
            return "name_too_long", (
                f"{job.source}: the output name {too_long[0]!r} is longer than {NAME_MAX} "
                "bytes (shorten the file name)"
            )
        clash = self.by_output.get(out) or self.by_output.get(job.sidecar)
        if clash is not None:
            return "output_clash", (
                f"{job.source}: its output {out} (or its sidecar) is already the output of "
                f"{clash.source}; skipped (use separate -o folders or --format)"
            )
        return None

    def _input_at(self, path: Path) -> Path | None:
        """The input root ``path`` lies in (outside any output folder carved out of it)."""
        for root in self.roots:
            if _is_within(path, root) and not any(
                root in folder.parents and _is_within(path, folder) for folder in self.carved
            ):
                return root if root.is_file() else path
        return None


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to its input root ("/"-separated), as the run summary names it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


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
    (``fingerprint``), and its output image exists (``needs_image``), or when its sidecar
    was edited by hand (the edit is kept, with a warning). Decided before any page is
    scheduled, in I/O threads (hashing releases the GIL)."""
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
    if doc is None:
        return False, None
    if not needs_image or job.output.is_file():
        try:
            if sidecar.is_done(doc, source_sha256(job), fingerprint):
                return True, None
        except (OSError, PageError):
            return False, None  # the load stage says what is wrong with the file
    if sidecar.edited(doc):
        return True, (
            f"{job.sidecar}: edited since imgtrans wrote it: page {job.rel_path} not redone, "
            "so the edit is kept (imgtrans render re-letters it; --overwrite redoes it)"
        )
    return False, None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_sha256(job: Job) -> str:
    """sha256 of the input's bytes: the file's, or the archive entry's."""
    if job.member is None:
        return file_sha256(job.source)
    return hashlib.sha256(archive.read_member(job.source, job.member)).hexdigest()


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
