"""Installed offline translation models (CTranslate2), found on disk; nothing is downloaded.

Two layouts are recognised, alone or as sub-folders of one folder:

* an Argos Translate package (what ``argospm install translate-ja_en`` unpacks into
  ``~/.local/share/argos-translate/packages/``): ``metadata.json`` with ``from_code`` and
  ``to_code``, the CTranslate2 model in ``model/``, one shared ``sentencepiece.model``;
* a CTranslate2 model folder (``model.bin``, e.g. an OPUS-MT Marian model converted with
  ``ct2-transformers-converter``) with its SentencePiece models: ``source.spm`` and
  ``target.spm``, or one shared ``sentencepiece.model`` / ``spm.model``. Its languages come
  from a ``metadata.json`` beside it (same keys as Argos), else from a folder name ending in
  ``-<from>-<to>`` (``opus-mt-ja-en``), else it is used for whatever pair is asked.

Where to look: ``--ct2-model DIR`` / ``IMGTRANS_CT2_MODEL``, else Argos Translate's package
folder (``$ARGOS_PACKAGES_DIR`` or ``~/.local/share/argos-translate/packages``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from imgtrans.errors import MissingModelError

SHARED_SPM = ("sentencepiece.model", "spm.model")
_NAME_PAIR = re.compile(r"(?:^|[-_.])([a-z]{2,3})[-_]([a-z]{2,3})(?:[-_.]\d.*)?$")
# imgtrans codes -> the codes Argos Translate packages use.
_CODES = {"zh-hans": "zh", "zh-cn": "zh", "zh-hant": "zt", "zh-tw": "zt"}


def model_code(code: str) -> str:
    """An imgtrans language code as model metadata writes it (``zh-Hans`` -> ``zh``)."""
    low = code.strip().replace("_", "-").lower()
    return _CODES.get(low, low)


@dataclass(frozen=True)
class Ct2Model:
    """One installed model: its CTranslate2 folder, tokenisers and languages (None: any)."""

    label: str  # folder name, for the sidecar and `imgtrans models list`
    model_dir: Path  # holds model.bin
    source_spm: Path
    target_spm: Path
    source: str | None
    target: str | None
    kind: str  # "argos" or "ct2"

    def serves(self, source: str, target: str) -> bool:
        return self.source in (None, source) and self.target in (None, target)

    @property
    def pair(self) -> str:
        return f"{self.source or '*'}->{self.target or '*'}"


def default_roots() -> list[Path]:
    """Folders searched when neither --ct2-model nor IMGTRANS_CT2_MODEL is given."""
    argos = os.environ.get("ARGOS_PACKAGES_DIR")
    if argos:
        return [Path(argos).expanduser()]
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return [Path(data) / "argos-translate" / "packages"]


def discover(roots: list[Path]) -> list[Ct2Model]:
    """Every model in ``roots`` (each a model folder or a folder of model folders)."""
    found: list[Ct2Model] = []
    for root in roots:
        model = read_model(root)
        if model is not None:
            found.append(model)
        elif root.is_dir():
            for child in sorted(p for p in root.iterdir() if p.is_dir()):
                model = read_model(child)
                if model is not None:
                    found.append(model)
    return found


def read_model(folder: Path) -> Ct2Model | None:
    """The model in ``folder``, None when it holds none; MissingModelError when it holds a
    model without the SentencePiece files needed to use it."""
    if (folder / "model" / "model.bin").is_file():
        model_dir, kind = folder / "model", "argos"
    elif (folder / "model.bin").is_file():
        model_dir, kind = folder, "ct2"
    else:
        return None
    shared = next((folder / n for n in SHARED_SPM if (folder / n).is_file()), None)
    src, tgt = folder / "source.spm", folder / "target.spm"
    if src.is_file() and tgt.is_file():
        source_spm, target_spm = src, tgt
    elif shared is not None:
        source_spm = target_spm = shared
    else:
        raise MissingModelError(
            f"{folder}: a CTranslate2 model without SentencePiece models; expected "
            f"source.spm and target.spm, or one of {', '.join(SHARED_SPM)}"
        )
    source, target = _languages(folder)
    return Ct2Model(folder.name, model_dir, source_spm, target_spm, source, target, kind)


def _languages(folder: Path) -> tuple[str | None, str | None]:
    meta = folder / "metadata.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            return model_code(str(data["from_code"])), model_code(str(data["to_code"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MissingModelError(f"{meta}: unreadable model metadata ({exc})") from None
    match = _NAME_PAIR.search(folder.name.lower())
    if match:
        return match.group(1), match.group(2)
    return None, None


def route(models: list[Ct2Model], source: str, target: str) -> list[Ct2Model] | None:
    """The models that take ``source`` to ``target``: a model made for the pair; else two
    through English (``source -> en -> target``) when those are installed; else a model of
    unknown languages; None when nothing fits."""
    src, tgt = model_code(source), model_code(target)
    exact = next((m for m in models if (m.source, m.target) == (src, tgt)), None)
    if exact is not None:
        return [exact]
    if "en" not in (src, tgt):
        first = next((m for m in models if (m.source, m.target) == (src, "en")), None)
        second = next((m for m in models if (m.source, m.target) == ("en", tgt)), None)
        if first and second:
            return [first, second]
    loose = next((m for m in models if None in (m.source, m.target) and m.serves(src, tgt)), None)
    return [loose] if loose else None
