"""benchmarks/host.py (host CPU per page, models replayed) runs in a tiny configuration, and
its recording answers a model call exactly as the model did, whatever the batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from replay import ReplayOcrBackend, Store  # noqa: E402


class _Model:
    """A per-sample model: each output depends only on its own input sample."""

    calls = 0

    def det(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        return batch.mean(axis=1) * 2.0

    def cls(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        return batch.reshape(len(batch), -1)[:, :2]

    def rec_best(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        flat = batch.reshape(len(batch), -1)
        return flat.argmax(axis=1)[:, None], flat.max(axis=1)[:, None]


def test_replay_answers_each_sample_whatever_its_batch(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    samples = rng.random((5, 3, 8, 8), dtype=np.float32)
    model = _Model()
    recorder = ReplayOcrBackend(Store(tmp_path / "rec"), model)
    want_det = recorder.det(samples[:3])
    want_best = recorder.rec_best(samples)
    assert model.calls == 2
    replay = ReplayOcrBackend(Store(tmp_path / "rec"), model)  # a fresh process reads files
    got = replay.det(samples[[2, 0]])  # other batch, other order
    assert np.array_equal(got, want_det[[2, 0]])
    best, prob = replay.rec_best(samples[3:])
    assert np.array_equal(best, want_best[0][3:]) and np.array_equal(prob, want_best[1][3:])
    assert model.calls == 2 and replay.store.misses == 0 and replay.store.hits == 4
    replay.det(samples[3:4])  # never seen by det: computed and recorded
    assert model.calls == 3 and replay.store.misses == 1
    assert replay.store.overhead_s > 0


@pytest.mark.slow
def test_host_benchmark_runs_tiny(tmp_path: Path) -> None:
    out = tmp_path / "host.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    args = ["--spreads", "1", "--no-devset", "--copies", "2", "--jobs", "2"]
    args += ["--inpainter", "opencv", "--work", str(tmp_path / "work"), "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "host.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "## Stages, one process" in proc.stdout and "ceiling on a 16-core" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["pages"] == 1
    stages = result["stages"]
    names = ("load", "ocr", "mask", "inpaint", "translate", "render", "encode", "sidecar")
    assert stages["total"]["mean"] > 0
    assert stages["total"]["mean"] == pytest.approx(sum(stages[s]["mean"] for s in names))
    runs = result["pipeline"]["runs"]
    assert [runs[k]["pages"] for k in ("1", "2")] == [1, 2]
    for run in runs.values():
        # Every model call of the pipeline was answered from the recording of the stage pass.
        assert run["failed"] == 0 and run["misses"] == 0 and run["hits"] > 0
    assert result["pipeline"]["ceiling_pages_s"] > 0
    assert (tmp_path / "work" / "out_x2" / "c1" / "spread_000.jpg").is_file()
