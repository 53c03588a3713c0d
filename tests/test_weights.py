"""Weight containers, safe loading, import to safetensors, and fetch over loopback HTTP."""

from __future__ import annotations

import hashlib
import pickle
import sys
import threading
import types
import warnings
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from lama_testing import TINY, tiny_lama
from torch import nn

from imgtrans.errors import MissingModelError
from imgtrans.models import weights
from imgtrans.models.lama import LamaConfig, LamaGenerator
from imgtrans.models.safe_load import UnsafeWeightsError, read_state

torch.set_num_threads(1)


# ---------------------------------------------------------------- containers


class _Holder(nn.Module):
    def __init__(self, generator: LamaGenerator) -> None:
        super().__init__()
        self.generator = generator


class _Traced(nn.Module):
    """Shaped like IOPaint's export: the generator sits at ``model.generator``."""

    def __init__(self, generator: LamaGenerator) -> None:
        super().__init__()
        self.model = _Holder(generator)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model.generator(image, mask)


class ModelCheckpoint:
    """Pretends to be a pytorch_lightning callback class inside a checkpoint."""

    def __init__(self) -> None:
        self.best_model_path = "/runs/last.ckpt"
        self.monitor = "val_ssim"


@pytest.fixture
def fake_lightning(monkeypatch: pytest.MonkeyPatch) -> type:
    names = ["pytorch_lightning", "pytorch_lightning.callbacks"]
    leaf = "pytorch_lightning.callbacks.model_checkpoint"
    for name in [*names, leaf]:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setattr(ModelCheckpoint, "__module__", leaf)
    monkeypatch.setattr(sys.modules[leaf], "ModelCheckpoint", ModelCheckpoint, raising=False)
    return ModelCheckpoint


def _omegaconf_or_dict() -> object:
    try:
        from omegaconf import OmegaConf
    except ImportError:
        return {"generator": {"kind": "ffc_resnet"}}
    return OmegaConf.create({"generator": {"kind": "ffc_resnet", "ngf": 8}})


def _write(fmt: str, model: LamaGenerator, path: Path) -> Path:
    state = model.state_dict()
    if fmt == "manga":
        disc = {"model.0.weight": torch.randn(4, 3, 3, 3)}
        blob = {"gen_state_dict": state, "dis_state_dict": disc, "config": _omegaconf_or_dict()}
        torch.save(blob, path)
    elif fmt == "manga-legacy":
        torch.save({"gen_state_dict": state}, path, _use_new_zipfile_serialization=False)
    elif fmt == "lightning":
        sd = {f"generator.{k}": v for k, v in state.items()}
        sd["discriminator.model.0.weight"] = torch.randn(4, 3, 3, 3)
        blob = {
            "state_dict": sd,
            "epoch": 40,
            "callbacks": {"ModelCheckpoint": ModelCheckpoint()},
            "hyper_parameters": _omegaconf_or_dict(),
        }
        torch.save(blob, path)
    elif fmt == "torchscript":
        example = (torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.jit.trace(_Traced(model), example).save(str(path))
    else:
        raise AssertionError(fmt)
    return path


FORMATS = ["manga", "manga-legacy", "lightning", "torchscript"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_round_trip(fmt: str, tmp_path: Path, fake_lightning: type) -> None:
    model = tiny_lama(seed=3)
    src = _write(fmt, model, tmp_path / f"src-{fmt}.bin")
    out = tmp_path / "w" / "mine.safetensors"
    digest = weights.import_weights(src, out)
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (tmp_path / "w" / "mine.safetensors.sha256").read_text().split() == [digest, out.name]
    expected = model.state_dict()
    got = read_state(out)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(got[key], value), key
    # Loads by name from the weights dir and computes what the original computes.
    loaded = weights.load_lama("cpu", name="mine", directory=tmp_path / "w")
    assert loaded.config == model.config
    x, m = torch.rand(1, 3, 32, 40), (torch.rand(1, 1, 32, 40) > 0.6).float()
    with torch.inference_mode():
        assert torch.equal(loaded(x, m), model(x, m))


def test_torchscript_read_without_jit_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write("torchscript", tiny_lama(), tmp_path / "big-lama.pt")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.jit.load must not be used")

    monkeypatch.setattr(torch.jit, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    assert len(read_state(path)) == len(tiny_lama().state_dict())


def test_infer_config_of_big_lama() -> None:
    with torch.device("meta"):
        state = LamaGenerator(LamaConfig()).state_dict()
    assert weights.infer_config(state) == LamaConfig()
    assert weights.infer_config(tiny_lama().state_dict()) == TINY


# ---------------------------------------------------------------- malicious pickles


class _Payload:
    def __init__(self, marker: Path, how: str) -> None:
        self.marker, self.how = marker, how

    def __reduce__(self) -> tuple[object, ...]:
        if self.how == "exec":
            return (exec, (f"open({str(self.marker)!r}, 'w').close()",))
        import os

        return (os.system, (f"touch '{self.marker}'",))


def _malicious(kind: str, how: str, tmp_path: Path, marker: Path) -> Path:
    state = dict(tiny_lama().state_dict())
    blob = {"gen_state_dict": state, "x": _Payload(marker, how)}
    path = tmp_path / f"evil-{kind}-{how}"
    if kind == "zip":
        torch.save(blob, path)
    elif kind == "legacy":
        torch.save(blob, path, _use_new_zipfile_serialization=False)
    else:  # a TorchScript archive whose data.pkl carries the payload
        good = _write("torchscript", tiny_lama(), tmp_path / "good.pt")
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename.endswith("/data.pkl"):
                    data = pickle.dumps(_Payload(marker, how), protocol=2)
                dst.writestr(item, data)
    return path


@pytest.mark.parametrize("kind", ["zip", "legacy", "torchscript"])
@pytest.mark.parametrize("how", ["exec", "system"])
def test_malicious_pickle_is_not_executed(kind: str, how: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _malicious(kind, how, tmp_path, marker)
    assert not marker.exists()  # writing the file did not run it
    with pytest.raises(UnsafeWeightsError):
        read_state(path)
    with pytest.raises(MissingModelError):
        weights.import_weights(path, tmp_path / "out.safetensors")
    assert not marker.exists()
    assert not (tmp_path / "out.safetensors").exists()


def test_payload_control_runs_under_plain_pickle(tmp_path: Path) -> None:
    """Proves the payload used above is live: plain pickle.loads executes it."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Payload(marker, "exec")))
    assert marker.exists()


# ---------------------------------------------------------------- registry and loading


def test_weights_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(tmp_path / "env"))
    assert weights.weights_dir() == tmp_path / "env"
    monkeypatch.delenv("IMGTRANS_WEIGHTS")
    monkeypatch.chdir(tmp_path)
    assert weights.weights_dir().name == "weights"
    assert weights.weights_dir().parent != tmp_path  # no ./weights: the user cache dir
    (tmp_path / "weights").mkdir()
    assert weights.weights_dir() == tmp_path / "weights"


def test_load_lama_missing_or_mismatched(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="imgtrans models fetch lama-manga"):
        weights.load_lama("cpu", directory=tmp_path)
    (tmp_path / "lama_large_512px.ckpt").write_bytes(b"not the real file")
    assert weights.find_verified("lama-manga", tmp_path) is None
    with pytest.raises(MissingModelError, match="11d30fbb"):
        weights.load_lama("cpu", directory=tmp_path)


def test_unknown_name_lists_known() -> None:
    with pytest.raises(Exception, match="lama-manga"):
        weights.spec_for("nope")


# ---------------------------------------------------------------- fetch over loopback


class _Server:
    """Serves ``payload`` at /w.bin; can drop the first connection half-way."""

    def __init__(self, payload: bytes, drop_first: bool = False, ranges: bool = True) -> None:
        self.payload, self.drop_first, self.ranges = payload, drop_first, ranges
        self.requests: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.headers.get("Range"))
                start = 0
                rng = self.headers.get("Range")
                if rng and server.ranges:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                body = server.payload[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.drop_first and len(server.requests) == 1:
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/w.bin"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


PAYLOAD = bytes(range(256)) * 9000  # ~2.3 MB: several chunks


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch) -> Iterator[weights.WeightSpec]:
    s = weights.WeightSpec(
        "test-w", "w.bin", "http://unused", "test", sha256=hashlib.sha256(PAYLOAD).hexdigest()
    )
    monkeypatch.setitem(weights.REGISTRY, s.name, s)
    yield s


@pytest.mark.network
def test_fetch_ok_with_progress(tmp_path: Path, spec: weights.WeightSpec) -> None:
    seen: list[tuple[int, int | None]] = []
    with _Server(PAYLOAD) as srv:
        path = weights.fetch(
            spec.name, tmp_path, url=srv.url, progress=lambda d, t: seen.append((d, t))
        )
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert not (tmp_path / "w.bin.part").exists()
    assert weights.find_verified(spec.name, tmp_path) == path


@pytest.mark.network
def test_fetch_wrong_checksum(tmp_path: Path, spec: weights.WeightSpec) -> None:
    with _Server(PAYLOAD[:-1] + b"\x00") as srv, pytest.raises(MissingModelError, match="expected"):
        weights.fetch(spec.name, tmp_path, url=srv.url)
    assert not (tmp_path / "w.bin.part").exists()
    assert not (tmp_path / "w.bin").exists()


@pytest.mark.network
@pytest.mark.parametrize("ranges", [True, False])
def test_fetch_dropped_then_resumed(tmp_path: Path, spec: weights.WeightSpec, ranges: bool) -> None:
    with _Server(PAYLOAD, drop_first=True, ranges=ranges) as srv:
        with pytest.raises(MissingModelError, match="rerun"):
            weights.fetch(spec.name, tmp_path, url=srv.url)
        part = tmp_path / "w.bin.part"
        kept = part.stat().st_size
        assert 0 < kept < len(PAYLOAD)
        path = weights.fetch(spec.name, tmp_path, url=srv.url)
    assert srv.requests == [None, f"bytes={kept}-"]
    assert path.read_bytes() == PAYLOAD  # resumed (206) or restarted (server ignored Range)
    assert not part.exists()


# ---------------------------------------------------------------- CLI


def test_cli_import_verify_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from imgtrans.cli import app

    monkeypatch.setenv("IMGTRANS_WEIGHTS", str(tmp_path / "w"))
    cli = CliRunner()
    src = _write("manga", tiny_lama(seed=5), tmp_path / "lama_large_512px.ckpt")
    result = cli.invoke(app, ["models", "import", str(src), "--name", "mine"])
    assert result.exit_code == 0, result.output
    name, digest, out = result.stdout.strip().split("\t")
    assert name == "mine" and Path(out).is_file()
    assert digest == "sha256:" + hashlib.sha256(Path(out).read_bytes()).hexdigest()
    assert cli.invoke(app, ["models", "verify", "mine"]).exit_code == 0
    listing = cli.invoke(app, ["models", "list"]).stdout
    assert "lama-manga\tabsent" in listing and "mine\tverified" in listing
    # Nothing registered is present: verify-all fails with the missing-model error.
    # (the commands run inside the main CLI's exit-code mapping: MissingModelError -> 5)
    failed = cli.invoke(app, ["models", "verify"])
    assert failed.exit_code == MissingModelError.code
    assert "imgtrans models fetch lama-manga" in " ".join(failed.output.split())
    # A corrupted registered file is a mismatch, not "absent".
    (tmp_path / "w" / "big-lama.pt").write_bytes(b"junk")
    failed = cli.invoke(app, ["models", "verify"])
    assert "big-lama\tchecksum-mismatch" in failed.stdout
    assert failed.exit_code == MissingModelError.code


@pytest.mark.network
def test_cli_fetch(tmp_path: Path, spec: weights.WeightSpec) -> None:
    from typer.testing import CliRunner

    from imgtrans.cli import app

    with _Server(PAYLOAD) as srv:
        result = CliRunner().invoke(
            app, ["models", "fetch", spec.name, "--url", srv.url, "--dest", str(tmp_path)]
        )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "w.bin").read_bytes() == PAYLOAD
    assert result.stdout.strip().endswith(str(tmp_path / "w.bin"))
