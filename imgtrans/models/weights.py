"""Registry of LaMa weight files: where they come from, where they live, how they are checked.

``imgtrans models fetch NAME`` downloads a file (resumable, checksum-checked) into
:func:`weights_dir`; :func:`load_lama` builds the generator from a verified file. Nothing here
downloads on its own at run time: a missing file is a :class:`MissingModelError` that names
the fetch command.

Registered files (URLs checked against public code that downloads them):

* ``lama-manga`` — ``lama_large_512px.ckpt``, LaMa large fine-tuned on anime/manga by dreMaz
  (MIT model card), the manga default; used by zyddnys/manga-image-translator, which
  downloads it from Hugging Face ``dreMaz/AnimeMangaInpainting`` (mirrors:
  ``hf-mirror.com``, ModelScope ``hgmzhn/manga-translator-ui``). Generator under
  ``gen_state_dict``, no key prefix.
* ``big-lama`` — ``big-lama.pt``, the official big-lama generator traced to TorchScript by
  IOPaint (Sanster), from the ``add_big_lama`` release of github.com/Sanster/models. Only an
  md5 is published for it. Keys under ``model.generator.``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imgtrans.errors import MissingModelError, UsageError

if TYPE_CHECKING:
    import torch

    from imgtrans.models.lama import LamaConfig, LamaGenerator

Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class WeightSpec:
    """One downloadable weight file. ``sha256`` or ``md5`` (lower-case hex) checks it."""

    name: str
    filename: str
    url: str
    description: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None  # bytes, when known

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"weight {self.name} needs a checksum")

    @property
    def algorithm(self) -> str:
        return "sha256" if self.sha256 else "md5"

    @property
    def digest(self) -> str:
        return (self.sha256 or self.md5 or "").lower()


REGISTRY: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            name="lama-manga",
            filename="lama_large_512px.ckpt",
            url="https://huggingface.co/dreMaz/AnimeMangaInpainting/resolve/main/lama_large_512px.ckpt",
            sha256="11d30fbb3000fb2eceae318b75d9ced9229d99ae990a7f8b3ac35c8d31f2c935",
            description="LaMa large fine-tuned on manga/anime (default for manga)",
        ),
        WeightSpec(
            name="big-lama",
            filename="big-lama.pt",
            url="https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt",
            md5="e3aa4aaa15225a33ec84f9f4bc47e500",
            description="official big-lama (Places2), TorchScript export by IOPaint",
        ),
    )
}
DEFAULT = "lama-manga"


def spec_for(name: str) -> WeightSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown weights {name!r}; known: {', '.join(sorted(REGISTRY))}"
        ) from None


def weights_dir() -> Path:
    """``$IMGTRANS_WEIGHTS``, else ``./weights`` if it exists, else the user cache dir."""
    env = os.environ.get("IMGTRANS_WEIGHTS")
    if env:
        return Path(env).expanduser()
    local = Path("weights")
    if local.is_dir():
        return local.resolve()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("imgtrans")) / "weights"


def fetch_command(name: str) -> str:
    return f"imgtrans models fetch {name}"


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def verify_file(path: Path, spec: WeightSpec) -> bool:
    """Whether ``path`` has the spec's checksum. A stamp (size, mtime, digest) skips rehashing."""
    if not path.is_file():
        return False
    st = path.stat()
    key = f"{spec.algorithm} {spec.digest} {st.st_size} {st.st_mtime_ns}"
    stamp = _stamp(path)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key:
        return True
    ok = file_digest(path, spec.algorithm) == spec.digest
    if ok:
        # A read-only weights dir: the file is still verified, just not cached.
        with contextlib.suppress(OSError):
            stamp.write_text(key + "\n", encoding="utf-8")
    return ok


def _imported_spec(name: str, directory: Path) -> WeightSpec | None:
    """The spec of an imported ``NAME.safetensors`` (its digest is in ``NAME.safetensors.sha256``)."""
    sidecar = directory / f"{name}.safetensors.sha256"
    if not sidecar.is_file():
        return None
    digest = sidecar.read_text(encoding="utf-8").split()[0]
    return WeightSpec(name, f"{name}.safetensors", "", "imported", sha256=digest)


def find_verified(name: str = DEFAULT, directory: Path | None = None) -> Path | None:
    """Path of the verified file for ``name`` (registered or imported), else None."""
    directory = directory or weights_dir()
    specs = [s for s in (REGISTRY.get(name), _imported_spec(name, directory)) if s]
    for spec in specs:
        path = directory / spec.filename
        if verify_file(path, spec):
            return path
    return None


def missing_message(name: str, directory: Path) -> str:
    spec = REGISTRY.get(name)
    what = f"{spec.filename} ({spec.algorithm} {spec.digest})" if spec else f"{name}.safetensors"
    return (
        f"LaMa weights {name!r} not found or not verified in {directory}: expected {what}. "
        f"Get them with `{fetch_command(name)}` (or `imgtrans models import PATH`)."
    )


def load_lama(
    device: torch.device | str = "cpu", name: str | None = None, directory: Path | None = None
) -> LamaGenerator:
    """The generator with verified weights, fp32, eval mode, on ``device``.

    ``name`` None takes the first verified of ``lama-manga`` then ``big-lama``. Raises
    MissingModelError (with the fetch command) when the file is absent or its checksum
    does not match.
    """
    import torch

    from imgtrans.models.lama import LamaGenerator
    from imgtrans.models.safe_load import read_state

    directory = directory or weights_dir()
    names = [name] if name else [DEFAULT, *(n for n in REGISTRY if n != DEFAULT)]
    path = next((p for n in names if (p := find_verified(n, directory))), None)
    if path is None:
        raise MissingModelError(missing_message(names[0], directory))
    state = read_state(path)
    model = LamaGenerator(infer_config(state))
    model.load_state_dict(state, strict=True)
    return model.to(device=torch.device(device), dtype=torch.float32).eval()


def infer_config(state: dict[str, torch.Tensor]) -> LamaConfig:
    """The generator shape implied by a state dict (so tiny test models load too)."""
    from imgtrans.models.lama import LamaConfig

    try:
        stem = state["model.1.ffc.convl2l.weight"]
        n_down = sum(f"model.{i}.ffc.convl2l.weight" in state for i in range(2, 2 + 16))
        first_block = 2 + n_down
        n_blocks = sum(
            f"model.{i}.conv1.ffc.convl2l.weight" in state
            for i in range(first_block, first_block + 256)
        )
        last = f"model.{1 + n_down}.ffc"
        out_l = state[f"{last}.convl2l.weight"].shape[0]
        out_g = state[f"{last}.convl2g.weight"].shape[0]
        head = max(int(k.split(".")[1]) for k in state if k.startswith("model."))
        out_channels = state[f"model.{head}.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise MissingModelError(f"not a LaMa generator state dict (missing {exc})") from exc
    return LamaConfig(
        in_channels=stem.shape[1],
        out_channels=out_channels,
        ngf=stem.shape[0],
        n_downsampling=n_down,
        n_blocks=n_blocks,
        ratio=out_g / (out_l + out_g),
    )


def import_weights(path: Path, out: Path) -> str:
    """Convert any supported container to a tensors-only safetensors file; return its sha256.

    Writes ``out`` and ``out`` + ``.sha256`` (``<hex>  <filename>``). The state is checked by
    loading it strictly into a generator of the inferred shape first.
    """
    from safetensors.torch import save_file

    from imgtrans.models.lama import LamaGenerator
    from imgtrans.models.safe_load import read_state

    state = read_state(Path(path))
    LamaGenerator(infer_config(state)).load_state_dict(state, strict=True)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    save_file({k: v.detach().contiguous().clone() for k, v in state.items()}, str(tmp))
    digest = file_digest(tmp)
    tmp.replace(out)
    out.with_name(out.name + ".sha256").write_text(f"{digest}  {out.name}\n", encoding="utf-8")
    return digest


def fetch(
    name: str,
    dest_dir: Path | None = None,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``name`` into ``dest_dir`` (default :func:`weights_dir`) and verify it.

    Streams into ``<file>.part`` and resumes it with an HTTP Range request when rerun. On a
    checksum mismatch the part file is deleted and MissingModelError raised; on a dropped
    connection the part file is kept and the error says to rerun. Returns the final path.
    """
    return fetch_spec(spec_for(name), dest_dir, url, progress, timeout)


def fetch_spec(
    spec: WeightSpec,
    dest_dir: Path | None = None,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Path:
    """:func:`fetch` for any spec (the OCR model registry has its own table of specs)."""
    name = spec.name
    directory = Path(dest_dir) if dest_dir else weights_dir()
    target = directory / spec.filename
    if verify_file(target, spec):
        return target
    directory.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    _download(url or spec.url, part, progress, timeout)
    digest = file_digest(part, spec.algorithm)
    if digest != spec.digest:
        part.unlink(missing_ok=True)
        raise MissingModelError(
            f"download of {spec.filename} has {spec.algorithm} {digest}, expected {spec.digest}; "
            f"the partial file was deleted, run `{fetch_command(name)}` again"
        )
    part.replace(target)
    verify_file(target, spec)  # writes the stamp
    return target


def _download(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    import requests

    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as resp:
            if resp.status_code == 416 and have:  # part already complete
                return
            resp.raise_for_status()
            if resp.status_code != 206:
                have = 0  # server ignored the range: start over
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else None
            with part.open("ab" if have else "wb") as f:
                done = have
                for chunk in resp.iter_content(1 << 16):
                    f.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done < total:
                raise requests.ConnectionError(f"stream ended at {done} of {total} bytes")
    except requests.RequestException as exc:
        got = part.stat().st_size if part.exists() else 0
        raise MissingModelError(
            f"download from {url} failed after {got} bytes ({type(exc).__name__}); "
            f"rerun the same command to resume from {part}"
        ) from exc
