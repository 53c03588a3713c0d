"""``--prune``: remove the outputs that this run's inputs no longer produce.

imgtrans never deletes a file on its own; with ``--prune`` a run that finished cleans its
output folders of what it can prove it wrote itself and what is now stale:

- the sidecar of an input that is gone (deleted or renamed), with the files it names;
- the image of an earlier run in another format (``--format`` changed), named by the
  page's previous sidecar.

A sidecar edited by hand is never pruned, nor anything it names; files no sidecar names are
never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from imgtrans import sidecar
from imgtrans.discover import SIDECAR_SUFFIX
from imgtrans.page import Job

log = logging.getLogger(__name__)


def named_files(path: Path, doc: dict[str, Any]) -> list[Path]:
    """The files a sidecar names (its image and erased background), inside its folder."""
    output = doc.get("output") or {}
    found = []
    for key in ("path", "clean"):
        name = output.get(key)
        if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
            found.append(path.parent / sidecar.real_text(name))
    return found


def replaced(job: Job, previous: dict[str, Any] | None) -> list[Path]:
    """Files the page's previous sidecar named that its new outputs do not replace (an
    image in the format of an earlier run)."""
    if previous is None:
        return []
    current = {job.output, job.output.with_name(job.output.stem + ".clean.png")}
    return [p for p in named_files(job.sidecar, previous) if p not in current]


def remove(paths: Iterable[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("--prune: cannot remove %s: %s", path, exc.strerror or exc)
            continue
        log.info("--prune: removed %s", path)
        removed += 1
    return removed


def prune_orphans(out_roots: Iterable[Path], jobs: Iterable[Job]) -> tuple[int, list[str]]:
    """Remove the sidecars under ``out_roots`` that belong to no job of this run, with the
    files they name. Returns (files removed, warnings about what was kept)."""
    current = {job.sidecar for job in jobs}
    removed, kept = 0, []
    for root in out_roots:
        for path in sorted(root.rglob("*" + SIDECAR_SUFFIX)):
            if path in current or not path.is_file():
                continue
            doc = sidecar.read(path)
            if doc is None:
                continue  # not ours: never touched
            if sidecar.edited(doc):
                kept.append(f"{path}: its input is gone, but it was edited by hand: kept")
                continue
            removed += remove([*named_files(path, doc), path])
    return removed, kept
