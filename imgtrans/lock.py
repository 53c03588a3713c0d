"""One run at a time per output folder, nested folders included.

A second run on the same output tree (cron firing again before the last run ended) would
redo every page the first one has not finished, doubling API calls, and both would write
the same files. It exits at once with :class:`OutputLocked` instead, or with ``--wait``
waits for the first to finish (and then skips what that one did).

A run takes an exclusive lock on each output root it writes and a shared lock on every
folder above it, so a run writing ``out`` and one writing ``out/a`` exclude each other
while runs writing ``out/a`` and ``out/b`` do not. Locks are taken in one global order
(by path), so two runs that ``--wait`` cannot deadlock. They are OS locks held through
``filelock``'s reader/writer lock (an SQLite database per folder): released when the
process ends, however it ends, so a run killed outright never leaves a stale lock behind.
The lock files live in the cache folder (``locks/<sha256 of the folder's path>.lock``),
not in the output tree, which holds only outputs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from filelock import ReadWriteLock, Timeout

from imgtrans.errors import OutputError, OutputLocked

log = logging.getLogger(__name__)


def lock_path(root: Path) -> Path:
    """The lock file of the output root ``root`` (an absolute path)."""
    from imgtrans.translators.cache import default_cache_dir

    digest = hashlib.sha256(os.fsencode(str(root))).hexdigest()
    return default_cache_dir() / "locks" / f"{digest}.lock"


@contextmanager
def output_locks(roots: Iterable[Path], wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on every output root and a shared one on every folder above
    it for the duration of the block (``roots``: absolute paths)."""
    with ExitStack() as stack:
        for folder, exclusive in _wanted(roots):
            lock = _lock(folder)
            if not _try_acquire(lock, folder, exclusive):
                if not wait:
                    raise OutputLocked(_busy(folder, exclusive))
                log.warning("waiting for the other imgtrans run writing %s to finish", folder)
                (lock.acquire_write if exclusive else lock.acquire_read)()
            stack.callback(lock.release)
        yield


def _wanted(roots: Iterable[Path]) -> list[tuple[Path, bool]]:
    """(folder, exclusive) for each root and each folder above one, in path order."""
    wanted: dict[Path, bool] = {}
    for root in roots:
        wanted[root] = True
        for parent in root.parents:
            wanted.setdefault(parent, False)
    return sorted(wanted.items(), key=lambda item: os.fsencode(str(item[0])))


def _busy(folder: Path, exclusive: bool) -> str:
    if exclusive:
        what = f"{folder} (or a folder inside it) is being written by another imgtrans run"
    else:
        what = f"{folder}, which holds this run's output, is being written by another imgtrans run"
    return f"{what} (it holds {lock_path(folder)}); rerun when it has finished, or add --wait"


def _try_acquire(lock: ReadWriteLock, root: Path, exclusive: bool) -> bool:
    try:
        (lock.acquire_write if exclusive else lock.acquire_read)(blocking=False)
    except Timeout:
        return False
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(
            f"the lock of output folder {root} cannot be taken: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return True


def _lock(root: Path) -> ReadWriteLock:
    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"the lock folder {path.parent} cannot be created: {exc.strerror or exc} "
            "(set IMGTRANS_CACHE_DIR)"
        ) from None
    return ReadWriteLock(path, is_singleton=False)
