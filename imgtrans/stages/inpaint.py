"""Inpaint stage: erase the masked text, block by block.

Each block takes one of three paths, recorded in the sidecar (``inpaint_path``):

- ``flat``: the ring of background pixels around the block's text is flat (per-channel
  standard deviation below ``flat_std``, e.g. a white balloon): fill with its median
  colour. No model call; most manga balloons go this way.
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

log = logging.getLogger(__name__)

RING = 6  # px of background measured around the mask
CROP_MARGIN = 16  # px of context around a block for the classical inpainter


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


def ring_stats(image: np.ndarray, mask_crop: np.ndarray, box: BBox) -> tuple[np.ndarray, float]:
    """Median colour and max per-channel std of the background ring around the mask."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * RING + 1, 2 * RING + 1))
    ring = (cv2.dilate(mask_crop, kernel) > 0) & (mask_crop == 0)
    crop = image[box.y0 : box.y1, box.x0 : box.x1]
    pixels = crop[ring]
    if len(pixels) < 16:
        return np.zeros(3, np.uint8), float("inf")
    return np.median(pixels, axis=0).astype(np.uint8), float(pixels.std(axis=0).max())


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
                colour, std = ring_stats(page.image, mcrop, box)
                if std < self.options.flat_std:
                    view = cleans[p][box.y0 : box.y1, box.x0 : box.x1]
                    view[mcrop > 0] = colour
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
