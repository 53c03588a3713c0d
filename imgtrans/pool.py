"""The worker pool: process pool work that survives a dying worker and ends with the run.

A worker that dies (segfault in a codec, the kernel's OOM killer, ``os._exit``) breaks a
``ProcessPoolExecutor``: every task in flight fails with ``BrokenProcessPool``. This pool
then starts a fresh executor and reruns each of those tasks alone, so only the task that
kills a worker again fails (:class:`WorkerCrashed`, a per-page error) and the others finish.

Workers ignore SIGINT (the main process decides what an interrupt means), remove their
half-written temp file and exit at once on SIGTERM, and exit when the main process is gone
(``kill -9``), so no orphan keeps running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from imgtrans import sidecar, transport
from imgtrans.errors import PageError

log = logging.getLogger(__name__)

PARENT_POLL_S = 0.5


class WorkerCrashed(PageError):
    """The worker process died while working on this task (and again when run alone)."""

    def __init__(self, message: str) -> None:
        super().__init__("worker_crashed", message)


class InlineExecutor(Executor):
    """Runs submitted work at once in this process (``--jobs 1``, and tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


@dataclass
class Task:
    """One submitted call; ``future`` is replaced when the task is rerun after a crash."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    label: str
    future: Future[Any]
    id: int = field(default=0)
    packed: bytes | None = None  # args as sent to a worker process (transport.dumps)
    blocks: tuple[str, ...] = ()  # their shared-memory blocks, freed with the result


WORKER_MEMORY = 768 << 20  # bytes a worker may need (measured peak ~400 MiB on a spread)
MAIN_MEMORY = 2 << 30  # kept for the main process (models, pages in flight)


def usable_cores() -> int:
    """CPU cores this process may run on (affinity, and a cgroup v2 quota when set)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux ``MemAvailable``), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def worker_count(requested: int = 0) -> int:
    """Worker processes for ``--jobs requested`` (0: choose): at most one per usable core and
    as many as the available memory holds (``WORKER_MEMORY`` each, ``MAIN_MEMORY`` kept for
    the main process). An explicit value above that is lowered, with a warning saying why."""
    cores = usable_cores()
    memory = available_memory()
    by_memory = cores if memory is None else max(1, (memory - MAIN_MEMORY) // WORKER_MEMORY)
    limit = max(1, min(cores, by_memory))
    if requested <= 0:
        return limit
    if requested > limit:
        free = "unknown" if memory is None else f"{memory / (1 << 30):.1f} GiB"
        log.warning(
            "--jobs %d lowered to %d: %d usable CPU core(s), %s of memory available "
            "(~%d MiB per worker)",
            requested,
            limit,
            cores,
            free,
            WORKER_MEMORY >> 20,
        )
        return limit
    return requested


def _worker_init(parent_pid: int) -> None:
    transport.set_run_pid(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    # Exit at once, wherever the worker is (an exception could be caught by the executor's
    # own result-sending code and leave the worker blocked); only the half-written temp file
    # needs removing.
    sidecar.remove_temp_files_in_progress()
    os._exit(128 + signum)


def _watch_parent(parent_pid: int) -> None:
    """End this worker when the main process is gone (killed with SIGKILL)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)


class WorkerPool:
    """``jobs`` spawn-context worker processes (``jobs <= 1``: run inline)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        if jobs > 1 and (freed := transport.sweep_orphans()):
            log.info("freed %d shared-memory block(s) left by a killed run", freed)
        self._executor = self._new_executor()
        self._tasks: dict[int, Task] = {}
        self._ids = count()
        self.restarts = 0

    def _new_executor(self) -> Executor:
        if self.jobs <= 1:
            return InlineExecutor()
        return ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[..., Any], *args: Any, label: str = "") -> Task:
        """Run ``fn(*args)`` in a worker. Large arrays in ``args`` (and in the result) cross
        in shared memory, not through the pipe (see :mod:`imgtrans.transport`)."""
        task = Task(fn, args, label, Future(), next(self._ids))
        if self.jobs > 1:
            task.packed, task.blocks = transport.dumps(args)
        self._tasks[task.id] = task
        try:
            task.future = self._send(task)
        except BrokenProcessPool as exc:  # broke since the last result(): recover there
            task.future.set_exception(exc)
        return task

    def _send(self, task: Task) -> Future[Any]:
        if task.packed is None:
            return self._executor.submit(task.fn, *task.args)
        return self._executor.submit(transport.call_packed, task.fn, task.packed)

    def result(self, task: Task) -> Any:
        """The task's return value; raises what it raised, or :class:`WorkerCrashed`."""
        try:
            try:
                value = task.future.result()
            except BrokenProcessPool:
                self._recover()
                value = task.future.result()
            if task.packed is None:
                return value
            data, blocks = value
            return transport.receive(data, blocks)
        finally:
            self._tasks.pop(task.id, None)
            transport.release_sent(task.blocks)

    def _recover(self) -> None:
        """Fresh executor; rerun every task the crash took down, one at a time."""
        outstanding = list(self._tasks.values())
        wait_futures([t.future for t in outstanding], timeout=30)
        hit = [t for t in outstanding if _broken(t.future)]
        log.warning(
            "a worker process died; restarting the pool and retrying %d page(s) one by one",
            len(hit),
        )
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()
        self.restarts += 1
        for task in hit:
            fut = self._send(task)
            wait_futures([fut])
            if _broken(fut):
                fut = Future()
                fut.set_exception(
                    WorkerCrashed(
                        f"{task.label}: the worker process died on this page (crash or "
                        "killed for memory; try a smaller --max-pixels or fewer --jobs)"
                    )
                )
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            task.future = fut

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        self._release_all()

    def _release_all(self) -> None:
        """Free the shared memory of tasks whose result was never collected, and of
        results whose arrays are gone, and the blocks kept for reuse."""
        transport.sweep()
        transport.release_spare()
        for task in list(self._tasks.values()):
            transport.release(task.blocks)
            fut = task.future
            done = task.packed is not None and fut.done() and not fut.cancelled()
            if done and fut.exception() is None:
                transport.release(fut.result()[1])
        self._tasks.clear()

    def abort(self, grace: float = 3.0) -> None:
        """Stop now: queued work is cancelled, work in progress gets ``grace`` seconds to
        finish, then its workers are terminated (SIGTERM: temp files are removed)."""
        executor = self._executor
        procs = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(2.0)
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
        self._release_all()
        transport.release_owned()  # the pages in flight are dropped


def _broken(fut: Future[Any]) -> bool:
    if not fut.done():
        return True
    return not fut.cancelled() and isinstance(fut.exception(), BrokenProcessPool)
