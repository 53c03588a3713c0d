"""Moving work between processes without pickling whole images through a pipe.

A decoded page is 5.8 MB (1654 x 1170 RGB); a finished one carries three such arrays.
Pickled through a process pool's pipe, every array is copied three times and read in
64 KB pieces by the receiving process: ~10 ms of the main process's CPU per page (measured,
benchmarks/RESULTS.md). :func:`dumps` instead puts every numpy array of at least
:data:`MIN_BYTES` into its own ``multiprocessing.shared_memory`` block and pickles only its
name; :func:`loads` copies it out (one ``memcpy``). The sender owns the blocks: it calls
:func:`release` once the receiver is done with them (a task that may be rerun after a
worker crash still finds its arguments).
"""

from __future__ import annotations

import contextlib
import io
import pickle
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

MIN_BYTES = 256 << 10  # smaller arrays travel inside the pickle


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blocks: list[str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blocks = blocks

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray or obj.nbytes < MIN_BYTES or obj.dtype.hasobject:
            return NotImplemented
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


def loads(data: bytes) -> Any:
    """The object :func:`dumps` packed (its arrays copied out of shared memory)."""
    return pickle.loads(data)


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
