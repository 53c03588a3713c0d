"""The sidecar as pydantic models: the one definition of what a sidecar holds.

The JSON Schema (``imgtrans schema``, ``imgtrans/sidecar.schema.json``) is generated from
these models, sidecars are written by dumping them and read back by validating into them.
To add a field: add it to the model with a default (so older sidecars still read), then
regenerate the schema file with ``imgtrans schema > imgtrans/sidecar.schema.json``
(``tests/test_sidecar_models.py`` fails until the file is in step).

Schema versions: 1 (hand-built dicts, up to imgtrans 0.1.0 before the models) and 2 (these
models). Version 1 documents read into the same models: every field version 2 added has a
default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from imgtrans.page import TextBlock, TextLine, TextStyle

SCHEMA_VERSION: Literal[2] = 2
READABLE_VERSIONS = (1, 2)

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Point = tuple[float, float]
Colour = tuple[
    Annotated[int, Field(ge=0, le=255)],
    Annotated[int, Field(ge=0, le=255)],
    Annotated[int, Field(ge=0, le=255)],
]
Box = tuple[int, int, int, int]
DirectionName = Literal["horizontal", "vertical"]


class _Closed(BaseModel):
    """A section whose fields are all known: a typo or a foreign field is an error."""

    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    """A section that keeps fields it does not know (written by a newer imgtrans or a
    tool): they survive a read and rewrite (``imgtrans render``)."""

    model_config = ConfigDict(extra="allow")


class LineRecord(_Open):
    """One detected line or vertical column (ocr stage)."""

    polygon: Annotated[list[Point], Field(min_length=3)]
    text: str
    confidence: Annotated[float, Field(ge=0, le=1)]
    direction: DirectionName = "horizontal"
    rec_model: str | None = None  # the recognition model that read it (file stem)

    @classmethod
    def of(cls, line: TextLine) -> LineRecord:
        return cls(
            polygon=[(float(x), float(y)) for x, y in line.polygon],
            text=line.text,
            confidence=float(line.confidence),
            direction=line.direction,
            rec_model=line.rec_model,
        )

    def to_line(self) -> TextLine:
        return TextLine(
            tuple(self.polygon), self.text, self.confidence, self.direction, self.rec_model
        )


class StyleRecord(_Open):
    """Style measured from the source image (render stage)."""

    text_color: Colour
    background_color: Colour
    outline_color: Colour | None = None
    font_size: Annotated[int, Field(ge=0)]
    alignment: Literal["left", "center", "right"] = "center"

    @classmethod
    def of(cls, style: TextStyle) -> StyleRecord:
        return cls(
            text_color=style.text_color,
            background_color=style.background_color,
            outline_color=style.outline_color,
            font_size=style.font_size,
            alignment=style.alignment,
        )

    def to_style(self) -> TextStyle:
        return TextStyle(
            self.text_color,
            self.background_color,
            self.outline_color,
            self.font_size,
            self.alignment,
        )


class RenderRecord(_Open):
    """How a block was lettered (render stage)."""

    status: Literal["ok", "overflow", "kept", "untranslated", "skipped"]
    font_size: Annotated[int, Field(ge=1)] | None = None
    lines: list[str] = []
    area: Box | None = None
    area_polygon: list[Point] = []
    balloon: bool = False
    outline_width: Annotated[int, Field(ge=0)] = 0
    direction: DirectionName = "horizontal"
    split_words: list[str] = []  # words wider than the area at the minimum size, split
    backing: Box | None = None  # box filled with the background colour behind the text
    reason: str | None = None  # why the block is ``overflow`` or ``kept``

    @classmethod
    def of(cls, block: TextBlock) -> RenderRecord:
        render = block.render
        if render is None:
            status = "skipped" if not block.translate else "untranslated"
            return cls(status=status, direction=block.direction)
        return cls(
            status=render.status,
            font_size=render.font_size,
            lines=list(render.lines),
            area=None if render.area is None else (*render.area.as_list(),),
            area_polygon=[(float(x), float(y)) for x, y in render.area_polygon],
            balloon=bool(render.balloon),
            outline_width=render.outline_width,
            direction=render.direction,
            split_words=list(render.split_words),
            backing=None if render.backing is None else (*render.backing.as_list(),),
            reason=render.reason,
        )


class BlockRecord(_Open):
    """A block: lines that belong together, the unit of translation and of lettering."""

    id: Annotated[int, Field(ge=0)]
    bbox: Box
    direction: DirectionName
    translate: bool = True
    note: str | None = None
    lines: list[LineRecord]
    rec_model: str | None = None  # the recognition models of its lines, comma-separated
    text: str
    translation: str | None
    translation_error: str | None = None
    inpaint: Literal["flat", "lama", "opencv"] | None = None
    style: StyleRecord | None = None
    render: RenderRecord

    @classmethod
    def of(cls, block: TextBlock) -> BlockRecord:
        return cls(
            id=block.id,
            bbox=(*block.bbox.as_list(),),
            direction=block.direction,
            translate=block.translate,
            note=block.note,
            lines=[LineRecord.of(line) for line in block.lines],
            rec_model=",".join(dict.fromkeys(ln.rec_model for ln in block.lines if ln.rec_model))
            or None,
            text=block.text,
            translation=block.translation,
            translation_error=block.translation_error,
            inpaint=block.inpaint_path,
            style=None if block.style is None else StyleRecord.of(block.style),
            render=RenderRecord.of(block),
        )

    def to_block(self) -> TextBlock:
        """The block for the pipeline (``render`` is left to the render stage)."""
        return TextBlock(
            id=self.id,
            lines=tuple(line.to_line() for line in self.lines),
            direction=self.direction,
            translate=self.translate,
            note=self.note,
            translation=self.translation,
            translation_error=self.translation_error,
            inpaint_path=self.inpaint,
            style=None if self.style is None else self.style.to_style(),
        )


class SourceRecord(_Closed):
    path: Annotated[str, Field(min_length=1)]
    sha256: Sha256 | None
    width: Annotated[int, Field(ge=1)] | None
    height: Annotated[int, Field(ge=1)] | None


class OutputRecord(_Closed):
    path: str  # the output image, relative to the sidecar's folder
    clean: str | None = None  # the erased background (--keep-clean), same folder


class ErrorRecord(_Closed):
    kind: str
    message: str


class RunRecord(_Open):
    """Facts about the run that wrote the sidecar."""

    imgtrans: str
    models: dict[str, Sha256]
    translator: str
    inpainter: str = "none"
    options_sha256: Sha256


class Sidecar(_Closed):
    """One ``<stem>.imgtrans.json``: the page's text, translation and lettering."""

    model_config = ConfigDict(
        extra="forbid",
        title="imgtrans sidecar",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://imgtrans.invalid/sidecar-{SCHEMA_VERSION}.json",
        },
    )

    schema_version: Literal[1, 2] = SCHEMA_VERSION
    written_sha256: Sha256 | None = None  # seal: the content's hash as imgtrans wrote it
    source: SourceRecord
    output: OutputRecord | None
    source_lang: str | None
    target_lang: str
    status: Literal["ok", "failed", "skipped"]
    error: ErrorRecord | None
    notes: list[str] = []
    blocks: list[BlockRecord]
    run: RunRecord

    def to_json(self) -> dict[str, Any]:
        """The document as written (JSON types only)."""
        return self.model_dump(mode="json")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of sidecars, generated from :class:`Sidecar`."""
    return Sidecar.model_json_schema(mode="validation")
