"""Large arrays cross between processes in shared memory, exactly, and are freed after."""

from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np
import pytest

from imgtrans import transport
from imgtrans.pool import WorkerPool


@dataclass(frozen=True)
class _Pageish:
    name: str
    image: np.ndarray
    small: np.ndarray


def brighten(page: _Pageish, by: int) -> _Pageish:
    """Worker function (module level, so a spawned worker can import it)."""
    return _Pageish(page.name + "!", page.image + by, page.small + by)


def _exists(name: str) -> bool:
    try:
        SharedMemory(name=name).close()
    except FileNotFoundError:
        return False
    return True


def _page() -> _Pageish:
    rng = np.random.default_rng(0)
    return _Pageish(
        "p", rng.integers(0, 200, (600, 800, 3), dtype=np.uint8), np.arange(10, dtype=np.int16)
    )


def test_dumps_moves_large_arrays_only_and_loads_copies_them_back() -> None:
    page = _page()
    data, blocks = transport.dumps((page, 3))
    try:
        assert len(blocks) == 1  # the image; the small array travels in the pickle
        assert len(data) < 10_000 < page.image.nbytes
        back, by = transport.loads(data)
        assert by == 3 and back.name == "p"
        assert np.array_equal(back.image, page.image) and back.image.dtype == np.uint8
        assert np.array_equal(back.small, page.small)
    finally:
        transport.release(blocks)
    assert not any(_exists(b) for b in blocks)
    transport.release(blocks)  # twice: nothing left, no error


@pytest.mark.parametrize("jobs", [1, 2])
def test_pool_round_trip_is_exact_and_frees_shared_memory(jobs: int) -> None:
    page = _page()
    pool = WorkerPool(jobs)
    try:
        tasks = [pool.submit(brighten, page, k, label=str(k)) for k in range(3)]
        sent = [b for t in tasks for b in t.blocks]
        assert len(sent) == (3 if jobs > 1 else 0)
        for k, task in enumerate(tasks):
            out = pool.result(task)
            assert out.name == "p!" and np.array_equal(out.image, page.image + k)
            assert np.array_equal(out.small, page.small + k)
    finally:
        pool.shutdown()
    assert not any(_exists(b) for b in sent)


def test_received_arrays_map_their_block_travel_on_by_name_and_free_it_when_gone() -> None:
    """The process feeding the device copies nothing: a result's arrays map their blocks,
    are sent on by name, and their blocks go when the arrays do."""
    import gc

    page = _page()
    data, blocks = transport.dumps(page)
    back = transport.receive(data, blocks)  # it owns the block now
    assert np.array_equal(back.image, page.image) and back.image.flags.writeable
    assert _exists(blocks[0])
    again, more = transport.dumps((back, 1))
    assert more == ()  # by the name of its block: nothing copied into a new one
    twin, by = transport.loads(again)  # a worker's copy
    assert by == 1 and np.array_equal(twin.image, page.image)
    twin.image[0, 0] = 7  # the copy is the worker's own
    assert back.image[0, 0, 0] == page.image[0, 0, 0]
    del back
    gc.collect()
    transport.sweep()
    assert not _exists(blocks[0])


def _same(page: _Pageish) -> _Pageish:
    """Worker function: hands its page back unchanged."""
    return page


def _scribble(page: _Pageish) -> _Pageish:
    """Worker function: writes into the image it was sent."""
    page.image[0, 0] = 1
    return page


def test_workers_borrow_arguments_read_only_and_hand_unchanged_arrays_back_by_name() -> None:
    import gc

    page = _page()
    pool = WorkerPool(2)
    try:
        first = pool.result(pool.submit(_same, page, label="a"))  # now in a block of ours
        task = pool.submit(_same, first, label="b")
        assert task.blocks == ()  # sent by name
        again = pool.result(task)
        assert again.image is first.image  # came back by name: the same array, no copy
        with pytest.raises(ValueError, match="read-only"):
            pool.result(pool.submit(_scribble, first, label="c"))
        assert np.array_equal(first.image, page.image)
    finally:
        pool.shutdown()
    name = transport._MAPPED[id(first.image)][1]
    del first, again, task
    gc.collect()
    transport.sweep()
    assert not _exists(name)


def test_argument_blocks_are_reused_for_arrays_of_their_size_and_freed_at_the_end() -> None:
    page = _page()
    pool = WorkerPool(2)
    try:
        first = pool.submit(brighten, page, 1, label="a")
        [used] = first.blocks
        pool.result(first)
        assert _exists(used)  # kept: its pages are there for the next array of its size
        second = pool.submit(brighten, page, 2, label="b")
        assert second.blocks == (used,)
        out = pool.result(second)
        assert np.array_equal(out.image, page.image + 2)
    finally:
        pool.shutdown()
    assert not _exists(used)


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_blocks_of_a_run_that_is_gone_are_freed_when_a_run_starts(tmp_path: Path) -> None:
    from multiprocessing import resource_tracker

    dead, names = _dead_pid(), []
    for pid in (dead, os.getpid()):
        shm = SharedMemory(f"{transport.PREFIX}{pid}_test{len(names)}", create=True, size=4096)
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
        shm.close()
        names.append(shm.name)
    other = SharedMemory(create=True, size=4096)  # not imgtrans's: never touched
    try:
        assert transport.sweep_orphans() >= 1
        assert not _exists(names[0])  # its run is gone
        assert _exists(names[1]) and _exists(other.name)  # this process is alive
    finally:
        for name in names[1:]:
            transport.release((name,))
        other.close()
        other.unlink()


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs Linux /dev/shm")
def test_a_run_killed_with_its_whole_process_group_leaves_nothing_after_the_next(
    tmp_path: Path,
) -> None:
    """kill -9 of the process group (a cron job's cgroup stopped) takes the resource
    tracker too: the run's blocks would stay in memory until the next boot."""
    import signal
    import subprocess
    import sys
    import time

    from drawing import FONT_KO, Text, draw, save

    src = tmp_path / "in"
    for i in range(24):
        save(
            draw(1200, 900, [Text(f"Page {i} here", (40, 80), 40, font=FONT_KO)]),
            src / f"p{i:02d}.png",
        )
    args = [sys.executable, "-m", "imgtrans", "translate", str(src), "--to", "ko", "-t", "none",
            "-o", str(tmp_path / "out"), "-j", "2", "--batch-size", "2", "-q"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(args, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list((tmp_path / "out").glob("*.imgtrans.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    mine = f"{transport.PREFIX}{proc.pid}_"
    assert [p for p in Path("/dev/shm").iterdir() if p.name.startswith(mine)]  # left behind
    done = subprocess.run(args, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(mine)]
