"""Comic archives (``.cbz``, ``.zip``) as inputs.

Layout: ``sub/book.cbz`` under an input root becomes, under the output root,

    sub/book.cbz                    the translated archive: the same entries in the same
                                    order with the same names (pages re-encoded in place,
                                    other entries such as ComicInfo.xml copied as they are)
    sub/book/<page>                 each translated page and its <stem>.imgtrans.json
    sub/book/imgtrans-archive.json  the entry list, so ``imgtrans render`` can rebuild it

Pages are ordinary jobs (``Job.member`` names the entry), so resume works per page. The
``.cbz`` is (re)built atomically once every page is done, and only when a page changed
since it was last built. A corrupt archive, an entry with an absolute path or ``..``, and an
archive whose uncompressed size passes ``--max-archive-bytes`` are refused whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from imgtrans import sidecar
from imgtrans.errors import PageError

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = frozenset({".cbz", ".zip"})
MANIFEST = "imgtrans-archive.json"
DEFAULT_MAX_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class ArchivePlan:
    """One input archive: where its translated ``.cbz`` and page folder go."""

    source: Path
    rel_path: str  # of the archive, relative to its input root
    output: Path  # the translated .cbz
    folder: Path  # pages and sidecars
    entries: tuple[tuple[str, str | None], ...]  # (entry name, page output name or None)

    def page_outputs(self) -> list[Path]:
        return [self.folder / out for _, out in self.entries if out is not None]


def is_archive(path: Path) -> bool:
    return path.suffix.lower() in ARCHIVE_SUFFIXES


def unsafe_name(name: str) -> bool:
    """An absolute path, a drive letter or a ``..`` component: it could point outside."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts or (":" in (parts[0] if parts else ""))


def plan(
    path: Path, rel: Path, out_root: Path, page_name: Iterable[tuple[str, str | None]]
) -> ArchivePlan:
    """Plan for ``path``; ``page_name`` maps each entry to its page output name (or None)."""
    folder_rel = rel.with_suffix("")
    return ArchivePlan(
        path,
        rel.as_posix(),
        out_root / folder_rel.with_suffix(".cbz"),
        out_root / folder_rel,
        tuple(page_name),
    )


def entries(path: Path, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The archive's entries, checked. Raises ``PageError`` (kind ``bad_archive``,
    ``unsafe_archive`` or ``too_large``) naming the archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PageError("bad_archive", f"{path}: not a readable zip archive: {exc}") from None
    bad = [i.filename for i in infos if unsafe_name(i.filename)]
    if bad:
        raise PageError(
            "unsafe_archive",
            f"{path}: refused: the entry {bad[0]!r} has an absolute path or '..'",
        )
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise PageError(
            "too_large",
            f"{path}: refused: {total} bytes uncompressed is over the limit of {max_bytes} "
            "(raise it with --max-archive-bytes)",
        )
    return infos


def read_member(path: Path, member: str) -> bytes:
    """One entry's bytes (worker side). Corruption is a ``PageError`` for that page."""
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read(member)
    except KeyError:
        raise PageError("unreadable", f"{path}: entry {member!r} is gone") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise PageError("truncated", f"{path}: entry {member!r} is corrupt: {exc}") from None
    if not data:
        raise PageError("empty", f"{path}: entry {member!r} is empty (0 bytes)")
    return data


def write_manifest(archive: ArchivePlan) -> None:
    doc = {"archive": archive.output.name, "source": archive.rel_path}
    doc["entries"] = [list(e) for e in archive.entries]  # type: ignore[assignment]
    sidecar.atomic_write_bytes(archive.folder / MANIFEST, json.dumps(doc, indent=1).encode())


def _pages_not_done(archive: ArchivePlan) -> list[str]:
    """Names of the pages that are not done (no image, or a sidecar that does not say ok)."""
    missing = []
    for out in archive.page_outputs():
        doc = sidecar.read(sidecar_of(out)) if out.is_file() else None
        if doc is None or doc.get("status") != "ok":
            missing.append(out.relative_to(archive.folder).as_posix())
    return missing


def sidecar_of(page: Path) -> Path:
    from imgtrans.discover import sidecar_path

    return sidecar_path(page)


def up_to_date(archive: ArchivePlan, base: Path) -> bool:
    if not archive.output.is_file():
        return False
    built = archive.output.stat().st_mtime_ns
    newer = [p for p in [base, *archive.page_outputs()] if p.stat().st_mtime_ns > built]
    return not newer


def assemble(archive: ArchivePlan, base: Path) -> str | None:
    """Build ``archive.output`` from the page folder, taking the other entries from ``base``
    (the source archive, or the earlier output for ``imgtrans render``). Returns why it was
    not built, or None."""
    missing = _pages_not_done(archive)
    if missing:
        return (
            f"{archive.output}: not written: {len(missing)} page(s) not done "
            f"(first: {missing[0]}); a rerun does them and writes it"
        )
    if up_to_date(archive, base):
        return None
    write_manifest(archive)
    archive.output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{archive.output.name}.{os.getpid()}.",
        suffix=sidecar.TEMP_SUFFIX,
        dir=archive.output.parent,
    )
    try:
        os.fchmod(fd, 0o666 & ~sidecar.current_umask())
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as out:
                _copy_entries(archive, base, out)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(archive.output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return None


def _copy_entries(archive: ArchivePlan, base: Path, out: zipfile.ZipFile) -> None:
    with zipfile.ZipFile(base) as src:
        names = set(src.namelist())
        for name, page in archive.entries:
            if page is not None:
                # Images are compressed already: stored, in the source's order and name.
                info = zipfile.ZipInfo(page, _date_time(src, name, names))
                out.writestr(info, (archive.folder / page).read_bytes(), zipfile.ZIP_STORED)
            else:
                info = src.getinfo(name)
                out.writestr(info, src.read(info))


def _date_time(
    src: zipfile.ZipFile, name: str, names: set[str]
) -> tuple[int, int, int, int, int, int]:
    return src.getinfo(name).date_time if name in names else (1980, 1, 1, 0, 0, 0)


def assemble_all(archives: list[ArchivePlan]) -> list[tuple[str, str]]:
    """After a translate run: build every archive whose pages are all done. Returns
    (archive, message) warnings for those that are not."""
    warnings = []
    for archive in archives:
        try:
            why = assemble(archive, archive.source)
        except (OSError, zipfile.BadZipFile) as exc:
            why = f"{archive.output}: cannot write: {exc}"
        if why:
            log.warning("%s", why)
            warnings.append((archive.rel_path, why))
        else:
            log.debug("%s: written", archive.output)
    return warnings


def rebuild_after_render(sidecars: Iterable[Path]) -> list[str]:
    """After ``imgtrans render``: rebuild the ``.cbz`` of every page folder it touched."""
    problems = []
    for folder in sorted({p.parent for p in sidecars}):
        top = _archive_folder(folder)
        if top is None:
            continue
        doc = json.loads((top / MANIFEST).read_text("utf-8"))
        output = top.parent / str(doc["archive"])
        if not output.is_file():
            problems.append(f"{output}: not rebuilt: it was never written (rerun translate)")
            continue
        # The earlier output is the base: it holds every entry under its output name.
        names = tuple((str(out or name), out) for name, out in doc["entries"])
        why = assemble(ArchivePlan(output, str(doc["source"]), output, top, names), output)
        if why:
            problems.append(why)
    return problems


def _archive_folder(folder: Path) -> Path | None:
    """The page folder of an archive that ``folder`` is (or is inside), if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / MANIFEST).is_file():
            return candidate
    return None


def source_page(input_root: Path, rel_path: str, sha256: object) -> bytes | None:
    """The bytes of a page given as ``<archive>/<entry>`` relative to ``input_root`` (as a
    sidecar's ``source.path`` names a page of a comic archive) when they still match
    ``sha256``; None otherwise."""
    parts = rel_path.split("/")
    for i, part in enumerate(parts[:-1]):
        if Path(part).suffix.lower() in ARCHIVE_SUFFIXES:
            path = input_root.joinpath(*parts[: i + 1])
            if not path.is_file():
                return None
            try:
                data = read_member(path, "/".join(parts[i + 1 :]))
            except PageError:
                return None
            return data if hashlib.sha256(data).hexdigest() == sha256 else None
    return None
