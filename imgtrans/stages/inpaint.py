"""Inpaint stage: erase the masked text, block by block.

Each block takes one of three paths, recorded in the sidecar (``inpaint_path``):

- ``flat``: the background right around the glyphs is one flat colour (a balloon,
  a caption box): the glyphs are filled with it, sparing ink that continues outside the
  mask (the balloon's outline). No model call; most manga balloons go this way.
- ``lama``: LaMa on a crop around the block, batched across pages (when weights exist).
- ``opencv``: OpenCV's TELEA inpainting on the crop (the classical fallback).

The stage splits into steps (:meth:`Inpainter.steps`): the fills, crops and pastes are host
work an executor runs in its workers; only LaMa's generator runs on the device.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from imgtrans.models.lama_crops import CropPlan, LamaCrop
from imgtrans.options import InpaintOptions
from imgtrans.page import BBox, Page, TextBlock
from imgtrans.stages import Step, run_steps
from imgtrans.stages.mask import polygon_mask

log = logging.getLogger(__name__)

RING = 6  # px of background measured around the mask
CROP_MARGIN = 16  # px of context around a block for the classical inpainter
FLAT_SHARE = 0.9  # share of the band around the glyphs that must match the background
CORE_DEPTH = 0.5  # the mask's core: deeper than half its greatest depth (the middle of the line)


def block_mask(page: Page, block: TextBlock, grow: int) -> tuple[BBox, np.ndarray]:
    """The page mask restricted to ``block``'s box (grown), as (box, uint8 crop 0/255)."""
    box = block.bbox.grow(grow, page.width, page.height)
    assert page.mask is not None
    return box, page.mask[box.y0 : box.y1, box.x0 : box.x1]


@dataclass(frozen=True)
class FlatFill:
    """Where and with what colour to erase a block on a flat background."""

    colour: np.ndarray  # uint8 RGB
    erase: np.ndarray  # bool, crop-sized: glyphs and their anti-aliased edge


def flat_background(
    crop: np.ndarray, mask_crop: np.ndarray, tol: float, area: np.ndarray | None = None
) -> FlatFill | None:
    """A :class:`FlatFill` when the text sits on a flat colour (a balloon), else None.

    ``mask_crop`` (uint8 0/255) marks the pixels to erase, ``area`` (bool) the block's
    polygons (default: the mask itself). The background colour is the median of the
    area's unmasked pixels (or of the whole area when the mask covers it). Ink is
    what differs from it by more than ``3 * tol``; ink that continues outside the mask is the
    balloon's outline or the picture and is never erased, so a mask that reaches over a snug
    balloon's border costs nothing; it must not reach the mask's core, where it would touch
    the glyphs (text over art). The background counts as flat when a band 3-4 px away
    from the glyphs (past their anti-aliasing) matches the colour: ``FLAT_SHARE`` of it within
    ``3 * tol`` and a standard deviation below ``tol``. Screentone and gradients fail that.
    """
    masked = mask_crop > 0
    inside = masked if area is None else (area | masked)
    free = inside & ~masked
    colour = np.median(crop[free if free.sum() >= 16 else inside], axis=0)
    ink = far_from(crop, colour, 3 * tol).astype(np.uint8)
    count, labels = cv2.connectedComponents(ink, connectivity=8)
    crossing = np.zeros(count, bool)  # components that reach outside the mask
    crossing[labels[~inside & (ink > 0)]] = True
    crossing[0] = False
    structure = crossing[labels]
    glyphs = (ink > 0) & ~structure
    # Structure may come in at the mask's edges (a snug balloon's border, the art beyond
    # it) but not through its core: there it would be touching the glyphs (text over art).
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    core = depth > CORE_DEPTH * float(depth.max())
    if (structure & core).sum() > 0.005 * core.sum():
        return None
    if not glyphs.any():
        return FlatFill(colour.astype(np.uint8), np.zeros_like(inside))
    near = cv2.dilate(glyphs.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    band = (cv2.dilate(glyphs.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0) & ~near & (ink == 0)
    band &= inside
    pixels = crop[band].astype(np.float32)
    if len(pixels) < 16:
        return None
    close = np.abs(pixels - colour).max(axis=1) <= 3 * tol
    if close.mean() < FLAT_SHARE or float(pixels[close].std(axis=0).max()) >= tol:
        return None
    keep = cv2.dilate(structure.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return FlatFill(colour.astype(np.uint8), masked & ~keep)


def far_from(pixels: np.ndarray, colour: np.ndarray, limit: float) -> np.ndarray:
    """bool ``...``: where a uint8 ``... x 3`` pixel differs from ``colour`` by more than
    ``limit`` in some channel; ``np.abs(pixels - colour).max(-1) > limit`` exactly, through
    a 256-entry table per channel instead of float arithmetic over every pixel."""
    levels = np.arange(256, dtype=np.float64)
    far = np.abs(levels[None, :] - np.asarray(colour, np.float64)[:, None]) > limit
    out: np.ndarray = far[0][pixels[..., 0]] | far[1][pixels[..., 1]] | far[2][pixels[..., 2]]
    return out


@dataclass(frozen=True)
class InpaintWork:
    """A page between the inpainting steps: its clean image so far (flat fills done), the
    path each erased block took, and its LaMa crops, their inputs and predictions."""

    clean: np.ndarray
    paths: dict[int, str]
    crops: list[LamaCrop] = field(default_factory=list)
    inputs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    preds: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class PlanErase:
    """Worker: flat fills, the classical inpainter (without LaMa), LaMa's crops cut."""

    options: InpaintOptions
    lama: CropPlan | None  # None: OpenCV erases what the flat fill cannot

    def __call__(self, pages: list[Page]) -> list[Page]:
        return [self._page(page) for page in pages]

    def _page(self, page: Page) -> Page:
        if page.mask is None:
            raise ValueError(f"inpaint needs masks: run the mask stage first ({page.rel_path})")
        clean = page.image.copy()
        paths: dict[int, str] = {}
        model: list[tuple[int, BBox]] = []  # (block id, box) for the model
        for block in page.blocks:
            if not block.translate:
                continue
            box, mcrop = block_mask(page, block, RING + CROP_MARGIN)
            if not mcrop.any():
                continue
            view = clean[box.y0 : box.y1, box.x0 : box.x1]
            area = polygon_mask(block, box)
            fill = flat_background(view, mcrop, self.options.flat_std, area)
            if fill is not None:
                view[fill.erase] = fill.colour
                paths[block.id] = "flat"
            else:
                model.append((block.id, box))
        if self.lama is None:
            for block_id, box in model:
                _telea(clean, page.mask, box)
                paths[block_id] = "opencv"
            return replace(page, work=InpaintWork(clean, paths))
        for block_id, _ in model:
            paths[block_id] = "lama"
        crops = self.lama.plan([clean], [page.mask], [[box for _, box in model]])
        inputs = [self.lama.inputs(clean, page.mask, crop) for crop in crops]
        return replace(page, work=InpaintWork(clean, paths, crops, inputs))


def _telea(clean: np.ndarray, mask: np.ndarray, box: BBox) -> None:
    """OpenCV's TELEA inpainting of the masked pixels of ``box`` (in place)."""
    crop = np.ascontiguousarray(clean[box.y0 : box.y1, box.x0 : box.x1])
    mcrop = mask[box.y0 : box.y1, box.x0 : box.x1]
    filled = cv2.inpaint(crop, mcrop, 3, cv2.INPAINT_TELEA)
    view = clean[box.y0 : box.y1, box.x0 : box.x1]
    view[mcrop > 0] = filled[mcrop > 0]


@dataclass(frozen=True)
class Generate:
    """Device: LaMa over the crops of every page of the batch, batched by shape."""

    lama: Any  # LamaInpainter

    def __call__(self, pages: list[Page]) -> list[Page]:
        works: list[InpaintWork] = [page.work for page in pages]
        crops = [crop for work in works for crop in work.crops]
        inputs = [pair for work in works for pair in work.inputs]
        preds = iter(self.lama.generate(crops, inputs) if crops else [])
        return [
            replace(p, work=replace(w, inputs=[], preds=[next(preds) for _ in w.crops]))
            for p, w in zip(pages, works, strict=True)
        ]


@dataclass(frozen=True)
class Paste:
    """Worker: LaMa's predictions pasted; the page's ``clean`` and each block's path."""

    lama: CropPlan | None

    def __call__(self, pages: list[Page]) -> list[Page]:
        return [self._page(page) for page in pages]

    def _page(self, page: Page) -> Page:
        work: InpaintWork = page.work
        clean = work.clean
        if work.crops:
            assert self.lama is not None and page.mask is not None
            clean = clean.copy()
            for crop, pred in zip(work.crops, work.preds, strict=True):
                self.lama.paste(clean, page.mask, crop, pred)
        blocks = tuple(
            replace(b, inpaint_path=work.paths[b.id]) if b.id in work.paths else b
            for b in page.blocks
        )
        return replace(page, clean=clean, blocks=blocks, work=None)


class Inpainter:
    """Erases text; holds the LaMa runner when one is loaded (``lama`` may be None)."""

    def __init__(self, options: InpaintOptions, lama: Any | None = None) -> None:
        self.options = options
        self.lama = lama

    @property
    def name(self) -> str:
        return "lama" if self.lama is not None else "opencv"

    def __call__(self, pages: list[Page]) -> list[Page]:
        for page in pages:
            if page.mask is None:
                raise ValueError(f"inpaint needs masks: run the mask stage first ({page.rel_path})")
        return run_steps(self.steps(), pages)

    def steps(self) -> tuple[Step, ...]:
        """Host work (flat fills, crops, pastes) in workers; LaMa, if any, on the device."""
        geometry = self.lama.geometry if self.lama is not None else None
        plan = Step(PlanErase(self.options, geometry), device=False)
        paste = Step(Paste(geometry), device=False)
        if self.lama is None:
            return (plan, paste)
        return (plan, Step(Generate(self.lama), device=True), paste)
