"""Registry of the optional PaddleOCR recognition models, one per script, fetched on demand.

The shipped PP-OCRv6 small recogniser reads kana, Han and Latin but no Hangul. PaddleOCR
trains per-script recognisers; RapidOCR publishes their ONNX exports and lists them, with
URL and SHA256, in the ``default_models.yaml`` of the installed ``rapidocr`` wheel
(section ``onnxruntime`` -> version -> ``rec``). Each export carries its dictionary in its
ONNX metadata (key ``character``), so the checksum of the model file covers the charset too.

The facts are kept in this table rather than read from that YAML at run time: the YAML is
rapidocr's internal configuration (its layout is not a public interface and has changed
between major versions), and the checksum imgtrans verifies must not move when rapidocr is
upgraded. ``tests/test_ocr_registry.py`` checks that every entry here matches the installed
wheel's file, so an upgrade that changes a URL or a hash is caught by the tests.

Files are fetched with the same resumable, checksum-checked code as the LaMa weights
(:func:`imgtrans.models.weights.fetch_spec`) into the same weights folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from imgtrans.errors import MissingModelError, UsageError
from imgtrans.models.weights import WeightSpec, fetch_command, verify_file, weights_dir

_BASE = "https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.10.0/onnx"

DEFAULT_REC = "PP-OCRv6_rec_small"  # the shipped recogniser, as named in sidecars

SCRIPTS: dict[str, re.Pattern[str]] = {
    "hangul": re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
}


@dataclass(frozen=True)
class RecModel:
    """One optional recogniser: its downloadable file and what it is used for.

    ``languages``: ``--from`` codes this model reads instead of the shipped one.
    ``script``: key of :data:`SCRIPTS`; with ``--from auto`` an installed model rereads the
    lines it reads better than the shipped model, if its reading has this script.
    """

    spec: WeightSpec
    key: str  # rapidocr's model key, also the label in sidecars
    languages: tuple[str, ...] = ()
    script: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def _model(
    name: str,
    key: str,
    version: str,
    sha256: str,
    description: str,
    languages: tuple[str, ...] = (),
    script: str | None = None,
) -> RecModel:
    spec = WeightSpec(
        name=name,
        filename=f"{key}.onnx",
        url=f"{_BASE}/{version}/rec/{key}.onnx",
        sha256=sha256,
        description=description,
    )
    return RecModel(spec, key, languages, script)


REGISTRY: dict[str, RecModel] = {
    m.name: m
    for m in (
        _model(
            "ocr-korean",
            "korean_PP-OCRv5_rec_mobile",
            "PP-OCRv5",
            "cd6e2ea50f6943ca7271eb8c56a877a5a90720b7047fe9c41a2e541a25773c9b",
            "PP-OCRv5 mobile recogniser for Korean (Hangul, Latin, digits)",
            ("ko",),
            "hangul",
        ),
        _model(
            "ocr-eslav",
            "eslav_PP-OCRv5_rec_mobile",
            "PP-OCRv5",
            "08705d6721849b1347d26187f15a5e362c431963a2a62bfff4feac578c489aab",
            "PP-OCRv5 mobile recogniser for East Slavic (Russian, Ukrainian, Belarusian)",
            ("ru", "uk", "be"),
            "cyrillic",
        ),
        _model(
            "ocr-thai",
            "th_PP-OCRv5_rec_mobile",
            "PP-OCRv5",
            "de541dd83161c241ff426f7ecfd602a0ba77d686cf3ab9a6c255ea82fd08006e",
            "PP-OCRv5 mobile recogniser for Thai",
            ("th",),
            "thai",
        ),
        _model(
            "ocr-greek",
            "el_PP-OCRv5_rec_mobile",
            "PP-OCRv5",
            "b4368bccd557123c702b7549fee6cd1e94b581337d1c9b65310f109131542b7f",
            "PP-OCRv5 mobile recogniser for Greek",
            ("el",),
            "greek",
        ),
        _model(
            "ocr-latin",
            "latin_PP-OCRv5_rec_mobile",
            "PP-OCRv5",
            "b20bd37c168a570f583afbc8cd7925603890efbcdc000a59e22c269d160b5f5a",
            "PP-OCRv5 mobile recogniser for Latin-script languages (the shipped v6 reads them too)",
        ),
        _model(
            "ocr-japan-v4",
            "japan_PP-OCRv4_rec_mobile",
            "PP-OCRv4",
            "e1075a67dba758ecfc7ebc78a10ae61c95ac8fb66a9c86fab5541e33f085cb7a",
            "PP-OCRv4 mobile recogniser for Japanese (the shipped v6 reads Japanese better)",
        ),
    )
}


def rec_model(name: str) -> RecModel:
    """The registered model ``name``; an unknown name lists the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown OCR model {name!r}; known: {', '.join(sorted(REGISTRY))}"
        ) from None


def for_language(lang: str) -> RecModel | None:
    """The model ``--from lang`` needs, or None when the shipped recogniser reads it."""
    return next((m for m in REGISTRY.values() if lang in m.languages), None)


def installed(model: RecModel, directory: Path | None = None) -> Path | None:
    """Path of the verified file of ``model`` in the weights folder, else None."""
    path = (directory or weights_dir()) / model.spec.filename
    return path if verify_file(path, model.spec) else None


def require(model: RecModel, why: str, directory: Path | None = None) -> Path:
    """The verified file, or MissingModelError naming the file, its hash and the fetch command."""
    directory = directory or weights_dir()
    path = installed(model, directory)
    if path is None:
        raise MissingModelError(
            f"{why}: the OCR model {model.name!r} ({model.spec.filename}, sha256 "
            f"{model.spec.digest}) is not installed in {directory}. "
            f"Fetch it once with `{fetch_command(model.name)}`."
        )
    return path
