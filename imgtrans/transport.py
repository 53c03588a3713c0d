"""Moving work between processes without pickling whole images through a pipe.

A decoded page is 5.8 MB (1654 x 1170 RGB); a finished one carries three such arrays.
Pickled through a process pool's pipe, every array is copied three times and read in
64 KB pieces by the receiving process: ~10 ms of the main process's CPU per page (measured,
benchmarks/RESULTS.md). :func:`dumps` instead puts every numpy array of at least
:data:`MIN_BYTES` into its own ``multiprocessing.shared_memory`` block and pickles only its
name; :func:`loads` copies it out (one ``memcpy``). The sender owns the blocks: it calls
:func:`release` once the receiver is done with them (a task that may be rerun after a
worker crash still finds its arguments).

The process that feeds the device keeps its CPU for the device: it :func:`receive` s
results without copying. Each array maps its block and owns it (the block is unlinked once
the array is garbage: :func:`sweep`), and :func:`dumps` sends such an array on by the name of
its block, so a page image crosses to and from the workers at every step of the model
stages without being copied. Workers map their arguments' arrays read-only (a write raises
instead of changing the sender's array) and hand back an array they did not change by name.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import math
import mmap
import os
import pickle
import secrets
import weakref
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np

_posixshmem: Any
try:
    _posixshmem = importlib.import_module("_posixshmem")
except ImportError:  # not POSIX: results are copied out, as everywhere before
    _posixshmem = None

MIN_BYTES = 256 << 10  # smaller arrays travel inside the pickle
PREFIX = "imgtrans_"  # block names: imgtrans_<pid of the run's main process>_<random>
_run_pid = os.getpid()  # a worker is told its run's (set_run_pid)


def set_run_pid(pid: int) -> None:
    """In a worker: the run's main process, whose pid names the blocks this one makes."""
    global _run_pid
    _run_pid = pid


def _new_block(size: int) -> SharedMemory:
    """A new block named for the run (short enough for macOS's 31-character limit)."""
    while True:
        try:
            name = f"{PREFIX}{_run_pid}_{secrets.token_hex(4)}"
            return SharedMemory(name, create=True, size=size)
        except FileExistsError:  # 1 in 4 billion: draw again
            continue


def sweep_orphans(folder: str = "/dev/shm") -> int:  # where Linux keeps POSIX shared memory
    """Free the blocks of runs whose main process is gone: a run killed outright, with its
    resource tracker (``kill -9`` of the process group), leaves its blocks in memory until
    the next boot. Called when a run starts; returns how many were freed."""
    try:
        paths = [p for p in Path(folder).iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return 0
    freed = 0
    for path in paths:
        pid = path.name[len(PREFIX) :].split("_", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            freed += 1
    return freed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blocks: list[str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blocks = blocks
        # Only arrays come to Python here (a reducer_override would be called for every
        # object of a page: a few milliseconds of the main process per page).
        self.dispatch_table = {np.ndarray: self.reduce_array}

    def reduce_array(self, obj: np.ndarray) -> Any:
        if obj.nbytes < MIN_BYTES or obj.dtype.hasobject:
            return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        mapped = _MAPPED.get(id(obj))
        if mapped is not None and mapped[0]() is obj:  # it lives in a block already: its name
            return _attach, (mapped[1], obj.shape, obj.dtype.str)
        spare = _SPARE.get(obj.nbytes)
        if spare:  # a block of this size done with: its pages are there already
            shm = SharedMemory(name=spare.pop())
        else:
            shm = _new_block(obj.nbytes)
            _SIZES[shm.name] = obj.nbytes
        try:
            view: np.ndarray = np.ndarray(obj.shape, obj.dtype, buffer=shm.buf)
            view[...] = obj
            del view
            self.blocks.append(shm.name)
        except BaseException:
            shm.close()
            release((shm.name,))
            raise
        shm.close()
        return _attach, (shm.name, obj.shape, obj.dtype.str)


def _attach(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    shm = SharedMemory(name=name)
    try:
        view: np.ndarray = np.ndarray(shape, np.dtype(dtype), buffer=shm.buf)
        out = view.copy()
        del view
    finally:
        shm.close()
    return out


# Arrays mapped in place: id -> (weak reference, block name, owned). The process that feeds
# the device owns the blocks of the results it receives (one array per block: _OWNERS); a
# worker borrows its arguments' blocks read-only. No finalizer frees a block (code run by the
# garbage collector would swallow a Ctrl-C that lands in it): a block whose owning array is
# gone is freed by the next :func:`sweep`, the rest when the process exits.
_MAPPED: dict[int, tuple[weakref.ref[np.ndarray], str, bool]] = {}
_OWNERS: dict[str, weakref.ref[np.ndarray]] = {}


def _map(name: str, shape: tuple[int, ...], dtype: str, owned: bool) -> np.ndarray:
    """The block mapped as an array (no copy); owned, or borrowed read-only."""
    known = _OWNERS.get(name)
    if owned and known is not None and (arr := known()) is not None:
        return arr  # sent back as it was: the array this process already has
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        buf = mmap.mmap(fd, math.prod(shape) * np.dtype(dtype).itemsize)
    finally:
        os.close(fd)
    out: np.ndarray = np.frombuffer(buf, np.dtype(dtype)).reshape(shape)
    _forget(id(out))  # an array gone before a sweep had this id
    _MAPPED[id(out)] = (weakref.ref(out), name, owned)
    if owned:
        _OWNERS[name] = _MAPPED[id(out)][0]
    else:
        out.flags.writeable = False  # the owner's pixels: a worker writes to copies only
    return out


def _attach_owned(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return _map(name, shape, dtype, owned=True)


def _attach_borrowed(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return _map(name, shape, dtype, owned=False)


def _forget(key: int) -> None:
    entry = _MAPPED.pop(key, None)
    if entry is not None and entry[2]:
        _OWNERS.pop(entry[1], None)
        release((entry[1],))


def sweep() -> None:
    """Free the blocks of received arrays that are gone (their views keep their mapping)."""
    for key in [key for key, (ref, _, _) in _MAPPED.items() if ref() is None]:
        _forget(key)


@atexit.register
def release_owned() -> None:
    """Free the blocks of every received array (a run stopping: its pages are dropped; the
    arrays still mapped stay readable until they are gone)."""
    release(list(_OWNERS))
    _OWNERS.clear()
    _MAPPED.clear()


class _MappingUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, attach: Any) -> None:
        super().__init__(io.BytesIO(data))
        self.attach = attach

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_attach":
            return self.attach
        return super().find_class(module, name)


def dumps(obj: Any) -> tuple[bytes, tuple[str, ...]]:
    """Pickle ``obj`` with its large arrays in shared memory -> (bytes, block names). An
    array mapped from a block (:func:`receive`, a worker's arguments) goes by that block's
    name: no copy, and not among the new blocks."""
    buf = io.BytesIO()
    blocks: list[str] = []
    try:
        _Pickler(buf, blocks).dump(obj)
    except BaseException:
        release(blocks)
        raise
    return buf.getvalue(), tuple(blocks)


def loads(data: bytes) -> Any:
    """The object :func:`dumps` packed (its arrays copied out of shared memory)."""
    return pickle.loads(data)


def receive(data: bytes, blocks: tuple[str, ...]) -> Any:
    """A worker's packed result, in the process that feeds the device: arrays mapped in
    place where the system allows (they own their blocks), else copied out and the blocks
    freed."""
    sweep()
    if _posixshmem is None:
        try:
            return loads(data)
        finally:
            release(blocks)
    try:
        return _MappingUnpickler(data, _attach_owned).load()
    except BaseException:
        release([b for b in blocks if b not in _OWNERS])
        raise


# Blocks this process made for arguments (name -> size), and those done with, kept for the
# next array of the same size (a detector map, a page): writing into a fresh block costs
# more in page faults than the copy, and unlinking one frees its pages.
_SIZES: dict[str, int] = {}
_SPARE: dict[int, list[str]] = {}
SPARE_MAX = 32  # blocks kept at most


def release_sent(blocks: tuple[str, ...] | list[str]) -> None:
    """Done with the blocks :func:`dumps` made for a task's arguments: kept for reuse (up to
    :data:`SPARE_MAX`) or freed; those its result, received since, owns (a worker handed the
    array back as it was) are left to their array."""
    for name in blocks:
        if name in _OWNERS:
            _SIZES.pop(name, None)
            continue
        size = _SIZES.get(name)
        if size is not None and sum(map(len, _SPARE.values())) < SPARE_MAX:
            _SPARE.setdefault(size, []).append(name)
        else:
            _SIZES.pop(name, None)
            release((name,))


@atexit.register
def release_spare() -> None:
    """Free the blocks kept for reuse (the end of a run)."""
    names = [name for names in _SPARE.values() for name in names]
    _SPARE.clear()
    for name in names:
        _SIZES.pop(name, None)
    release(names)


def release(blocks: tuple[str, ...] | list[str]) -> None:
    """Free the shared-memory blocks of a :func:`dumps` result (those already gone are
    skipped)."""
    for name in blocks:
        _SIZES.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            if _posixshmem is None:
                shm = SharedMemory(name=name)
                shm.close()
                shm.unlink()
                continue
            _posixshmem.shm_unlink("/" + name)  # what SharedMemory.unlink does, unmapped
            resource_tracker.unregister("/" + name, "shared_memory")


def call_packed(fn: Any, data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Worker side: unpack the arguments (large arrays borrowed read-only from their
    blocks), run ``fn``, pack its result: arrays handed back as they came go by name (the
    caller releases both the arguments' and the result's blocks)."""
    for key in [key for key, (ref, _, _) in _MAPPED.items() if ref() is None]:
        _MAPPED.pop(key)
    if _posixshmem is None:
        return dumps(fn(*loads(data)))
    args = _MappingUnpickler(data, _attach_borrowed).load()
    return dumps(fn(*args))
