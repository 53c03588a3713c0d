"""Interruptions of the real CLI process: SIGTERM / Ctrl-C end every worker; ``kill -9``
mid-batch leaves nothing that a rerun cannot finish, and the finished tree equals an
uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_KO, Text, draw, save
from PIL import Image
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import ExitCode

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
WORDS = ["Hello", "Station", "Coffee", "Window", "Garden", "Market", "Bridge", "Castle"]
runner = CliRunner()


def make_pages(folder: Path, count: int) -> Path:
    for i in range(count):
        text = Text(WORDS[i % len(WORDS)], (24, 24), 40, font=FONT_KO)
        save(draw(300, 100, [text]), folder / f"p{i:02d}.png")
    return folder


def make_tm(path: Path) -> Path:
    korean = ["안녕", "역", "커피", "창문", "정원", "시장", "다리", "성"]
    path.write_text(
        "".join(f"{w}\t{k}\n" for w, k in zip(WORDS, korean, strict=True)), encoding="utf-8"
    )
    return path


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc (no psutil)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return {p for p in pids if alive(p)}


def start(src: Path, out: Path, tm: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "imgtrans", "translate", str(src), "--to", "ko", "--tm", str(tm)]
        + ["-o", str(out), "-j", "2", "--batch-size", "2", "-q"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job would be
    )


def ok_sidecars(out: Path) -> list[Path]:
    found = []
    for path in out.glob("*.imgtrans.json"):
        try:
            if json.loads(path.read_text("utf-8"))["status"] == "ok":
                found.append(path)
        except (OSError, ValueError):
            continue
    return found


def wait_for(out: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(ok_sidecars(out)) < count:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".part")]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT-group"])
def test_interrupt_ends_every_worker_and_leaves_no_partial_file(tmp_path: Path, how: str) -> None:
    """SIGTERM to the main process (a service manager) or SIGINT to the whole process group
    (Ctrl-C in a terminal): exit 143 / 130, no worker left running, no temp file."""
    src, out = make_pages(tmp_path / "in", 24), tmp_path / "out"
    proc = start(src, out, make_tm(tmp_path / "tm.tsv"))
    wait_for(out, 2, proc)
    children = descendants(proc.pid)
    assert children, "expected worker processes"
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    expected = ExitCode.TERMINATED if how == "SIGTERM" else ExitCode.INTERRUPTED
    assert proc.returncode == expected, err.decode()
    assert wait_gone(children, timeout=2) == set()  # gone by the time the main process exits
    assert temp_files(out) == []
    for path in out.glob("*.imgtrans.json"):  # whatever exists is complete
        doc = json.loads(path.read_text("utf-8"))
        assert doc["status"] == "ok"
        with Image.open(out / doc["output"]["path"]) as img:
            img.load()


def outputs(folder: Path) -> list[str]:
    """The names in an output folder but the run lock (see imgtrans/lock.py)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".imgtrans.lock")


def test_kill_9_then_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    src, out, ref = make_pages(tmp_path / "in", 24), tmp_path / "out", tmp_path / "ref"
    tm = make_tm(tmp_path / "tm.tsv")
    proc = start(src, out, tm)
    wait_for(out, 4, proc)
    children = descendants(proc.pid)
    proc.kill()  # SIGKILL to the main process only: its workers are orphaned
    proc.communicate(timeout=30)
    # Orphaned workers notice their parent is gone and end by themselves.
    assert wait_gone(children, timeout=10) == set()
    finished = len(ok_sidecars(out))
    assert 4 <= finished < 24, finished

    args = ["translate", str(src), "--to", "ko", "--tm", str(tm), "-j", "1", "--json", "-q"]
    rerun = runner.invoke(app, [*args, "-o", str(out)])
    assert rerun.exit_code == ExitCode.OK, rerun.output
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == finished and summary["done"] == 24 - finished
    assert temp_files(out) == []

    full = runner.invoke(app, [*args, "-o", str(ref)])
    assert full.exit_code == ExitCode.OK, full.output
    names = outputs(ref)
    assert outputs(out) == names
    assert len(names) == 48
    for name in names:
        if name.endswith(".imgtrans.json"):
            assert (out / name).read_bytes() == (ref / name).read_bytes(), name
        else:
            with Image.open(out / name) as a, Image.open(ref / name) as b:
                assert np.array_equal(np.asarray(a), np.asarray(b)), name
