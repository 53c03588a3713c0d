"""Frozen option models: one per stage plus :class:`RunOptions`.

The CLI builds one ``RunOptions`` from its flags; the Python API takes the same object.
``extra="forbid"`` makes a typo in a config file fail loudly. ``fingerprint()`` hashes the
options that change the output, so a rerun can tell whether a finished image is still valid.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OcrOptions(_Frozen):
    source_lang: str = "auto"  # ISO 639-1 code or "auto": decide per page from the script read
    det_limit_side: int = Field(960, ge=256, le=4096)  # long side of detection input
    det_thresh: float = Field(0.3, gt=0, lt=1)  # DB binarisation threshold
    box_thresh: float = Field(0.6, gt=0, lt=1)  # DB minimum mean score of a box
    unclip_ratio: float = Field(1.5, gt=0)  # DB box growth
    min_confidence: float = Field(0.5, ge=0, le=1)  # lines below are kept but not translated
    sfx: Literal["keep", "translate"] = "keep"  # large lettering over artwork: leave as drawn?


class MaskOptions(_Frozen):
    dilate: int = Field(3, ge=0, le=64)  # pixels the text mask is grown by


class InpaintOptions(_Frozen):
    inpainter: Literal["auto", "lama", "opencv"] = "auto"
    flat_std: float = Field(8.0, ge=0)  # ring std below which a block is filled with its colour
    compile: bool = False


class TranslatorOptions(_Frozen):
    name: str = "none"  # one backend or a comma-separated chain ("tm,deepl")
    tm: Path | None = None
    api_base: str | None = None
    model: str | None = None
    glossary: Path | None = None
    context_pages: int = Field(0, ge=0, le=20)
    cache: bool = True
    system_prompt: Path | None = None
    ct2_model: Path | None = None  # ctranslate2: a model folder or a folder of them
    timeout: float = Field(60.0, gt=0)


class RenderOptions(_Frozen):
    fonts: tuple[Path, ...] = ()  # user fonts, tried before the shipped ones
    direction: Literal["auto", "horizontal", "vertical"] = "auto"
    min_font_size: int = Field(10, ge=4)
    max_font_size: int = Field(96, ge=8)


class RunOptions(_Frozen):
    """Everything about a run; every field has a default."""

    target_lang: str = "en"
    output: Path | None = None  # None: a sibling "<input>_<lang>" directory per input root
    format: Literal["same", "png", "jpg", "webp"] = "same"
    overwrite: bool = False
    batch_size: int = Field(4, ge=1, le=256)
    jobs: int = Field(0, ge=0, le=256)  # worker processes; 0 = one per core, as memory allows
    device: Literal["auto", "cpu", "cuda"] = "auto"
    fail_fast: bool = False
    max_pixels: int = Field(400_000_000, ge=1)  # decompression-bomb guard
    max_archive_bytes: int = Field(4 * 1024**3, ge=1)  # comic archives: uncompressed size
    keep_clean: bool = False  # also store the erased background for `imgtrans render`
    ocr: OcrOptions = OcrOptions()
    mask: MaskOptions = MaskOptions()
    inpaint: InpaintOptions = InpaintOptions()
    translator: TranslatorOptions = TranslatorOptions()
    render: RenderOptions = RenderOptions()
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # None: $RAY_ADDRESS, else a local cluster for the run

    def fingerprint(self) -> str:
        """sha256 of the options that change what is written (not paths, jobs or device)."""
        data = self.model_dump(
            mode="json",
            exclude={
                "output": True,
                "overwrite": True,
                "jobs": True,
                "device": True,
                "fail_fast": True,
                "batch_size": True,
                "executor": True,
                "ray_address": True,
                "max_archive_bytes": True,
            },
        )
        tm = self.translator.tm
        if tm is not None and tm.is_file():
            data["translator"]["tm"] = hashlib.sha256(tm.read_bytes()).hexdigest()
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()
