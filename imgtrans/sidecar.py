"""The JSON sidecar: what was read, translated and drawn, beside each output image.

The document is :class:`imgtrans.sidecar_models.Sidecar` (``imgtrans schema`` prints its
JSON Schema, kept in ``imgtrans/sidecar.schema.json``). The sidecar is written after the image, atomically, so
"sidecar says ok" implies the image is complete. It is also an input: the resume check
and ``imgtrans render`` read it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import ValidationError

from imgtrans.errors import PageError
from imgtrans.page import Page, TextBlock
from imgtrans.sidecar_models import (
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    BlockRecord,
    ErrorRecord,
    OutputRecord,
    RunRecord,
    Sidecar,
    SourceRecord,
)

__all__ = ["SCHEMA_VERSION", "OutputRecord", "Sidecar"]


@cache
def schema() -> dict[str, Any]:
    """The shipped JSON Schema (``sidecar.schema.json``, generated from the models)."""
    text = resources.files("imgtrans").joinpath("sidecar.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def validate(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``doc`` breaks the schema."""
    import jsonschema

    jsonschema.validate(doc, schema())


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run that go in every sidecar's ``run`` section."""

    version: str
    models: dict[str, str]
    translator: str
    options_sha256: str
    inpainter: str
    source_lang: str
    target_lang: str

    def record(self) -> RunRecord:
        return RunRecord(
            imgtrans=self.version,
            models=dict(self.models),
            translator=self.translator,
            inpainter=self.inpainter,
            options_sha256=self.options_sha256,
        )


def block_json(block: TextBlock) -> dict[str, Any]:
    return BlockRecord.of(block).model_dump(mode="json")


# Names that are not UTF-8 reach Python as lone surrogates (U+DC80..U+DCFF, one per
# undecodable byte: ``os.fsdecode``), which pydantic refuses. Inside the sidecar models they
# travel as characters of a private-use block (U+10FD80..U+10FDFF); on disk they are the
# JSON escapes of the surrogates (``\\udce9``), so ``os.fsencode`` of the string that
# ``json.loads`` gives back returns the original bytes.
_SURROGATE, _PRIVATE = 0xDC80, 0x10FD80
_TO_PRIVATE = {_SURROGATE + i: _PRIVATE + i for i in range(128)}
_TO_SURROGATE = {v: k for k, v in _TO_PRIVATE.items()}


def safe_text(text: str) -> str:
    """``text`` with the surrogates of undecodable name bytes made model-safe."""
    return text.translate(_TO_PRIVATE)


def real_text(text: str) -> str:
    """The inverse of :func:`safe_text`: a name as the file system has it."""
    return text.translate(_TO_SURROGATE)


def real_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A sidecar read with :func:`read_checked` with its names as the file system has them."""
    result: dict[str, Any] = _deep(doc, real_text)
    return result


def _deep(value: Any, convert: Any) -> Any:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {k: _deep(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, convert) for v in value]
    return value


def page_record(
    page: Page,
    run: RunInfo,
    output: OutputRecord | None,
    status: Literal["ok", "failed", "skipped"],
    error: tuple[str, str] | None = None,
) -> Sidecar:
    """The sidecar of one page (``status`` ok/failed/skipped)."""
    return Sidecar(
        source=SourceRecord(
            path=safe_text(page.rel_path), sha256=page.sha256, width=page.width, height=page.height
        ),
        output=output,
        source_lang=page.source_lang or run.source_lang,
        target_lang=run.target_lang,
        status=status,
        error=None if error is None else ErrorRecord(kind=error[0], message=safe_text(error[1])),
        notes=[safe_text(note) for note in page.notes],
        blocks=[BlockRecord.of(b) for b in page.blocks],
        run=run.record(),
    )


def page_json(
    page: Page,
    run: RunInfo,
    output_rel: str | None,
    status: Literal["ok", "failed", "skipped"],
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The sidecar document of one page, as JSON types."""
    output = None if output_rel is None else OutputRecord(path=safe_text(output_rel))
    return page_record(page, run, output, status, error).to_json()


def failed_json(
    rel_path: str, sha256: str | None, run: RunInfo, kind: str, message: str
) -> dict[str, Any]:
    """Sidecar for an input that failed before it became a page."""
    return Sidecar(
        source=SourceRecord(path=safe_text(rel_path), sha256=sha256, width=None, height=None),
        output=None,
        source_lang=run.source_lang,
        target_lang=run.target_lang,
        status="failed",
        error=ErrorRecord(kind=kind, message=safe_text(message)),
        blocks=[],
        run=run.record(),
    ).to_json()


TEMP_SUFFIX = ".imgtrans.part"
_IN_PROGRESS: set[str] = set()  # temp files this process is writing now
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+" + re.escape(TEMP_SUFFIX) + "$")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, rename over ``path``.

    The temp file is ``.<name>.<pid>.<random>.imgtrans.part`` (``name`` shortened so the
    temp name stays within the 255-byte limit): on any error (disk full, SIGTERM in a
    worker) it is removed; if the process is killed outright, the pid in its name lets
    :func:`sweep_temp_files` of a later run remove it safely. The file gets the mode a
    plain ``open(path, "w")`` would give it (``0666 & ~umask``), not mkstemp's ``0600``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{_shortened(path.name)}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    _IN_PROGRESS.add(tmp)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _IN_PROGRESS.discard(tmp)


def _shortened(name: str) -> str:
    """``name`` cut so ``.<name>.<pid>.<8 random>.imgtrans.part`` fits in 255 bytes."""
    room = 255 - len(f"..{os.getpid()}.12345678{TEMP_SUFFIX}")
    raw = os.fsencode(name)
    return name if len(raw) <= room else os.fsdecode(raw[:room])


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux
    ``/proc/self/status``); elsewhere set and restored at once."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_temp_files_in_progress() -> None:
    """Remove this process's half-written temp files (a worker's SIGTERM handler calls this
    just before the worker exits)."""
    for tmp in list(_IN_PROGRESS):
        with contextlib.suppress(OSError):
            Path(tmp).unlink()


def write_all(fh: BinaryIO, data: bytes, chunk: int = 1 << 20) -> None:
    """Write ``data`` in chunks (a fault-injection point for disk-full tests)."""
    view = memoryview(data)
    for start in range(0, len(view), chunk):
        fh.write(view[start : start + chunk])


def sweep_temp_files(folders: Iterable[Path]) -> int:
    """Remove temp files of dead imgtrans processes (killed mid-write) from ``folders``.

    Temp files of live processes (another imgtrans run writing the same tree) are kept.
    Returns how many were removed.
    """
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match is None or _pid_alive(int(match.group(1))):
                continue
            with contextlib.suppress(OSError):
                Path(entry.path).unlink()
                removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


SEAL = "written_sha256"  # sha256 of the sidecar's content as imgtrans wrote it


def dumps(doc: Any, indent: int | None = None) -> str:
    """JSON text that is valid UTF-8 even when a file name is not: the surrogate escapes of
    undecodable name bytes become ``\\udcXX`` escapes, so ``os.fsencode`` of the name read
    back gives the original bytes."""
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def content_sha256(doc: dict[str, Any]) -> str:
    """sha256 of ``doc`` without its seal, independent of key order and formatting."""
    body = {k: v for k, v in doc.items() if k != SEAL}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("ascii")).hexdigest()


def edited(doc: dict[str, Any]) -> bool:
    """True when the sidecar was changed since imgtrans wrote it (its seal does not match):
    a rerun must not overwrite such a sidecar without ``--overwrite``. A sidecar without a
    seal (from an imgtrans version before seals) counts as not edited."""
    seal = doc.get(SEAL)
    return isinstance(seal, str) and seal != content_sha256(doc)


def write(path: Path, doc: dict[str, Any], seal: bool = True) -> None:
    """Write ``doc`` atomically; ``seal`` records the hash of what was written, so a later
    run can tell a hand edit (``imgtrans render`` keeps the old seal: its edits stay
    edits)."""
    if seal:
        doc = {**doc, SEAL: content_sha256(doc)}
    doc = _deep(doc, real_text)
    atomic_write_bytes(path, dumps(doc, indent=1).encode("utf-8") + b"\n")


def read(path: Path) -> dict[str, Any] | None:
    """The sidecar at ``path``, or None when absent, unreadable, not UTF-8 or not ours."""
    return read_checked(path)[0]


def read_checked(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(sidecar, None), or (None, why it cannot be used) for a corrupt / foreign file, or
    (None, None) when there is no file. Any readable schema version is accepted."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "is not UTF-8"
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON ({exc.msg} at line {exc.lineno})"
    if not isinstance(doc, dict) or doc.get("schema_version") not in READABLE_VERSIONS:
        versions = ", ".join(map(str, READABLE_VERSIONS))
        return None, f"is not an imgtrans sidecar of schema version {versions}"
    return _deep(doc, safe_text), None


def load(path: Path) -> Sidecar:
    """The sidecar at ``path`` as a :class:`Sidecar` (any readable schema version);
    :class:`PageError` ``bad_sidecar`` naming the file and the field when it cannot be."""
    doc, problem = read_checked(path)
    if doc is None:
        raise PageError("bad_sidecar", f"{path}: {problem or 'not found'}")
    try:
        return Sidecar.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise PageError("bad_sidecar", f"{path}: {where}: {first['msg']}") from None


def is_done(doc: dict[str, Any] | None, sha256: str, options_sha256: str) -> bool:
    """True when ``doc`` records a finished page for these input bytes and options."""
    if doc is None or doc.get("status") != "ok":
        return False
    source = doc.get("source") or {}
    run = doc.get("run") or {}
    return bool(source.get("sha256") == sha256 and run.get("options_sha256") == options_sha256)
