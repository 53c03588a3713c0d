"""Resource faults: a worker process that dies, out-of-memory in a model stage, a
translator that fails for the whole run; and no network traffic without an API backend."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import Any

import pytest
import torch
from drawing import FONT_KO, Text, draw, save
from faults import crash
from typer.testing import CliRunner

from imgtrans import RunOptions, translate_images
from imgtrans.cli import app
from imgtrans.errors import ExitCode, TranslatorError
from imgtrans.pipeline import OomFailure, is_out_of_memory, run_with_oom_backoff
from imgtrans.pool import WorkerCrashed, WorkerPool
from imgtrans.translators import REGISTRY, register
from imgtrans.translators.base import ContextPair, Translation, Translator

runner = CliRunner()
WORDS = ["Hello", "Station", "Coffee", "Window", "Garden", "Market"]


def cli(*args: object) -> tuple[int, str, dict | None]:
    result = runner.invoke(app, [str(a) for a in args])
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return result.exit_code, result.output, summary


def pages(folder: Path, count: int = 6) -> Path:
    for i in range(count):
        save(draw(360, 110, [Text(WORDS[i % len(WORDS)], (30, 25), 44, font=FONT_KO)]),
             folder / f"p{i}.png")  # fmt: skip
    return folder


def options(out: Path, **kw: Any) -> RunOptions:
    """Options of ``translate --to ko -t none -o OUT`` plus ``kw``."""
    return RunOptions(target_lang="ko", output=out, device="cpu", **kw)


def doc(out: Path, name: str) -> dict:
    return json.loads((out / Path(name).with_suffix(".imgtrans.json")).read_text("utf-8"))


# --- out of memory -------------------------------------------------------------------------


def test_oom_halves_the_batch_and_keeps_order() -> None:
    sizes: list[int] = []

    def stage(items: list[int]) -> list[int]:
        sizes.append(len(items))
        if len(items) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [10 * x for x in items]

    assert run_with_oom_backoff(stage, list(range(11)), 8) == [10 * x for x in range(11)]
    assert sizes == [8, 4, 2, 2, 2, 2, 2, 1]  # halved twice, then the smaller batch is kept


def test_an_item_that_runs_out_of_memory_alone_fails_alone() -> None:
    def stage(items: list[int]) -> list[int]:
        if 3 in items:
            raise RuntimeError("CUDA error: out of memory")
        return [x + 1 for x in items]

    out = run_with_oom_backoff(stage, [1, 2, 3, 4, 5], 4)
    assert out[:2] == [2, 3] and out[3:] == [5, 6]
    assert isinstance(out[2], OomFailure) and "--batch-size" in out[2].message


def test_other_errors_are_not_retried() -> None:
    calls = []

    def stage(items: list[int]) -> list[int]:
        calls.append(items)
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        run_with_oom_backoff(stage, [1, 2, 3, 4], 4)
    assert len(calls) == 1
    assert is_out_of_memory(MemoryError()) and not is_out_of_memory(RuntimeError("shape"))


def test_oom_in_the_pipeline_fails_only_the_page_that_cannot_fit(tmp_path: Path) -> None:
    seen: list[int] = []

    def hungry(name: str, stage: Any) -> Any:
        if name != "mask":
            return stage

        def hungry_mask(batch: list[Any]) -> Any:
            seen.append(len(batch))
            if len(batch) > 1 or batch[0].rel_path == "p2.png":
                raise torch.cuda.OutOfMemoryError("CUDA out of memory")
            return stage(batch)

        return hungry_mask

    src = pages(tmp_path / "in", 4)
    summary = translate_images([src], options(tmp_path / "o", jobs=1, batch_size=4), wrap=hungry)
    assert summary.done == 3 and summary.failed == 1
    assert doc(tmp_path / "o", "p2.png")["error"]["kind"] == "out_of_memory"
    assert seen[:3] == [4, 2, 1]


# --- a worker process dies -----------------------------------------------------------------


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_page(tmp_path: Path) -> None:
    """One worker dies while writing p3 and another while decoding p5: the pool is rebuilt,
    the pages that were in flight with them are redone, and only p3 and p5 fail."""
    src = pages(tmp_path / "in", 8)
    out = tmp_path / "o"
    wrap = crash({"write": {"p3.png"}, "load": {"p5.png"}})
    summary = translate_images([src], options(out, jobs=2, batch_size=2), wrap=wrap)
    assert {f["path"]: f["kind"] for f in summary.failures} == {
        "p3.png": "worker_crashed",
        "p5.png": "worker_crashed",
    }
    assert summary.done == 6 and summary.worker_restarts >= 1
    for i in range(8):
        expected = "failed" if i in (3, 5) else "ok"
        assert doc(out, f"p{i}.png")["status"] == expected, i
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def _square(x: int) -> int:
    return x * x


def _die(code: int) -> int:
    os._exit(code)


@pytest.mark.slow
def test_pool_reruns_the_tasks_a_crash_took_down_even_those_submitted_after() -> None:
    pool = WorkerPool(2)
    try:
        before = [pool.submit(_square, i, label=f"t{i}") for i in range(4)]
        bad = pool.submit(_die, 3, label="bad")
        wait_futures([bad.future], timeout=60)  # the pool is broken now
        after = [pool.submit(_square, i, label=f"t{i}") for i in range(4, 7)]
        assert [pool.result(t) for t in before] == [0, 1, 4, 9]
        with pytest.raises(WorkerCrashed, match="bad: the worker process died"):
            pool.result(bad)
        assert [pool.result(t) for t in after] == [16, 25, 36]
        assert pool.restarts >= 1
    finally:
        pool.shutdown()


# --- the translator fails mid-run ----------------------------------------------------------


class FlakyTranslator(Translator):
    """Translates by upper-casing until ``broken_after`` calls, then fails for the whole run
    (as an exhausted quota does)."""

    name = "flaky"
    broken_after: int | None = 2
    calls = 0

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        type(self).calls += 1
        if self.broken_after is not None and type(self).calls > self.broken_after:
            raise TranslatorError("flaky: quota exhausted for this month")
        return [Translation(t.upper()) for t in texts]


@pytest.fixture
def flaky() -> Iterator[type[FlakyTranslator]]:
    register("flaky", lambda options: FlakyTranslator())
    FlakyTranslator.calls = 0
    yield FlakyTranslator
    REGISTRY.pop("flaky", None)


def test_translator_failure_stops_cleanly_and_the_rerun_resumes(
    tmp_path: Path, flaky: type[FlakyTranslator]
) -> None:
    src, out = pages(tmp_path / "in", 6), tmp_path / "o"
    args = ("translate", src, "--to", "ko", "-t", "flaky", "-o", out, "-j", "1",
            "--batch-size", "1", "--json")  # fmt: skip
    code, text, _ = cli(*args)
    assert code == ExitCode.TRANSLATOR and "quota exhausted" in text
    finished = sorted(p.name for p in out.glob("*.imgtrans.json"))
    assert finished == ["p0.imgtrans.json", "p1.imgtrans.json"]
    for name in ("p0.png", "p1.png"):
        page = doc(out, name)
        assert page["status"] == "ok" and page["blocks"][0]["translation"].isupper()
        assert (out / name).is_file()
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]

    flaky.broken_after = None  # quota renewed
    code, text, summary = cli(*args)
    assert code == ExitCode.OK, text
    assert summary and summary["skipped"] == 2 and summary["done"] == 4
    assert all(doc(out, f"p{i}.png")["status"] == "ok" for i in range(6))


# --- no network without an API translator --------------------------------------------------


@pytest.mark.parametrize("translator", ["none", "tm"])
def test_offline_translators_open_no_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, translator: str
) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError(f"network connection attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\n", encoding="utf-8")
    code, text, summary = cli(
        "translate", pages(tmp_path / "in", 2), "--to", "ko", "-t", translator, "--tm", tm,
        "-o", tmp_path / "o", "-j", "1", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, text
    assert summary and summary["done"] == 2
    assert attempts == []
