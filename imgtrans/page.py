"""The data that flows between stages: :class:`Page` and the text model.

Images at every stage boundary are RGB ``uint8`` numpy arrays ``H x W x 3``; masks are
``uint8`` ``H x W`` with values 0/255. Coordinates are pixels of the source image after EXIF
orientation. Every optional field names the stage that fills it. Stages never mutate a
page: they return ``dataclasses.replace(page, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

Direction = Literal["horizontal", "vertical"]
RenderStatus = Literal["ok", "overflow", "kept", "untranslated", "skipped"]
Point = tuple[float, float]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class BBox:
    """Axis-aligned box ``[x0, x1) x [y0, y1)`` in integer pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"BBox corners out of order: {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def center(self) -> Point:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def as_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]

    def grow(self, margin: int, width: int, height: int) -> BBox:
        """This box grown by ``margin`` on every side, clipped to a ``width x height`` image."""
        return BBox(
            max(0, self.x0 - margin),
            max(0, self.y0 - margin),
            min(width, self.x1 + margin),
            min(height, self.y1 + margin),
        )

    @staticmethod
    def around(points: list[Point] | tuple[Point, ...]) -> BBox:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return BBox(
            int(np.floor(min(xs))),
            int(np.floor(min(ys))),
            int(np.ceil(max(xs))),
            int(np.ceil(max(ys))),
        )

    @staticmethod
    def union(boxes: list[BBox]) -> BBox:
        return BBox(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )


@dataclass(frozen=True)
class TextLine:
    """One detected line (or vertical column). Filled by the ocr stage."""

    polygon: tuple[Point, ...]  # 4 corners, clockwise from top-left of the text
    text: str
    confidence: float
    direction: Direction = "horizontal"
    rec_model: str | None = None  # the recognition model that read it (file stem)

    @property
    def bbox(self) -> BBox:
        return BBox.around(self.polygon)


@dataclass(frozen=True)
class TextStyle:
    """Style measured from the image. Filled by the render stage (measure step)."""

    text_color: RGB
    background_color: RGB
    outline_color: RGB | None
    font_size: int  # source glyph size in pixels
    alignment: Literal["left", "center", "right"] = "center"


@dataclass(frozen=True)
class RenderResult:
    """How a block was lettered. Filled by the render stage."""

    status: RenderStatus
    font_size: int | None = None
    lines: tuple[str, ...] = ()
    area: BBox | None = None
    direction: Direction = "horizontal"
    area_polygon: tuple[Point, ...] = ()  # outline of the area text was fitted into
    balloon: bool = False  # the area is a detected balloon (else the grown block box)
    outline_width: int = 0  # pixels of outline drawn around the glyphs (0: none)
    split_words: tuple[str, ...] = ()  # words wider than the area at the minimum size, split
    backing: BBox | None = None  # box filled with the background colour behind the text
    reason: str | None = None  # why the block is ``overflow`` or ``kept``


@dataclass(frozen=True)
class TextBlock:
    """Lines that belong together (a balloon, a caption, a sign): the unit of translation.

    ``lines`` are in reading order. ``translate`` is False for noise (low confidence,
    isolated punctuation, page numbers): kept for the sidecar, never translated or erased.
    """

    id: int
    lines: tuple[TextLine, ...]
    direction: Direction
    translate: bool = True
    note: str | None = None  # why a block is not translated
    translation: str | None = None  # filled by the translate stage
    translation_error: str | None = None  # filled by the translate stage
    inpaint_path: str | None = None  # filled by the inpaint stage: "flat", "lama", "opencv"
    style: TextStyle | None = None  # filled by the render stage
    render: RenderResult | None = None  # filled by the render stage

    @property
    def bbox(self) -> BBox:
        return BBox.union([line.bbox for line in self.lines])

    @property
    def text(self) -> str:
        """The lines joined in reading order. Chinese and Japanese lines join without a
        space; Latin and Korean ones (which wrap between words) with one."""
        parts = [line.text.strip() for line in self.lines if line.text.strip()]
        if not parts:
            return ""
        out = parts[0]
        for part in parts[1:]:
            glue = " " if _is_latin_end(out) and _is_latin_end(part[0]) else ""
            out += glue + part
        return out


@dataclass(frozen=True)
class Job:
    """One input and where its results go (made by discovery)."""

    source: Path  # absolute input path
    rel_path: str  # relative to its input root, "/"-separated
    output: Path  # output image path
    sidecar: Path  # output sidecar path
    member: str | None = None  # the entry inside ``source`` when it is a comic archive

    @property
    def key(self) -> str:
        return self.rel_path


@dataclass(frozen=True)
class Failure:
    """Why a page failed: ``kind`` (a stable name, see the README) and a message naming the
    file. Set by the stage that failed it; later stages pass the page through untouched."""

    kind: str
    message: str


def _is_latin_end(text: str) -> bool:
    ch = text[-1]
    hangul = "\uac00" <= ch <= "\ud7a3"
    return hangul or (ch.isascii() and (ch.isalnum() or ch in ".,!?;:'\")-"))


@dataclass(frozen=True)
class Page:
    """One image travelling through the pipeline.

    ``image`` is the decoded source (RGB uint8 HxWx3, EXIF orientation applied); ``alpha``
    its alpha channel (uint8 HxW) when it had one, re-attached at write time.
    """

    source: Path  # absolute path of the input file
    rel_path: str  # path relative to its input root, "/"-separated
    sha256: str  # of the input file's bytes
    image: np.ndarray = field(repr=False)
    alpha: np.ndarray | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()  # things worth telling the user (e.g. "animated: first frame")
    source_lang: str | None = None  # filled by the ocr stage when --from auto
    blocks: tuple[TextBlock, ...] = ()  # filled by the ocr stage
    mask: np.ndarray | None = field(default=None, repr=False)  # filled by the mask stage
    clean: np.ndarray | None = field(default=None, repr=False)  # filled by the inpaint stage
    output: np.ndarray | None = field(default=None, repr=False)  # filled by the render stage
    job: Job | None = None  # where the page's results go: filled by the load stage
    error: Failure | None = None  # filled by the stage that failed the page
    # A split stage's state between its steps (see imgtrans.stages.Step); None between stages.
    work: Any = field(default=None, repr=False)

    @classmethod
    def failed(cls, job: Job, kind: str, message: str, sha256: str | None = None) -> Page:
        """A page that failed before it had pixels (an empty 0x0 image)."""
        empty = np.zeros((0, 0, 3), np.uint8)
        return cls(
            job.source, job.rel_path, sha256 or "", empty, job=job, error=Failure(kind, message)
        )

    def fail(self, kind: str, message: str) -> Page:
        return replace(self, error=Failure(kind, message))

    def __post_init__(self) -> None:
        img = self.image
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(
                f"Page.image must be RGB uint8 HxWx3, got {img.dtype} {img.shape} ({self.rel_path})"
            )
        if self.alpha is not None and self.alpha.shape != img.shape[:2]:
            raise ValueError(f"Page.alpha must be HxW uint8 matching the image ({self.rel_path})")

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
