"""``--executor ray`` on a local Ray cluster the tests start (2 CPUs, shared by the tests of
this module: Ray starts slowly): the same files as the local executor, a worker killed
mid-run has its pages retried and each written once, progress and summary as with local.

Ray comes with the ``ray`` extra (``pip install -e ".[ray]"``), which ``.ci/run`` installs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from drawing import FONT_KO, Text, draw, save
from faults import crash
from PIL import Image
from typer.testing import CliRunner

from imgtrans import RunOptions, TranslatorOptions, translate_images
from imgtrans.cli import app
from imgtrans.pipeline import Summary

ray = pytest.importorskip("ray", reason='Ray is not installed: pip install -e ".[ray]"')

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    """One local Ray cluster for the module; its workers import the tests' helpers too."""
    path = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield
    ray.shutdown()


def same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name.endswith(".json"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
        else:
            with Image.open(a / name) as x, Image.open(b / name) as y:
                assert np.array_equal(np.asarray(x), np.asarray(y)), name


def cli(*args: object) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_example_writes_the_same_files_as_local(tmp_path: Path) -> None:
    base = ("translate", EXAMPLES / "pages", "--to", "ko", "--tm", EXAMPLES / "tm.tsv", "--json")
    local = cli(*base, "-o", tmp_path / "local", "-q")
    on_ray = cli(*base, "-o", tmp_path / "ray", "-q", "--executor", "ray")
    assert on_ray == local and local["done"] == 4
    same_files(tmp_path / "local", tmp_path / "ray")


class Recorder:
    def __init__(self) -> None:
        self.total = 0
        self.seen: list[tuple[str, str]] = []

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, path: str, status: str) -> None:
        self.seen.append((path, status))

    def close(self) -> None:
        pass


def test_a_killed_worker_has_its_page_retried_and_written_once(tmp_path: Path) -> None:
    words = ["Hello", "Station", "Coffee", "Window"]
    src = tmp_path / "in"
    for i, word in enumerate(words):
        save(draw(360, 110, [Text(word, (30, 25), 44, font=FONT_KO)]), src / f"p{i}.png")
    (src / "bad.png").write_bytes(b"not an image")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\nStation\t역\nCoffee\t커피\n", "utf-8")
    options = RunOptions(
        target_lang="ko", batch_size=2, translator=TranslatorOptions(name="tm", tm=tm)
    )
    local = translate_images([src], options.model_copy(update={"output": tmp_path / "local"}))

    markers, log = tmp_path / "markers", tmp_path / "writes.log"
    markers.mkdir()
    wrap = crash({"write": {"p1.png"}}, once=markers, count=log)
    progress = Recorder()
    on_ray = translate_images(
        [src],
        options.model_copy(update={"output": tmp_path / "ray", "executor": "ray"}),
        progress=progress,
        wrap=wrap,
    )
    assert (markers / "p1.png").exists()  # the worker writing p1 died once
    writes = Counter(line.split("\t")[1] for line in log.read_text("utf-8").splitlines())
    assert writes == {f"p{i}.png": 1 for i in range(4)} | {"bad.png": 1}  # each written once
    assert asdict(on_ray) == asdict(local) and local.done == 4 and local.failed == 1
    assert progress.total == 5 and sorted(progress.seen) == sorted(
        [(f"p{i}.png", "ok") for i in range(4)] + [("bad.png", "failed")]
    )
    same_files(tmp_path / "local", tmp_path / "ray")
    assert not list((tmp_path / "ray").glob(".*.part"))


class StopAfterFirst(Recorder):
    """Progress that is interrupted (Ctrl-C) once the first page is recorded."""

    def advance(self, path: str, status: str) -> None:
        super().advance(path, status)
        raise KeyboardInterrupt


def test_an_interrupted_run_leaves_its_counts_in_the_callers_summary(tmp_path: Path) -> None:
    """``--json`` prints the caller's summary after a Ctrl-C: it must hold what was done."""
    src = tmp_path / "in"
    for i, word in enumerate(["Hello", "Station", "Coffee"]):
        save(draw(360, 110, [Text(word, (30, 25), 44, font=FONT_KO)]), src / f"p{i}.png")
    tm = tmp_path / "tm.tsv"
    tm.write_text("Hello\t안녕\n", "utf-8")
    options = RunOptions(
        target_lang="ko",
        batch_size=1,
        executor="ray",
        output=tmp_path / "out",
        translator=TranslatorOptions(name="tm", tm=tm),
    )
    summary = Summary()
    with pytest.raises(KeyboardInterrupt):
        translate_images([src], options, progress=StopAfterFirst(), summary=summary)
    assert summary.total == 3
    assert summary.done + summary.failed == 1
