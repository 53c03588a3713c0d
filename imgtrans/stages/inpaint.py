"""Inpaint stage: erase the masked text, block by block.

Each block takes one of three paths, recorded in the sidecar (``inpaint_path``):

- ``flat``: the background right around the glyphs is one flat colour (a balloon,
  a caption box): the glyphs are filled with it, sparing ink that continues outside the
  mask (the balloon's outline). No model call; most manga balloons go this way.
- ``lama``: LaMa on a crop around the block, batched across pages (when weights exist).
- ``opencv``: OpenCV's TELEA inpainting on the crop (the classical fallback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from imgtrans.options import InpaintOptions
from imgtrans.page import BBox, Page, TextBlock
from imgtrans.stages.mask import polygon_mask

log = logging.getLogger(__name__)

RING = 6  # px of background measured around the mask
CROP_MARGIN = 16  # px of context around a block for the classical inpainter
FLAT_SHARE = 0.9  # share of the band around the glyphs that must match the background
CORE_DEPTH = 0.5  # the mask's core: deeper than half its greatest depth (the middle of the line)


@dataclass(frozen=True)
class _Region:
    page: int
    block: int
    box: BBox  # crop around the block's mask


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
        cleans = [page.image.copy() for page in pages]
        paths: list[dict[int, str]] = [{} for _ in pages]
        model_regions: list[_Region] = []
        for p, page in enumerate(pages):
            for block in page.blocks:
                if not block.translate:
                    continue
                box, mcrop = block_mask(page, block, RING + CROP_MARGIN)
                if not mcrop.any():
                    continue
                view = cleans[p][box.y0 : box.y1, box.x0 : box.x1]
                area = polygon_mask(block, box)
                fill = flat_background(view, mcrop, self.options.flat_std, area)
                if fill is not None:
                    view[fill.erase] = fill.colour
                    paths[p][block.id] = "flat"
                else:
                    model_regions.append(_Region(p, block.id, box))
        self._run_model(pages, cleans, model_regions, paths)
        out = []
        for page, clean, page_paths in zip(pages, cleans, paths, strict=True):
            blocks = tuple(
                replace(b, inpaint_path=page_paths[b.id]) if b.id in page_paths else b
                for b in page.blocks
            )
            out.append(replace(page, clean=clean, blocks=blocks))
        return out

    def _run_model(
        self,
        pages: list[Page],
        cleans: list[np.ndarray],
        regions: list[_Region],
        paths: list[dict[int, str]],
    ) -> None:
        if not regions:
            return
        if self.lama is not None:
            per_page: list[list[BBox]] = [[] for _ in pages]
            for r in regions:
                per_page[r.page].append(r.box)
                paths[r.page][r.block] = "lama"
            masks = [p.mask for p in pages]
            done = self.lama.inpaint(cleans, masks, per_page)
            for i, img in enumerate(done):
                cleans[i] = img
            return
        for r in regions:
            page = pages[r.page]
            assert page.mask is not None
            box = r.box
            crop = np.ascontiguousarray(cleans[r.page][box.y0 : box.y1, box.x0 : box.x1])
            mcrop = page.mask[box.y0 : box.y1, box.x0 : box.x1]
            filled = cv2.inpaint(crop, mcrop, 3, cv2.INPAINT_TELEA)
            view = cleans[r.page][box.y0 : box.y1, box.x0 : box.x1]
            view[mcrop > 0] = filled[mcrop > 0]
            paths[r.page][r.block] = "opencv"
