"""One run at a time per output folder: a lock per output root.

A second run on the same output tree (cron firing again before the last run ended) would
redo every page the first one has not finished, doubling API calls, and both would write
the same files. It exits at once with :class:`OutputLocked` instead, or with ``--wait``
waits for the first to finish (and then skips what that one did). The lock is an OS lock
on the file (``filelock``): it is released when the process ends, however it ends, so a
run killed outright never leaves a stale lock behind. The lock files live in the cache
folder (``locks/<sha256 of the output root's path>.lock``), not in the output tree, which
holds only outputs.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from imgtrans.errors import OutputError, OutputLocked
from imgtrans.sidecar import current_umask

log = logging.getLogger(__name__)


def lock_path(root: Path) -> Path:
    """The lock file of the output root ``root`` (an absolute path)."""
    from imgtrans.translators.cache import default_cache_dir

    digest = hashlib.sha256(os.fsencode(str(root))).hexdigest()
    return default_cache_dir() / "locks" / f"{digest}.lock"


@contextmanager
def output_locks(roots: Iterable[Path], wait: bool = False) -> Iterator[None]:
    """Hold the lock of every output root (taken in sorted order, so two waiting runs
    cannot deadlock) for the duration of the block."""
    with ExitStack() as stack:
        for root in sorted(set(roots)):
            lock = _lock(root)
            if not _try_acquire(lock, root):
                if not wait:
                    raise OutputLocked(
                        f"{root} is being written by another imgtrans run (it holds "
                        f"{lock_path(root)}); rerun when it has finished, or add --wait"
                    )
                log.warning("waiting for the other imgtrans run writing %s to finish", root)
                lock.acquire()
            stack.callback(lock.release)
        yield


def _try_acquire(lock: FileLock, root: Path) -> bool:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    except OSError as exc:
        raise OutputError(f"output folder {root} is not writable: {exc.strerror or exc}") from None
    return True


def _lock(root: Path) -> FileLock:
    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"the lock folder {path.parent} cannot be created: {exc.strerror or exc} "
            "(set IMGTRANS_CACHE_DIR)"
        ) from None
    return FileLock(path, mode=0o666 & ~current_umask(), thread_local=False)
