"""Read LaMa generator tensors out of weight files without executing any pickled code.

Four containers are understood:

* ``torch.save`` checkpoints (zip or legacy format), read with
  ``torch.load(weights_only=True)``. Foreign classes that training frameworks leave in
  checkpoints (pytorch_lightning callbacks, omegaconf configs, numpy scalars) are replaced by
  inert stand-ins that only store what they are given; anything else outside torch's
  allowlist (``os.system``, ``builtins.exec``, ...) is refused. Generator keys sit under
  ``gen_state_dict`` (manga fine-tune, no prefix) or ``state_dict`` (Lightning, ``generator.``).
* TorchScript archives (IOPaint's ``big-lama.pt``, prefix ``model.generator.``). These are
  never given to ``torch.jit.load``, which would compile and run the archive's code. Their
  ``data.pkl`` is read by a restricted unpickler whose only callables build tensors from the
  archive's raw storage records; every ``__torch__.*`` class becomes an inert attribute bag.
* safetensors files (what ``imgtrans models import`` writes).
"""

from __future__ import annotations

import io
import pickle
import pickletools
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import _weights_only_unpickler

from imgtrans.errors import MissingModelError

# Top-level modules whose classes may appear in training checkpoints; they are replaced by
# inert stand-ins. Everything else torch does not allow is refused.
_FOREIGN_MODULES = frozenset(
    {
        "omegaconf",
        "pytorch_lightning",
        "lightning",
        "lightning_fabric",
        "torchmetrics",
        "typing",
        "numpy",
        "pathlib",
        "saicinpainting",
    }
)
_FOREIGN_BUILTINS = frozenset({"builtins.dict", "builtins.list", "builtins.object"})
# Dict-like foreign types become plain dicts: the weights-only unpickler only fills real dicts.
_AS_DICT = frozenset({"collections.defaultdict"})

_PREFIXES = ("model.generator.", "generator.", "")

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class UnsafeWeightsError(MissingModelError):
    """A weight file asks for code to run while loading, or is not a weight file at all."""

    kind = "unsafe_weights"


class _Inert:
    """Stand-in for a foreign class: takes any arguments and state, runs nothing."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: object) -> None:
        self.__dict__["_state"] = state
        if isinstance(state, dict):
            self.__dict__.update({k: v for k, v in state.items() if isinstance(k, str)})

    def __setitem__(self, key: object, value: object) -> None:
        self.__dict__.setdefault("_items", {})[key] = value


def _empty_dict(*_: object) -> dict[Any, Any]:
    return {}


def _stand_in(full_name: str) -> Any:
    if full_name in _AS_DICT:
        return _empty_dict
    return type(full_name.rsplit(".", 1)[-1], (_Inert,), {"__module__": "imgtrans.inert"})


def _allowed_foreign(full_name: str) -> bool:
    top = full_name.split(".", 1)[0]
    return top in _FOREIGN_MODULES or full_name in _FOREIGN_BUILTINS or full_name in _AS_DICT


def _globals_in_pickles(stream: BinaryIO, count: int) -> set[str]:
    """GLOBAL names in the next ``count`` pickles of ``stream``, read without executing them."""
    names: set[str] = set()
    for _ in range(count):
        strings: list[str] = []
        try:
            for op, arg, _pos in pickletools.genops(stream):
                if op.name in ("GLOBAL", "INST"):
                    names.add(str(arg).replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    names.add(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(arg, str):
                    strings.append(arg)
        except ValueError:  # end of data: fewer pickles than expected
            break
    return names


def _checkpoint_globals(path: Path) -> set[str]:
    if zipfile.is_zipfile(path):
        return set(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    # Legacy format: magic number, protocol, sys info, then the object, as four pickles.
    allowed = set(_weights_only_unpickler._get_allowed_globals())
    with path.open("rb") as stream:
        return _globals_in_pickles(stream, 4) - allowed


def load_checkpoint(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with inert stand-ins for known foreign classes."""
    try:
        names = _checkpoint_globals(path)
    except (ValueError, pickle.UnpicklingError, RuntimeError) as exc:
        raise UnsafeWeightsError(f"{path}: not a readable torch checkpoint ({exc})") from exc
    refused = sorted(n for n in names if not _allowed_foreign(n))
    if refused:
        raise UnsafeWeightsError(
            f"{path}: refusing to load, its pickle references {', '.join(refused)}, "
            "which could run code; only tensors and known training-framework classes are read"
        )
    stand_ins: list[Any] = [(_stand_in(n), n) for n in names]
    try:
        with torch.serialization.safe_globals(stand_ins):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeWeightsError(f"{path}: refused by the weights-only loader: {exc}") from exc


class _ScriptUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl``: builds tensors, inert objects, nothing else."""

    def __init__(self, data: bytes, read_record: Callable[[str], bytes]) -> None:
        super().__init__(io.BytesIO(data))
        self._read_record = read_record
        self._classes: dict[str, Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if full == "collections.OrderedDict":
            return OrderedDict
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return _identity
        if full == "torch.jit._pickle.restore_type_tag":
            return _first
        if module == "__torch__" or module.startswith("__torch__."):
            return self._classes.setdefault(full, _stand_in(full))
        raise UnsafeWeightsError(f"TorchScript pickle references {full}, refusing to load it")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnsafeWeightsError(f"unexpected persistent id in TorchScript archive: {pid!r}")
        _, dtype, key, _location, numel = pid
        if not isinstance(dtype, torch.dtype) or not isinstance(numel, int):
            raise UnsafeWeightsError(f"bad storage record {pid!r}")
        raw = self._read_record(f"data/{key}")
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) < numel * itemsize:
            raise UnsafeWeightsError(f"storage {key} is truncated")
        return torch.frombuffer(bytearray(raw[: numel * itemsize]), dtype=dtype)


def _identity(value: Any) -> Any:
    return value


def _first(value: Any, *_: Any) -> Any:
    return value


def _rebuild_tensor(
    storage: torch.Tensor, offset: int, size: Any, stride: Any, *_: Any
) -> torch.Tensor:
    """Bounds are checked by ``as_strided`` against the storage length."""
    if not isinstance(storage, torch.Tensor):
        raise UnsafeWeightsError("tensor without storage in TorchScript archive")
    return storage.as_strided(tuple(size), tuple(stride), int(offset)).clone()


def is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith("/constants.pkl") or "/code/" in n for n in archive.namelist())


def load_torchscript_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor attribute of the archived module tree, by dotted path."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data_name = next((n for n in names if n.endswith("/data.pkl")), None)
        if data_name is None or data_name.count("/") != 1:
            raise UnsafeWeightsError(f"{path}: TorchScript archive without data.pkl")
        root = data_name.split("/", 1)[0]

        def read_record(name: str) -> bytes:
            return archive.read(f"{root}/{name}")

        obj = _ScriptUnpickler(archive.read(data_name), read_record).load()
    out: dict[str, torch.Tensor] = {}
    _collect(obj, "", out, depth=0)
    return out


def _collect(obj: Any, prefix: str, out: dict[str, torch.Tensor], depth: int) -> None:
    if depth > 64:
        raise UnsafeWeightsError("module tree too deep in TorchScript archive")
    if isinstance(obj, torch.Tensor):
        out[prefix.rstrip(".")] = obj
    elif isinstance(obj, _Inert):
        for key, value in obj.__dict__.items():
            if not key.startswith("_"):
                _collect(value, f"{prefix}{key}.", out, depth + 1)


def read_state(path: Path) -> dict[str, torch.Tensor]:
    """Generator tensors from any supported container, keys without prefix (``model.1...``)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return dict(load_file(str(path)))
    if is_torchscript(path):
        return _strip(load_torchscript_tensors(path), path)
    obj = load_checkpoint(path)
    if isinstance(obj, dict):
        for key in ("gen_state_dict", "state_dict"):
            if isinstance(obj.get(key), dict):
                return _strip(obj[key], path)
    return _strip(obj, path)


def _strip(state: Any, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict):
        raise UnsafeWeightsError(f"{path}: no state dict found")
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and torch.is_tensor(v)}
    for prefix in _PREFIXES:
        found = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix + "model.")}
        if found:
            return found
    raise UnsafeWeightsError(f"{path}: no LaMa generator keys (model.*) found")
