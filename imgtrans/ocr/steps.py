"""The OCR stage as steps: model calls (device) and the host work between them (workers).

    det inputs (worker) -> detect (device) -> boxes, crops, cls inputs (worker) ->
    classify (device) -> turn, rec inputs (worker) -> recognise (device) ->
    decode [-> script model rereads: recognise (device) -> decode] -> blocks (worker)

Worker steps see one page and pickle (options and model paths, no models); device steps
see the batch. Between steps a page's state is its ``work`` (:class:`DetWork`, then
:class:`LineWork`); the last step sets ``blocks`` and ``source_lang`` and clears it. A
page too small to hold text (``work`` None) passes through and gets no blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from imgtrans.models.ppocr import rec_charset
from imgtrans.ocr.blocks import build_blocks
from imgtrans.ocr.detect import DetFn, DetInput, boxes_from_map, det_input, detect, stitch
from imgtrans.ocr.recognize import (
    ArrayFn,
    BestFn,
    Crop,
    cls_inputs,
    crop_line,
    decode,
    rec_inputs,
    turn_upside_down,
)
from imgtrans.ocr.script_models import merge_reread, to_reread
from imgtrans.ocr.sfx import keep_sfx
from imgtrans.options import OcrOptions
from imgtrans.page import Direction, Page, TextLine

MIN_SIDE = 8  # pixels: a smaller image cannot hold readable text (nor feed the detector)
LINE_BATCH = 32  # crops per orientation / recognition batch (per page)


@dataclass(frozen=True)
class DetWork:
    """A page between its detection steps."""

    input: DetInput
    probs: list[np.ndarray] | None = None  # per tile, from the detector


@dataclass(frozen=True)
class PackedCrops:
    """Line crops in one array: between processes one shared-memory block, not a pickle
    of every crop through the pipe."""

    pixels: np.ndarray  # uint8: every crop's pixels, one after the other
    shapes: tuple[tuple[int, ...], ...]
    vertical: tuple[bool, ...]

    @classmethod
    def pack(cls, crops: list[Crop]) -> PackedCrops:
        flat = [crop.image.reshape(-1) for crop in crops]
        pixels = np.concatenate(flat) if flat else np.empty(0, np.uint8)
        return cls(pixels, tuple(c.image.shape for c in crops), tuple(c.vertical for c in crops))

    def unpack(self) -> list[Crop]:
        out, at = [], 0
        for shape, vertical in zip(self.shapes, self.vertical, strict=True):
            size = int(np.prod(shape))
            out.append(Crop(self.pixels[at : at + size].reshape(shape), vertical))
            at += size
        return out


@dataclass(frozen=True)
class LineWork:
    """A page's lines between the orientation and recognition steps."""

    boxes: np.ndarray  # float32 N x 4 x 2, page pixels (one array: one pickle, not N)
    vertical: list[bool]  # per line: a vertical column (turned to run left to right)
    crops: PackedCrops | None  # dropped once no model needs them
    batches: list[np.ndarray] = field(default_factory=list)  # inputs of the next model call
    buckets: list[list[int]] = field(default_factory=list)  # crop indices per batch (rec)
    outputs: list[Any] = field(default_factory=list)  # the model's answers per batch
    texts: list[tuple[str, float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def next_rec(self, todo: list[int]) -> LineWork:
        """With the recogniser's inputs for the crops ``todo`` (by width bucket)."""
        assert self.crops is not None
        crops = self.crops.unpack()
        inputs = rec_inputs([crops[i].image for i in todo], LINE_BATCH)
        buckets = [[todo[k] for k in idx] for idx, _ in inputs]
        return replace(self, batches=[b for _, b in inputs], buckets=buckets, outputs=[])


@dataclass(frozen=True)
class RecModel:
    """What the host needs of a recogniser: its label, dictionary (read from its file,
    cached per process) and, for a script model, the script it must read."""

    label: str
    path: Path
    script: re.Pattern[str] | None = None

    @property
    def charset(self) -> list[str]:
        return rec_charset(self.path)


def _work(page: Page, kind: type) -> Any:
    return page.work if isinstance(page.work, kind) else None


class PageStep:
    """A step that treats each page on its own."""

    def __call__(self, pages: list[Page]) -> list[Page]:
        return [self._page(page) for page in pages]

    def _page(self, page: Page) -> Page:
        raise NotImplementedError


@dataclass(frozen=True)
class DetInputs(PageStep):
    """Worker: scale, normalise and tile the page for the detector."""

    limit: int

    def _page(self, page: Page) -> Page:
        if min(page.image.shape[:2]) < MIN_SIDE:
            return replace(page, work=None)
        return replace(page, work=DetWork(det_input(page.image, self.limit)))


@dataclass(frozen=True)
class Detect:
    """Device: the detector over the tiles of the batch's pages."""

    det: DetFn
    batch_size: int

    def __call__(self, pages: list[Page]) -> list[Page]:
        todo = [i for i, page in enumerate(pages) if _work(page, DetWork) is not None]
        probs = detect([pages[i].work.input for i in todo], self.det, self.batch_size)
        out = list(pages)
        for i, p in zip(todo, probs, strict=True):
            work: DetWork = pages[i].work  # its tiles are not needed any more
            out[i] = replace(pages[i], work=DetWork(replace(work.input, tiles=()), p))
        return out


@dataclass(frozen=True)
class Lines(PageStep):
    """Worker: DB post-processing, line crops, the orientation classifier's inputs."""

    options: OcrOptions

    def _page(self, page: Page) -> Page:
        work: DetWork | None = _work(page, DetWork)
        if work is None:
            return page
        assert work.probs is not None
        o = self.options
        prob = stitch(work.input, work.probs)
        found = boxes_from_map(
            prob, work.input.plan.scale, o.det_thresh, o.box_thresh, o.unclip_ratio
        )
        boxes = np.array([box for box, _score in found], np.float32).reshape(-1, 4, 2)
        crops = [crop_line(page.image, box) for box in boxes]
        vertical = [crop.vertical for crop in crops]
        packed = PackedCrops.pack(crops)
        lines = LineWork(boxes, vertical, packed, cls_inputs(crops, LINE_BATCH))
        return replace(page, work=lines)


@dataclass(frozen=True)
class PerPage(PageStep):
    """Device: one model over each page's batches (never across pages: the recogniser's
    probabilities move in the last digits with the batch, and what a page reads must not
    depend on the other pages of the run)."""

    model: ArrayFn | BestFn

    def _page(self, page: Page) -> Page:
        work: LineWork | None = _work(page, LineWork)
        if work is None:
            return page
        outputs = [self.model(batch) for batch in work.batches]
        return replace(page, work=replace(work, outputs=outputs))


@dataclass(frozen=True)
class Turn(PageStep):
    """Worker: turn the crops found upside down; the first recogniser's inputs. The crops
    are kept only for the script models that reread some of them (``keep_crops``)."""

    keep_crops: bool = False

    def _page(self, page: Page) -> Page:
        work: LineWork | None = _work(page, LineWork)
        if work is None:
            return page
        assert work.crops is not None
        turned = turn_upside_down(work.crops.unpack(), work.outputs, LINE_BATCH)
        work = replace(work, crops=PackedCrops.pack(turned))
        work = work.next_rec(list(range(len(turned))))
        return replace(page, work=work if self.keep_crops else replace(work, crops=None))


@dataclass(frozen=True)
class Decode(PageStep):
    """Worker: the texts of the recogniser's answers (the first model's, or a script
    model's rereadings merged in); then the inputs of the next script model, if any."""

    model: RecModel
    first: bool
    then: RecModel | None = None  # the script model that rereads next

    def _page(self, page: Page) -> Page:
        work: LineWork | None = _work(page, LineWork)
        if work is None:
            return page
        n, label = len(work.vertical), self.model.label
        read = decode(n, work.buckets, work.outputs, self.model.charset)
        if self.first:
            texts, labels = read, [label] * n
        else:
            todo = sorted(i for idx in work.buckets for i in idx)
            again = [read[i] for i in todo]
            script = self.model.script
            texts, labels = merge_reread(work.texts, work.labels, todo, again, label, script)
        work = replace(work, texts=texts, labels=labels, batches=[], buckets=[], outputs=[])
        if self.then is not None:
            work = work.next_rec(to_reread(work.texts, self.then.script))
        return replace(page, work=work)


@dataclass(frozen=True)
class Blocks(PageStep):
    """Worker: the read lines grouped into blocks (sound effects kept or not); the page's
    ``blocks`` and ``source_lang``."""

    options: OcrOptions

    def _lang(self, detected: str | None) -> str | None:
        return detected if self.options.source_lang == "auto" else self.options.source_lang

    def _page(self, page: Page) -> Page:
        work: LineWork | None = _work(page, LineWork)
        if work is None:
            return replace(page, blocks=(), source_lang=self._lang(None), work=None)
        lines = []
        for box, vertical, (text, conf), label in zip(
            work.boxes, work.vertical, work.texts, work.labels, strict=True
        ):
            if not text.strip():
                continue  # a detection the recogniser reads nothing in: not text
            polygon = tuple((round(float(x), 1), round(float(y), 1)) for x, y in box)
            direction: Direction = "vertical" if vertical else "horizontal"
            lines.append(TextLine(polygon, text, round(conf, 4), direction, label))
        blocks, detected = build_blocks(lines, self.options.min_confidence, page.image)
        if self.options.sfx == "keep":
            blocks = keep_sfx(blocks, page.image)
        return replace(page, blocks=tuple(blocks), source_lang=self._lang(detected), work=None)
