"""Mask stage: the pixels to erase, from the polygons of the lines that will be translated.

Lines of blocks marked not to translate (noise, page numbers) are left in the image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from imgtrans.options import MaskOptions
from imgtrans.page import Page


def text_mask(page: Page, dilate: int) -> np.ndarray:
    """uint8 HxW, 255 where text of translatable blocks is, grown by ``dilate`` pixels."""
    mask = np.zeros((page.height, page.width), np.uint8)
    for block in page.blocks:
        if not block.translate:
            continue
        for line in block.lines:
            pts = np.round(np.asarray(line.polygon, np.float32)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 255)
    if dilate > 0 and mask.any():
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        mask = np.asarray(cv2.dilate(mask, kernel), np.uint8)
    return mask


def mask(pages: list[Page], options: MaskOptions) -> list[Page]:
    """Fill ``page.mask`` for every page (needs ``page.blocks`` from the ocr stage)."""
    return [replace(page, mask=text_mask(page, options.dilate)) for page in pages]


@dataclass(frozen=True)
class Mask:
    """The mask stage as a callable ``list[Page] -> list[Page]``."""

    options: MaskOptions = MaskOptions()

    def __call__(self, pages: list[Page]) -> list[Page]:
        return mask(pages, self.options)
