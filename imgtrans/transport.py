"""Moving work between processes without pickling whole images through a pipe.

A decoded page is 5.8 MB (1654 x 1170 RGB); a finished one carries three such arrays.
Pickled through a process pool's pipe, every array is copied three times and read in
64 KB pieces by the receiving process: ~10 ms of the main process's CPU per page (measured,
benchmarks/RESULTS.md). :func:`dumps` instead puts every numpy array of at least
:data:`MIN_BYTES` into its own ``multiprocessing.shared_memory`` block and pickles only its
name; :func:`loads` copies it out (one ``memcpy``). The sender owns the blocks: it calls
:func:`release` once the receiver is done with them (a task that may be rerun after a
worker crash still finds its arguments).

The process that feeds the device keeps its CPU for the device: it loads results with
``keep=True``, which copies nothing. Each array then maps its block and owns it (the block
is unlinked once the array is garbage: :func:`sweep`), and :func:`dumps` sends such an array on by the name
of its block again, so a page image crosses to and from the workers at every step of the
model stages without this process copying it. Arrays received this way are shared with the
worker that made them no more (it has sent them) and with the workers they are sent to only
by copy (a worker's :func:`loads` copies): writing to them is safe, as to any array.
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
import weakref
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

_posixshmem: Any
try:
    _posixshmem = importlib.import_module("_posixshmem")
except ImportError:  # not POSIX: results are copied out, as everywhere before
    _posixshmem = None

MIN_BYTES = 256 << 10  # smaller arrays travel inside the pickle


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blocks: list[str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blocks = blocks

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray or obj.nbytes < MIN_BYTES or obj.dtype.hasobject:
            return NotImplemented
        kept = _KEPT.get(id(obj))
        if kept is not None and kept[0]() is obj:  # it lives in a block already: its name
            return _attach, (kept[1], obj.shape, obj.dtype.str)
        shm = SharedMemory(create=True, size=obj.nbytes)
        try:
            view: np.ndarray = np.ndarray(obj.shape, obj.dtype, buffer=shm.buf)
            view[...] = obj
            del view
            self.blocks.append(shm.name)
        except BaseException:
            shm.close()
            shm.unlink()
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


# id -> (weak reference, block name) of the arrays loaded with keep=True. No finalizer frees
# a block (code run by the garbage collector would swallow a Ctrl-C that lands in it): a block
# whose array is gone is freed by the next :func:`sweep`, the rest when the process exits.
_KEPT: dict[int, tuple[weakref.ref[np.ndarray], str]] = {}


def _attach_kept(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """The block mapped as an array that owns it (no copy)."""
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        size = math.prod(shape) * np.dtype(dtype).itemsize
        buf = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    out: np.ndarray = np.frombuffer(buf, np.dtype(dtype)).reshape(shape)
    old = _KEPT.get(id(out))
    if old is not None:  # an array gone before a sweep had this id
        release((old[1],))
    _KEPT[id(out)] = (weakref.ref(out), name)
    return out


def sweep() -> None:
    """Free the blocks of received arrays that are gone (their views keep their mapping)."""
    gone = [key for key, (ref, _) in _KEPT.items() if ref() is None]
    for key in gone:
        release((_KEPT.pop(key)[1],))


@atexit.register
def _release_kept() -> None:
    release([name for _, name in _KEPT.values()])
    _KEPT.clear()


class _KeepingUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_attach":
            return _attach_kept
        return super().find_class(module, name)


def dumps(obj: Any) -> tuple[bytes, tuple[str, ...]]:
    """Pickle ``obj`` with its large arrays in shared memory -> (bytes, block names)."""
    buf = io.BytesIO()
    blocks: list[str] = []
    try:
        _Pickler(buf, blocks).dump(obj)
    except BaseException:
        release(blocks)
        raise
    return buf.getvalue(), tuple(blocks)


def loads(data: bytes, keep: bool = False) -> Any:
    """The object :func:`dumps` packed: its arrays copied out of shared memory, or with
    ``keep`` mapped in place, each owning its block from then on (the sender must not
    release those blocks)."""
    if keep and _posixshmem is not None:
        return _KeepingUnpickler(io.BytesIO(data)).load()
    return pickle.loads(data)


def receive(data: bytes, blocks: tuple[str, ...]) -> Any:
    """A worker's packed result, in the process that feeds the device: arrays mapped in
    place where the system allows (they own their blocks), else copied out and the blocks
    freed."""
    kept = False
    sweep()
    try:
        out = loads(data, keep=True)
        kept = _posixshmem is not None
        return out
    finally:
        if not kept:
            release(blocks)


def release(blocks: tuple[str, ...] | list[str]) -> None:
    """Free the shared-memory blocks of a :func:`dumps` result (those already gone are
    skipped)."""
    for name in blocks:
        with contextlib.suppress(FileNotFoundError):
            shm = SharedMemory(name=name)
            shm.close()
            shm.unlink()


def call_packed(fn: Any, data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Worker side: unpack the arguments, run ``fn``, pack its result (the caller releases
    both the arguments' and the result's blocks)."""
    args = loads(data)
    return dumps(fn(*args))
